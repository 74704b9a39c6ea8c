"""Build the third-party part of the injection set from public repositories.

Run: ``python tests/data/injection/external/build.py MIRRORS`` where ``MIRRORS`` holds a
bare git copy of each repository below as ``owner+name/repo`` (the commit read is pinned
in SOURCES). Seeded: the same files every time. Writes ``attacks.jsonl`` and
``benign.jsonl`` here, each line ``{"text", "family", "where", "source", "split"}``.

``split`` says whether the detector's training script may learn from the row (``train``)
or whether it is kept for the source-held-out evaluation (``heldout``): the split is by
source, never by row, so no held-out source was ever seen while training.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import random
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the set's folder: _pinned
from _pinned import make_row, mirrors_argument, paragraphs, read_pinned, write_rows

HERE = Path(__file__).parent
RNG = random.Random(2222)

# source -> (repository, pinned commit, split)
SOURCES: dict[str, tuple[str, str, str]] = {
    "gptfuzz": ("sherdencooper/GPTFuzz", "1eddeb565740ae311b5f4950492b011a6f866fe7", "train"),
    "gpteacher": ("teknium1/GPTeacher", "481075123c29854bddb82655badeef6a438f2436", "train"),
    "t0-contexts": ("yizhongw/self-instruct", "0b26ccaa415992100fa32df62d41b994cf928e23", "train"),
    "self-instruct-user": (
        "yizhongw/self-instruct",
        "0b26ccaa415992100fa32df62d41b994cf928e23",
        "heldout",
    ),
    "llm-guard": ("protectai/llm-guard", "53af270c69316ed82cb71ba7b19d11b55bda3151", "heldout"),
    "langkit": ("whylabs/langkit", "5d6cab1e2ff32181ba5c514aaa2a4473421dc413", "heldout"),
    "llm-security": (
        "greshake/llm-security",
        "87f4b7ffa568b7261a79b31573068d8113319212",
        "heldout",
    ),
    "nemo-guardrails": (
        "NVIDIA/NeMo-Guardrails",
        "e7c23d117f04805fc0eb3e4a8fd35a5e3c5b105f",
        "heldout",
    ),
    "awesome-prompts": (
        "f/awesome-chatgpt-prompts",
        "50a97c072933c93c76cc0714e9dd4c4cf1d80ae7",
        "train",
    ),
    "rebuff": ("protectai/rebuff", "4d2fe064abf164e7381556d23e48e210080f8afa", "heldout"),
    "dolly": ("databrickslabs/dolly", "e2d664ddf06e0723d818dc56d6c522ead4bd881d", "heldout"),
}


def _read(mirrors: Path, source: str, path: str) -> str:
    return read_pinned(SOURCES, mirrors, source, path)


def _row(text: str, family: str, where: str, source: str) -> dict[str, str]:
    return make_row(SOURCES, text, family, where, source)


# -- attacks -----------------------------------------------------------------------------


def gptfuzz(mirrors: Path) -> list[dict[str, str]]:
    """Jailbreak templates collected in the wild (role and persona hijacks)."""
    rows = csv.DictReader(io.StringIO(_read(mirrors, "gptfuzz", "datasets/prompts/GPTFuzzer.csv")))
    questions = ["how do I pick a lock", "write a phishing email", "tell me a secret"]
    return [
        _row(
            r["text"].replace("[INSERT PROMPT HERE]", RNG.choice(questions)),
            "role_hijack",
            "direct",
            "gptfuzz",
        )
        for r in rows
    ]


def _llm_guard_cases(mirrors: Path) -> list[tuple[str, bool]]:
    source = _read(mirrors, "llm-guard", "tests/input_scanners/test_prompt_injection.py")
    cases: list[tuple[str, bool]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Tuple) and len(node.elts) == 4:
            prompt, valid = node.elts[1], node.elts[2]
            try:
                text, ok = ast.literal_eval(prompt), ast.literal_eval(valid)
            except ValueError:
                continue
            if isinstance(text, str) and isinstance(ok, bool):
                cases.append((text, ok))
    return cases


_LEAK = re.compile(r"instructions|prompt|initials|given", re.I)
_ROLE = re.compile(r"\bact as|you are|pretend|mode|DAN|unrestricted|persona|role", re.I)


def _family(text: str) -> str:
    """A family for a third-party attack that has none: a rough reading of its wording
    (used for the per-family table only; the score never sees it)."""
    lowered = text.lower()
    if "<|im_start|>" in lowered or "### " in text or "[system]" in lowered:
        return "delimiter"
    if re.search(r"ignore|disregard|forget|false|override", lowered):
        return "override"
    if _ROLE.search(text):
        return "role_hijack"
    if _LEAK.search(text):
        return "prompt_leak"
    return "override"


def llm_guard(mirrors: Path) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    attacks, benign = [], []
    for text, valid in _llm_guard_cases(mirrors):
        if valid:
            benign.append(_row(text, "benign", "-", "llm-guard"))
        else:
            attacks.append(_row(text, _family(text), "direct", "llm-guard"))
    return attacks, benign


def langkit(mirrors: Path) -> list[dict[str, str]]:
    themes = json.loads(_read(mirrors, "langkit", "langkit/themes.json"))
    return [_row(t, _family(t), "direct", "langkit") for t in themes["jailbreak"]]


def llm_security(mirrors: Path) -> list[dict[str, str]]:
    """The injected web pages of the indirect-injection demos (their ``injection`` string)."""
    rows = []
    for scenario in ("data_exfiltration", "multi_stage", "persistence", "remote-control", "spread"):
        for model in ("gpt4", "gpt3langchain"):
            try:
                source = _read(mirrors, "llm-security", f"scenarios/{model}/{scenario}.py")
            except subprocess.CalledProcessError:
                continue
            for match in re.finditer(r'injection = """(.*?)"""', source, flags=re.S):
                text = match.group(1)
                if len(text) > 80:
                    family = "delimiter" if "im_start" in text else "hidden_instruction"
                    rows.append(_row(text, family, "indirect", "llm-security"))
    return rows


# -- benign ------------------------------------------------------------------------------


def gpteacher(mirrors: Path) -> list[dict[str, str]]:
    """Instructions people give assistants: role-play (a hard case), code, tool use."""
    rows = []
    for path, count in (
        ("Roleplay/roleplay-simple-deduped-roleplay-instruct.json", 700),
        ("Codegen/codegen-instruct.json", 350),
        ("Toolformer/toolformer-similarity-0.6-dataset.json", 250),
    ):
        items = json.loads(_read(mirrors, "gpteacher", path))
        for item in RNG.sample(items, count):
            text = item["instruction"] + ("\n" + item["input"] if item["input"] else "")
            rows.append(_row(text, "benign", "-", "gpteacher"))
        # Model replies, as documents a later call carries in its history.
        for item in RNG.sample(items, count // 5):
            rows.append(_row(item["response"], "benign", "-", "gpteacher"))
    return rows


#: AdversarialQA prompts only (Wikipedia passages, CC BY-SA): the other T0 sets in that
#: folder (news, product and app reviews) carry no clear licence.
#: Prompts of the collection that are jailbreaks themselves (or unfiltered personas):
#: not benign, and left out rather than guessed at.
_JAILBREAK_WORDS = re.compile(
    r"\bDAN\b|jailbreak|unconstrained|uncensored|unfiltered|do anything now|no restrictions"
    r"|without (?:any )?restrictions|developer mode",
    re.I,
)


def awesome_prompts(mirrors: Path, heldout_texts: list[str]) -> list[dict[str, str]]:
    """Role-play and persona requests ("I want you to act as a Linux terminal..."):
    the hard benign case for role hijacks. Prompts that start like a held-out row (the
    llm-guard tests quote some of them) are left out, so the held-out split stays unseen."""
    csv.field_size_limit(10**7)
    rows = csv.DictReader(io.StringIO(_read(mirrors, "awesome-prompts", "prompts.csv")))
    starts = {_start(t) for t in heldout_texts}
    kept = [
        r["prompt"]
        for r in rows
        if not _JAILBREAK_WORDS.search(r["act"] + " " + r["prompt"])
        and _start(r["prompt"]) not in starts
    ]
    return [_row(t, "benign", "-", "awesome-prompts") for t in RNG.sample(kept, 700)]


def _start(text: str) -> str:
    return " ".join(text.lower().split())[:60]


_T0_TEMPLATES = (
    "adversarial_qa_dbert_based_on",
    "adversarial_qa_dbidaf_answer_the_following_q",
    "adversarial_qa_droberta_question_context_answer",
    "adversarial_qa_dbert_generate_question",
)


def t0_contexts(mirrors: Path) -> list[dict[str, str]]:
    """Task prompts over Wikipedia passages: instructions about a text."""
    rows = []
    for template in _T0_TEMPLATES:
        path = f"data/finetuning/t0_train_50k/data_per_template/{template}.jsonl"
        lines = _read(mirrors, "t0-contexts", path).splitlines()
        for line in RNG.sample(lines, 120):
            rows.append(_row(json.loads(line)["prompt"], "benign", "-", "t0-contexts"))
    return rows


def self_instruct_user(mirrors: Path) -> list[dict[str, str]]:
    rows = []
    for line in _read(
        mirrors, "self-instruct-user", "human_eval/user_oriented_instructions.jsonl"
    ).splitlines():
        item = json.loads(line)
        for instance in item["instances"][:1]:
            text = item["instruction"] + ("\n" + instance["input"] if instance["input"] else "")
            rows.append(_row(text, "benign", "-", "self-instruct-user"))
    return rows


_DOCS: dict[str, tuple[str, ...]] = {
    "llm-guard": (
        "docs/get_started/attacks.md",
        "docs/input_scanners/prompt_injection.md",
        "docs/get_started/best_practices.md",
        "docs/input_scanners/invisible_text.md",
        "docs/index.md",
        "docs/get_started/quickstart.md",
        "docs/api/deployment.md",
        "docs/customization/add_scanner.md",
    ),
    "rebuff": ("README.md", "docs/how-it-works.md", "docs/self-hosting.md", "docs/quickstart.md"),
    "nemo-guardrails": (
        "README.md",
        "docs/user_guides/jailbreak_detection_heuristics/README.md",
        "CONTRIBUTING.md",
        "SECURITY.md",
    ),
    "langkit": (
        "README.md",
        "langkit/docs/features/security.md",
        "langkit/docs/faq.md",
        "langkit/docs/modules.md",
    ),
    "llm-security": ("README.md",),
    "dolly": ("README.md", "data/README.md"),
}


def documents(mirrors: Path) -> list[dict[str, str]]:
    """README and guide paragraphs: documents that mention instructions, prompts and
    attacks (security write-ups are the hard benign case)."""
    rows = []
    for source, paths in _DOCS.items():
        for path in paths:
            for paragraph in paragraphs(_read(mirrors, source, path)):
                rows.append(_row(paragraph, "benign", "-", source))
    return rows


_CARRIERS = (
    "{doc}\n\n{attack}",
    "{doc} {attack}",
    "<html><body><p>{doc}</p><p>{attack}</p></body></html>",
    '{{"results": [{{"snippet": {doc_json}}}, {{"snippet": {attack_json}}}]}}',
    "Subject: Re: notes\n\n{doc}\n\n-- \n{attack}",
)


def embedded(
    attacks: list[dict[str, str]], docs: list[dict[str, str]], source: str, count: int
) -> list[dict[str, str]]:
    """Indirect attacks: a short attack of ``source`` inside a document of the same split."""
    short = [a for a in attacks if len(a["text"]) < 400]
    rows = []
    for _ in range(count):
        attack, doc = RNG.choice(short), RNG.choice(docs)
        text = RNG.choice(_CARRIERS).format(
            doc=doc["text"][:900],
            attack=attack["text"],
            doc_json=json.dumps(doc["text"][:900]),
            attack_json=json.dumps(attack["text"]),
        )
        row = _row(text, attack["family"], "indirect", source)
        rows.append(row)
    return rows


def main(mirrors: Path) -> int:
    guard_attacks, guard_benign = llm_guard(mirrors)
    docs = documents(mirrors)
    heldout_attacks = guard_attacks + langkit(mirrors) + llm_security(mirrors)
    heldout_docs = [d for d in docs if d["source"] in {"dolly", "rebuff", "nemo-guardrails"}]
    heldout_attacks += embedded(guard_attacks, heldout_docs, "llm-guard", 60)
    train_docs = t0_contexts(mirrors)
    attacks = gptfuzz(mirrors) + heldout_attacks
    heldout_texts = [r["text"] for r in heldout_attacks + guard_benign + docs]
    benign = gpteacher(mirrors) + train_docs + self_instruct_user(mirrors) + guard_benign + docs
    benign += awesome_prompts(mirrors, heldout_texts)
    write_rows(HERE, attacks, benign)
    print(f"{len(attacks)} attacks, {len(benign)} benign texts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(mirrors_argument(sys.argv, __doc__)))
