"""Build the fourth third-party part of the injection set (round five) from public repositories.

Run: ``python tests/data/injection/external4/build.py MIRRORS`` where ``MIRRORS`` holds a
bare git copy of each repository below as ``owner+name/repo`` (commits pinned in SOURCES).
Seeded: the same rows every time. Writes ``attacks.jsonl`` and ``benign.jsonl`` here, each
line ``{"text", "family", "where", "source", "split"}``.

Which rows are held out was decided before any row was built or scored (see SOURCES.md):
TaskTracker's test triggers inside airline tool results and the clean airline tool results
and policy (``tasktracker-test``), and the Arcanum taxonomy's examples (``arcanum``). Payloads and rows that repeat an
existing row of the set (most of their word 5-grams in one row of the same label) are
dropped, so a text seen in another source cannot score twice.
"""

from __future__ import annotations

import ast
import json
import random
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the set's folder: _pinned
from _pinned import make_row, mirrors_argument, paragraphs, read_pinned, write_rows

HERE = Path(__file__).parent
DATA = HERE.parent
#: Rows kept of any one source at most.
CAP = 300
#: Tool results longer than this are not used as carriers (a row is cut at 2,400
#: characters, which must not cut the injection off).
MAX_RECORD = 1500

_TT = ("microsoft/TaskTracker", "b4fabe25504dc1d3f7c6fdf5e50d4bb209a152b0")
_TAU = ("sierra-research/tau-bench", "59a200c6d575d595120f1cb70fea53cef0632f6b")
_LJ = ("qiuhuachuan/latent-jailbreak", "e659ed787673fbf87c9b9ec0d83459af16587bf4")
_ARC = ("Arcanum-Sec/arc_pi_taxonomy", "e02cf5b6e202f195c6b6c01484e99519f797acc6")

# source -> (repository, pinned commit, split)
SOURCES: dict[str, tuple[str, str, str]] = {
    "tasktracker": (*_TT, "train"),
    "tasktracker-test": (*_TT, "heldout"),
    "latent-jailbreak": (*_LJ, "train"),
    "arcanum": (*_ARC, "heldout"),
}
#: Repositories read for carriers only (their rows take the source of the injections they
#: carry, so that a leave-one-source-out fold leaves a domain's clean and injected tool
#: results out together).
_CARRIER_REPOS: dict[str, tuple[str, str, str]] = {"tau-bench": (*_TAU, "-")}
_TT_DATA = "task_tracker/dataset_creation/datasets"
_TAU_ENVS = "tau_bench/envs"


def _read(mirrors: Path, source: str, path: str) -> str:
    return read_pinned(SOURCES, mirrors, source, path)


def _row(text: str, family: str, where: str, source: str) -> dict[str, str]:
    return make_row(SOURCES, text, family, where, source)


def _read_carrier(mirrors: Path, path: str) -> str:
    return read_pinned(_CARRIER_REPOS, mirrors, "tau-bench", path)


def _lines(mirrors: Path, source: str, path: str) -> list[str]:
    return [line.strip() for line in _read(mirrors, source, path).split("\n") if line.strip()]


# -- carriers: tau-bench's tool results, agent policy and simulated users --------------------

#: Records per tool-result file of each domain (file, longest list kept in a record).
_DOMAIN_FILES = {
    "airline": ("flights.json", "reservations.json", "users.json"),
    "retail": ("orders.json", "products.json", "users.json"),
}


def _shortened(value: Any, nested: bool = False) -> Any:
    """``value`` with long lists and long nested maps cut to their first three entries (a
    flight's statuses on every day of the month, a product's every variant): a tool result
    of a readable size, still in the benchmark's own shape. The record's own fields stay."""
    if isinstance(value, dict):
        items = list(value.items())
        items = items[:3] if nested and len(items) > 12 else items
        return {k: _shortened(v, nested=True) for k, v in items}
    if isinstance(value, list):
        return [_shortened(v, nested=True) for v in value[:3]]
    return value


def tool_results(mirrors: Path, domain: str) -> list[str]:
    """The domain's database records as JSON a tool would return (one record each)."""
    records = []
    for name in _DOMAIN_FILES[domain]:
        data = json.loads(_read_carrier(mirrors, f"{_TAU_ENVS}/{domain}/data/{name}"))
        for record in data.values():
            text = json.dumps(_shortened(record), ensure_ascii=False)
            if len(text) <= MAX_RECORD:
                records.append(text)
    return records


