"""The audit pipeline: one value-free JSON line per call, each step testable alone."""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from guard import Guard
from guard.audit import (
    AUDIT_OUTCOMES,
    AuditLog,
    AuditValueError,
    CallRecord,
    ModelName,
    add_decisions,
    add_usage,
    assert_no_values,
    bind_call_context,
    digest,
    drop_values,
    render_json,
)
from guard.decision import Decision
from guard.engine import text_call
from guard.errors import ConfigError
from guard.telemetry import OUTCOMES
from guard.types import Caller, Usage

#: Text a user might send; none of it may reach the audit log. Each piece is unique
#: enough that no check, rule or field name contains it.
PLANTED_KEY = "AKIAQWERTYUIOPASDFGH"
PLANTED_HOST = "db7.corp"
PLANTED_WORDS = "zanzibar-quokka"
PLANTED = (PLANTED_KEY, PLANTED_HOST, PLANTED_WORDS)
USER_TEXT = f"{PLANTED_HOST} stores {PLANTED_KEY}; tell nobody about {PLANTED_WORDS}"

POLICY = r"""
name: audited
input:
  - check: rules
    name: secrets
    rules:
      - {name: aws-access-key, action: redact, replacement: "[KEY]", regex: '\b(?:AKIA|ASIA)[0-9A-Z]{16}\b'}
  - check: rules
    name: hosts
    rules:
      - {name: host, action: redact, replacement: "[HOST]", regex: 'db\d+\.corp'}
output:
  - check: rules
    name: words
    rules:
      - {name: animal, action: block, keywords: [quokka]}
"""

#: Every field of a call line, in order. Present on every line, null when unknown.
CALL_FIELDS = [
    "time", "request_id", "frontend", "format", "outcome", "status", "policy", "policy_hash",
    "tenant", "key_id", "session", "upstream", "attempts", "latency_ms", "model",
    "model_hash", "input", "output", "usage",
]  # fmt: skip


@pytest.fixture
def decisions(make_guard: Callable[..., Guard]) -> tuple[Decision, Decision]:
    """An input decision with findings (a redaction) and a blocking output decision."""
    guard = make_guard(POLICY)
    call = text_call(USER_TEXT, caller=Caller(session="s-1"))
    before = guard.before(call)
    after = guard.check_output(USER_TEXT)
    assert before.findings and after.blocked
    return before, after


def full_record(decisions: tuple[Decision, Decision], **changes: Any) -> CallRecord:
    before, after = decisions
    fields: dict[str, Any] = {
        "request_id": "0357fbcfb51b000000000001",
        "frontend": "proxy",
        "format": "openai.chat",
        "outcome": "blocked",
        "status": 400,
        "policy": "audited",
        "policy_hash": before.policy_hash,
        "tenant": "team-a",
        "key_id": "k-3f9a1c",
        "session": f"session of {PLANTED_WORDS}",
        "model": PLANTED_KEY,
        "upstream": "openai",
        "attempts": 1,
        "input": before,
        "output": after,
        "usage": Usage(input_tokens=12, output_tokens=7),
        "latency": 0.0123,
    }
    return CallRecord(**(fields | changes))


def lines_of(records: list[CallRecord], **options: Any) -> list[str]:
    lines: list[str] = []
    audit = AuditLog(lines.append, **options)
    for record in records:
        audit.record_call(record)
    return lines


# -- a whole line -----------------------------------------------------------------------


def test_every_field_is_present_on_every_line(decisions: tuple[Decision, Decision]) -> None:
    records = [
        full_record(decisions),
        # a 401 before any check: same record, no decisions, no usage
        CallRecord(request_id="r2", frontend="proxy", outcome="rejected", status=401),
        full_record(decisions, frontend="transport", outcome="disconnected", output=None),
        CallRecord(request_id="r4", frontend="check", outcome="allowed", input=decisions[0]),
    ]
    lines = [json.loads(line) for line in lines_of(records, strict=True)]
    assert [list(line) for line in lines] == [CALL_FIELDS] * len(records)
    full, rejected = lines[0], lines[1]
    assert full["outcome"] == "blocked" and full["status"] == 400 and full["tenant"] == "team-a"
    assert full["usage"] == {"input_tokens": 12, "output_tokens": 7}
    assert full["input"]["action"] == "redact" and full["output"]["action"] == "block"
    assert full["latency_ms"] == 12.3 and full["attempts"] == 1
    findings = [f for check in full["input"]["checks"] for f in check["findings"]]
    assert {f["rule"] for f in findings} >= {"host"}
    assert all(
        set(f) == {"check", "kind", "rule", "segment", "span", "score", "action"} for f in findings
    )
    assert rejected["input"] is None and rejected["usage"] is None and rejected["status"] == 401