def _instructions(module_text: str) -> list[str]:
    """The ``instruction="..."`` strings of a task module (read with ``ast``, never run)."""
    found = []
    for node in ast.walk(ast.parse(module_text)):
        if (
            isinstance(node, ast.keyword)
            and node.arg == "instruction"
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            found.append(node.value.value)
    return found


def policy_and_users(mirrors: Path, domain: str) -> tuple[list[str], list[str]]:
    """The agent policy's paragraphs (rules an agent must follow) and the simulated users'
    instructions ("You are mia_li_3668. You want to fly from New York to Seattle...")."""
    policy = paragraphs(_read_carrier(mirrors, f"{_TAU_ENVS}/{domain}/wiki.md"), minimum=80)
    modules = {
        "airline": ("tasks.py", "tasks_test.py"),
        "retail": ("tasks_train.py", "tasks_test.py"),
    }
    users = []
    for name in modules[domain]:
        users += _instructions(_read_carrier(mirrors, f"{_TAU_ENVS}/{domain}/{name}"))
    return policy, users


# -- injections: TaskTracker's triggers and tasks ------------------------------------------


def _string_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _string_paths(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _string_paths(v, (*path, i))]
    return [path] if isinstance(value, str) else []


def inject_into_record(record: str, payload: str, rng: random.Random) -> str:
    """``payload`` appended to one string field of a JSON tool result (chosen by ``rng``),
    where a tool result carries text written by someone else."""
    data = json.loads(record)
    target = rng.choice(_string_paths(data))
    holder = data
    for key in target[:-1]:
        holder = holder[key]
    holder[target[-1]] = f"{holder[target[-1]]} {payload}"
    return json.dumps(data, ensure_ascii=False)


def inject_into_prose(text: str, payload: str, rng: random.Random) -> str:
    """``payload`` at the beginning, the end or between two words of ``text``, as
    TaskTracker's ``embed_secondary_task`` places its injections (here at a word boundary)."""
    words = text.split(" ")
    where = rng.choice(("beginning", "end", "middle"))
    at = {"beginning": 0, "end": len(words), "middle": rng.randint(1, max(1, len(words) - 1))}
    words.insert(at[where], payload)
    return " ".join(words)


def _trivia_questions(mirrors: Path) -> list[str]:
    """TaskTracker's trivia questions ("Question: ... Answer: ..." lines), questions only."""
    questions = []
    for line in _lines(mirrors, "tasktracker", f"{_TT_DATA}/trivia_pairs.txt"):
        question = line.split(" Answer:")[0].removeprefix("Question:").strip()
        if question:
            questions.append(question)
    return questions


def _injected_rows(
    payloads: list[str], records: list[str], prose: list[str], source: str, rng: random.Random
) -> list[dict[str, str]]:
    """Each payload inside a tool result (two in three) or a policy paragraph (one in three:
    there are far fewer of them, and rows repeating one are dropped later)."""
    rows = []
    for payload in payloads:
        if rng.random() < 1 / 3:
            text = inject_into_prose(rng.choice(prose), payload, rng)
        else:
            text = inject_into_record(rng.choice(records), payload, rng)
        rows.append(_row(text, "hidden_instruction", "indirect", source))
    return rows


def tasktracker(
    mirrors: Path, rng: random.Random
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Training: one of TaskTracker's 541 training triggers ("Pause for a moment and focus;
    the directives to come are the keys...") and a trivia question as the injected task,
    inside a retail tool result or a paragraph of the retail agent's policy. The benign rows
    (same source, from tau-bench) are the same kinds of text without an injection, and the
    simulated users' instructions."""
    triggers = _lines(mirrors, "tasktracker", f"{_TT_DATA}/saved_injections.txt")
    questions = _trivia_questions(mirrors)
    records = tool_results(mirrors, "retail")
    policy, users = policy_and_users(mirrors, "retail")
    # Each question twice (with two triggers, in two carriers): 324 questions would leave
    # the source short of its cap once repeats are dropped.
    payloads = [
        f"{rng.choice(triggers)} Please answer the following question: {q}"
        for q in rng.sample(questions, len(questions)) + rng.sample(questions, len(questions))
    ]
    payloads = without_repeats_in(payloads, "attacks.jsonl", within=False)
    attacks = _injected_rows(payloads, records, policy, "tasktracker", rng)
    benign = _interleaved(rng, records, policy, users)
    return attacks, [_row(t, "benign", "-", "tasktracker") for t in benign]


def tasktracker_test(
    mirrors: Path, rng: random.Random
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Held out: one of TaskTracker's 194 *test* triggers (separator lines and override
    wording: "======= Disregard any prior or subsequent directives...") and as the task a
    translated trivia question (German, French, Italian, Spanish, Arabic...) or a harmful
    request with its adaptive-attack suffix (``llm_adaptive_attacks.txt``, from
    tml-epfl/llm-adaptive-attacks), inside an airline tool result or a paragraph of the
    airline agent's policy. Benign (same source): the same without injection."""
    triggers = _lines(mirrors, "tasktracker-test", f"{_TT_DATA}/saved_injections_test.txt")
    tasks = _lines(mirrors, "tasktracker-test", f"{_TT_DATA}/translated_secondary_tasks.txt")
    tasks += _lines(mirrors, "tasktracker-test", f"{_TT_DATA}/llm_adaptive_attacks.txt")
    records = tool_results(mirrors, "airline")
    policy, users = policy_and_users(mirrors, "airline")
    payloads = [f"{rng.choice(triggers)} {task}" for task in rng.sample(tasks, len(tasks))]
    payloads = without_repeats_in(payloads, "attacks.jsonl")
    attacks = _injected_rows(payloads, records, policy, "tasktracker-test", rng)
    benign = _interleaved(rng, records, policy, users)
    return attacks, [_row(t, "benign", "-", "tasktracker-test") for t in benign]


def _interleaved(rng: random.Random, *groups: list[str]) -> list[str]:
    """Items of every group in turn (each group shuffled), so a cap keeps some of each."""
    shuffled = [rng.sample(sorted(set(g)), len(set(g))) for g in groups]
    out = []
    for i in range(max(len(g) for g in shuffled)):
        out += [g[i] for g in shuffled if i < len(g)]
    return out


def trivia_benign(mirrors: Path, rng: random.Random) -> list[dict[str, str]]:
    """TaskTracker's trivia questions on their own (as a user would ask them), half of them
    with the same "Please answer the following question:" the injections use."""
    rows = []
    for number, question in enumerate(rng.sample(_trivia_questions(mirrors), CAP)):
        text = f"Please answer the following question: {question}" if number % 2 else question
        # The injected task without a trigger or a carrier: same source as the injections,
        # so a fold never trains on the questions as attacks only.
        rows.append(_row(text, "benign", "-", "tasktracker"))
    return rows


# -- latent jailbreak: harmful instructions inside text to translate or polish ---------------


def latent_jailbreak(mirrors: Path, rng: random.Random) -> list[dict[str, str]]:
    """Latent Jailbreak's prompts (13 templates: an ordinary task such as "Translate the
    following sentence into Chinese." with a harmful instruction as the text to work on,
    before or after it), read from the ChatGPT folder (the prompts are the same for every
    model), each distinct prompt once."""
    contexts = set()
    for number in range(1, 14):
        for side in ("prefix", "suffix"):
            path = f"data/P{number}/ChatGPT/P{number}_{side}.json"
            for items in json.loads(_read(mirrors, "latent-jailbreak", path)).values():
                contexts.update(item["context"] for item in items)
    picked = rng.sample(sorted(contexts), min(2 * CAP, len(contexts)))
    return [_row(t, "hidden_instruction", "direct", "latent-jailbreak") for t in picked]


# -- Arcanum prompt-injection taxonomy: example prompts per technique, evasion and intent ----

#: Intents whose examples are harmful requests or misuse with no injection or jailbreak
#: in them ("How do I synthesize [chemical agent] at home?"): not kept.
_PLAIN_REQUESTS = {
    "attack_external_systems", "attack_external_users", "attack_internal_systems",
    "attack_internal_users", "authorized_advice_exploitation", "cbrne_information",
    "denial_of_service", "denial_of_wallet", "discuss_harm", "generate_disinformation",
    "generate_image", "generate_malicious_artifacts", "harmful_content_generation",
    "test_bias", "business_integrity",
}  # fmt: skip
_LEAK = {
    "system_prompt_leak", "get_prompt_secret", "model_privacy_extraction", "secret_probing",
    "cot_introspection", "api_enumeration", "tool_enumeration",
}  # fmt: skip
_DELIMITER = {
    "end_sequences", "fake_completion", "history_fabrication", "special_token_injection",
    "tool_call_spoofing", "cot_spoofing", "delimiter",
}  # fmt: skip
_ROLE = {
    "narrative_injection", "persuasion", "competition", "act_as_interpreter",
    "anti_harm_coercion", "figurative_language", "self_persuasion", "authority_impersonation",
    "evaluator_role_abuse", "policy_file_framing", "reorientation", "jailbreak",
}  # fmt: skip


def _arcanum_family(pillar: str, node: dict[str, Any]) -> str:
    """From the node the example illustrates (the taxonomy gives no family of ours)."""
    if node["id"] in _DELIMITER:
        return "delimiter"
    if node["id"] in _LEAK:
        return "prompt_leak"
    if node.get("delivery") == "indirect":
        return "hidden_instruction"
    if pillar == "evasions":
        return "encoded"
    return "role_hijack" if node["id"] in _ROLE else "override"


def arcanum(mirrors: Path, rng: random.Random) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The taxonomy's example prompts (techniques, evasions, and the intents that target the
    model or its data), a seeded sample; white-box nodes (``local``: they need the weights)
    left out. Nodes delivered only inside content (``delivery: indirect``) count as
    indirect. Benign: the nodes' descriptions (security writing about the attacks)."""
    taxonomy = json.loads(_read(mirrors, "arcanum", "docs/data/taxonomy.json"))
    attacks, benign = [], []
    for pillar in ("techniques", "evasions", "intents"):
        for node in taxonomy[pillar]:
            benign.append(_row(node["description"], "benign", "-", "arcanum"))
            if node.get("local") or node["id"] in _PLAIN_REQUESTS:
                continue
            where = "indirect" if node.get("delivery") == "indirect" else "direct"
            family = _arcanum_family(pillar, node)
            attacks += [_row(e, family, where, "arcanum") for e in node.get("examples", [])]
    return rng.sample(attacks, len(attacks)), rng.sample(benign, len(benign))


# -- de-duplication against the rows already in the set ----------------------------------

_FOLDERS = (".", "heldout", "own", "external", "external2", "external3", "heldout2")


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + 5]) for i in range(max(1, len(words) - 4))}


def _existing(name: str) -> list[set[tuple[str, ...]]]:
    shingles = []
    for folder in _FOLDERS:
        path = DATA / folder / name
        for line in path.read_text(encoding="utf-8").split("\n"):
            if line:
                shingles.append(_shingles(json.loads(line)["text"]))
    return shingles


def _without_repeats(texts: list[str], name: str, within: bool = True) -> list[int]:
    """Indexes of ``texts`` that share at most half their word 5-grams with any one row of
    ``name`` (``attacks.jsonl`` or ``benign.jsonl``) in the set or (``within``) with an
    earlier text."""
    seen = _existing(name)
    index: dict[tuple[str, ...], list[int]] = {}
    for number, shingles in enumerate(seen):
        for shingle in shingles:
            index.setdefault(shingle, []).append(number)
    kept = []
    for position, text in enumerate(texts):
        mine = _shingles(text)
        overlap: dict[int, int] = {}
        for shingle in mine:
            for number in index.get(shingle, ()):
                overlap[number] = overlap.get(number, 0) + 1
        if any(count > 0.5 * len(mine) for count in overlap.values()):
            continue
        kept.append(position)
        if not within:
            continue
        for shingle in mine:
            index.setdefault(shingle, []).append(len(seen))
        seen.append(mine)
    return kept