def test_no_user_text_reaches_the_line(decisions: tuple[Decision, Decision]) -> None:
    # The stronger form of tests/test_engine.py's leak check: planted values that no
    # field name contains, searched for verbatim, without excusing any shape.
    (line,) = lines_of([full_record(decisions)])
    for planted in (*PLANTED, "session of"):
        assert planted not in line
    parsed = json.loads(line)
    assert parsed["session"] == digest(f"session of {PLANTED_WORDS}")
    assert parsed["model"] == "other" and parsed["model_hash"] == digest(PLANTED_KEY)
    assert "dropped" not in parsed


def test_a_known_model_is_named(decisions: tuple[Decision, Decision]) -> None:
    record = full_record(decisions, model="gpt-4o-mini")
    (line,) = lines_of([record], known_models={"gpt-4o-mini"})
    assert json.loads(line)["model"] == "gpt-4o-mini"
    (line,) = lines_of([record], known_models=lambda name: name.startswith("gpt-"))
    assert json.loads(line)["model"] == "gpt-4o-mini"


def test_a_record_only_takes_closed_set_frontends_and_outcomes() -> None:
    assert set(OUTCOMES) < set(AUDIT_OUTCOMES)
    with pytest.raises(ValueError, match="frontend must be one of"):
        CallRecord(request_id="r", frontend="grpc", outcome="allowed")
    with pytest.raises(ValueError, match="outcome must be one of"):
        CallRecord(request_id="r", frontend="wrap", outcome="fine")


# -- each processor alone ------------------------------------------------------------------


def test_bind_call_context_hashes_the_session() -> None:
    record = CallRecord(
        request_id="r1", frontend="wrap", outcome="allowed", session="abc", time=5.0
    )
    event = bind_call_context(record, {})
    assert event["session"] == digest("abc") and event["time"] == 5.0
    assert event["frontend"] == "wrap" and event["tenant"] is None
    assert bind_call_context(None, {"x": 1}) == {"x": 1}


def test_model_name_and_digest() -> None:
    record = CallRecord(request_id="r1", frontend="wrap", outcome="allowed", model="m1")
    assert ModelName({"m1"})(record, {}) == {"model": "m1", "model_hash": digest("m1")}
    assert ModelName()(record, {})["model"] == "other"
    assert digest("m1") == digest("m1") != digest("m2")
    assert digest("m1").startswith("sha256:") and len(digest("m1")) == 7 + 16


def test_add_decisions_and_usage(decisions: tuple[Decision, Decision]) -> None:
    record = full_record(decisions, output=None, usage=None)
    event = add_usage(record, add_decisions(record, {}))
    assert event["output"] is None and event["usage"] is None
    assert [c["check"] for c in event["input"]["checks"]] == ["secrets", "hosts"]


def test_render_json_is_one_compact_line() -> None:
    assert render_json({"a": 1, "b": [1, 2], "c": None}) == '{"a":1,"b":[1,2],"c":null}'


# -- the no-values processor catches planted values ----------------------------------------


def _clean_line(**changes: Any) -> dict[str, Any]:
    record = CallRecord(request_id="r1", frontend="proxy", outcome="allowed", time=1.0)
    event: dict[str, Any] = {}
    for processor in (bind_call_context, ModelName(), add_decisions, add_usage):
        event = processor(record, event)
    return event | changes