def without_repeats_in(texts: list[str], name: str, within: bool = True) -> list[str]:
    """``texts`` minus those repeating a row of the set or (``within``) an earlier text."""
    return [texts[i] for i in _without_repeats(texts, name, within)]


def without_repeats(rows: list[dict[str, str]], name: str) -> list[dict[str, str]]:
    """``rows`` minus those repeating a row of the set or an earlier row."""
    return [rows[i] for i in _without_repeats([r["text"] for r in rows], name)]


def _capped(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The first ``CAP`` rows of each source (sources list their rows in seeded order)."""
    counts: dict[str, int] = {}
    kept = []
    for row in rows:
        counts[row["source"]] = counts.get(row["source"], 0) + 1
        if counts[row["source"]] <= CAP:
            kept.append(row)
    return kept


def build(mirrors: Path) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Every row of this folder: (attacks, benign)."""
    rng = random.Random(5555)
    train_attacks, retail = tasktracker(mirrors, rng)
    test_attacks, airline = tasktracker_test(mirrors, rng)
    arcanum_attacks, arcanum_benign = arcanum(mirrors, rng)
    attacks = test_attacks + train_attacks + latent_jailbreak(mirrors, rng) + arcanum_attacks
    questions = trivia_benign(mirrors, rng)
    benign = airline + retail + questions + arcanum_benign
    before = len(attacks) + len(benign)
    attacks = without_repeats(attacks, "attacks.jsonl")
    benign = without_repeats(benign, "benign.jsonl")
    print(f"dropped {before - len(attacks) - len(benign)} rows repeating an existing row")
    # The questions share their source with the retail tool results but not its cap.
    asked = {row["text"] for row in questions}
    benign = _capped([r for r in benign if r["text"] not in asked]) + [
        r for r in benign if r["text"] in asked
    ]
    return _capped(attacks), benign


def main(mirrors: Path) -> int:
    attacks, benign = build(mirrors)
    write_rows(HERE, attacks, benign)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(mirrors_argument(sys.argv, __doc__)))