@pytest.mark.parametrize(
    ("planted", "path"),
    [
        ({"prompt": USER_TEXT}, "prompt"),  # a field outside the vocabulary
        ({"tenant": USER_TEXT}, "tenant"),  # a name field holding prose
        ({"tenant": "x" * 65}, "tenant"),  # too long to be a name
        ({"tenant": ["team-a"]}, "tenant"),  # not a string at all
        ({"status": PLANTED_KEY}, "status"),  # a count holding text
        ({"session": PLANTED_KEY}, "session"),  # a hash field holding a raw value
        ({"outcome": "leaked " + PLANTED_WORDS}, "outcome"),  # outside the closed set
        ({"usage": {"input_tokens": 3, "text": USER_TEXT}}, "usage.text"),
        (
            {
                "input": {
                    "action": "redact",
                    "latency_ms": 1.0,
                    "checks": [
                        {
                            "check": "rules",
                            "action": "redact",
                            "shadow": False,
                            "errored": False,
                            "latency_ms": 1.0,
                            "findings": [
                                {
                                    "check": "rules",
                                    "kind": "regex",
                                    "rule": USER_TEXT,
                                    "segment": 0,
                                    "span": [0, 8],
                                    "score": 1.0,
                                    "action": "redact",
                                }
                            ],
                        }
                    ],
                }
            },
            "input.checks[0].findings[0].rule",
        ),  # a check that put user text in a finding's rule
        ({"input": {"action": "allow", "checks": [USER_TEXT]}}, "input.checks[0]"),
    ],
)
def test_the_no_values_step_catches_a_planted_value(planted: dict[str, Any], path: str) -> None:
    event = _clean_line(**planted)
    with pytest.raises(
        AuditValueError, match=path.replace("[", r"\[").replace("]", r"\]")
    ) as caught:
        assert_no_values(None, dict(event))
    kept = drop_values(None, event)
    assert kept["dropped"] == [path]
    written = render_json(kept)
    for value in (*PLANTED, "x" * 65, "leaked"):
        assert value not in str(caught.value) and value not in written
    # Only the offending leaf goes: the rest of the line stays.
    assert kept["request_id"] == "r1" and kept["frontend"] == "proxy"


def test_a_clean_line_passes_unchanged() -> None:
    event = _clean_line()
    assert assert_no_values(None, dict(event)) == event
    assert drop_values(None, dict(event)) == event


def test_an_unknown_field_named_by_data_is_not_echoed_in_dropped() -> None:
    kept = drop_values(None, _clean_line(**{USER_TEXT: 1}))
    assert kept["dropped"] == ["<unnamed field>"] and USER_TEXT not in render_json(kept)


def test_the_default_pipeline_drops_and_keeps_the_line(
    decisions: tuple[Decision, Decision],
) -> None:
    def leaky(record: CallRecord | None, event: dict[str, Any]) -> dict[str, Any]:
        event["note"] = USER_TEXT
        return event

    lines: list[str] = []
    audit = AuditLog(lines.append)
    audit.processors.insert(-1, leaky)
    audit.record_call(full_record(decisions))
    assert USER_TEXT not in lines[0] and json.loads(lines[0])["dropped"] == ["note"]
    strict = AuditLog(lines.append, strict=True)
    strict.processors.insert(-1, leaky)
    with pytest.raises(AuditValueError, match="note"):
        strict.record_call(full_record(decisions))


# -- the line the engine writes per call ----------------------------------------------------


def test_call_lines_from_the_engine_hold_no_values(
    make_guard: Callable[..., Guard], tmp_path: Path
) -> None:
    path = tmp_path / "audit.jsonl"
    guard = make_guard(POLICY, audit=path)
    guard.check_input(USER_TEXT)
    guard.check_output("all clear")
    text = path.read_text()
    for planted in PLANTED:
        assert planted not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert [(line["input"] is not None, line["output"] is not None) for line in lines] == [
        (True, False),
        (False, True),
    ]
    assert lines[0]["input"]["action"] == "redact" and lines[0]["policy"] == "audited"
    assert lines[0]["outcome"] == "redacted" and lines[1]["outcome"] == "allowed"
    assert lines[0]["format"] == "text" and "dropped" not in lines[0]
    assert {"time", "request_id", "policy_hash", "latency_ms", "frontend"} <= set(lines[0])


def test_stage_line_extras_outside_the_vocabulary_are_dropped(
    decisions: tuple[Decision, Decision],
) -> None:
    lines: list[str] = []
    AuditLog(lines.append).record(decisions[0], format="openai.chat", text=USER_TEXT)
    assert USER_TEXT not in lines[0]
    assert json.loads(lines[0])["dropped"] == ["text"]


# -- sinks -----------------------------------------------------------------------------------


def test_an_audit_path_in_a_missing_directory_is_a_config_error(tmp_path: Path) -> None:
    # newuser-trial §2.9: the log silently created /var/log/guardwire/.
    missing = tmp_path / "var" / "log" / "guardwire"
    with pytest.raises(ConfigError, match="does not exist") as caught:
        AuditLog(missing / "audit.jsonl")
    assert str(missing) in str(caught.value) and "\n" not in str(caught.value)
    assert not missing.exists()


def test_an_audit_path_that_is_a_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        AuditLog(tmp_path)


def test_dash_writes_to_standard_output(
    decisions: tuple[Decision, Decision], capsys: pytest.CaptureFixture[str]
) -> None:
    audit = AuditLog("-")
    audit.record_call(full_record(decisions))
    audit.close()
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and json.loads(out)["request_id"] == "0357fbcfb51b000000000001"


def test_reopen_starts_a_new_file_after_rotation(
    decisions: tuple[Decision, Decision], tmp_path: Path
) -> None:
    path = tmp_path / "audit.jsonl"
    audit = AuditLog(path)
    audit.record_call(full_record(decisions))
    path.rename(tmp_path / "audit.jsonl.1")
    audit.reopen()
    audit.record_call(full_record(decisions, request_id="second"))
    audit.close()
    audit.close()
    assert json.loads(path.read_text())["request_id"] == "second"
    assert (tmp_path / "audit.jsonl.1").read_text().count("\n") == 1


def _write_big_lines(path: str, worker: int, count: int) -> None:
    audit = AuditLog(path)
    for index in range(count):
        audit.sink.write(render_json({"request_id": f"w{worker}-{index}", "pad": "x" * 40_000}))
    audit.close()


def test_lines_from_threads_and_processes_never_interleave(tmp_path: Path) -> None:
    # Lines larger than any stdio buffer (40 kB): each must still land whole.
    path = tmp_path / "audit.jsonl"
    threads = [
        threading.Thread(target=_write_big_lines, args=(str(path), worker, 25))
        for worker in range(4)
    ]
    # fork where there is one: starting spawned interpreters costs ~0.5 s each on a
    # loaded runner, and the children build their own AuditLog either way.
    context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    processes = [
        context.Process(target=_write_big_lines, args=(str(path), worker, 25))
        for worker in range(4, 6)
    ]
    for runner in [*threads, *processes]:
        runner.start()
    for runner in [*threads, *processes]:
        runner.join()
    lines = path.read_text().splitlines()
    assert len(lines) == 6 * 25
    assert len({json.loads(line)["request_id"] for line in lines}) == 6 * 25


def test_stage_lines_never_write_a_client_model_or_session_as_given(
    decisions: tuple[Decision, Decision],
) -> None:
    # The lifecycle passes the call's model and the caller's session as extras.
    lines: list[str] = []
    audit = AuditLog(lines.append, known_models={"gpt-4o"})
    audit.record(decisions[0], frontend="run", model=PLANTED_KEY, session=PLANTED_WORDS)
    audit.record(decisions[0], frontend="proxy", model="gpt-4o", session=None)
    first, second = (json.loads(line) for line in lines)
    assert PLANTED_KEY not in lines[0] and PLANTED_WORDS not in lines[0]
    assert first["model"] == "other" and first["model_hash"] == digest(PLANTED_KEY)
    assert first["session"] == digest(PLANTED_WORDS) and "dropped" not in first
    assert second["model"] == "gpt-4o" and second["session"] is None
