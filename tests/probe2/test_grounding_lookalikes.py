"""A proper name written in look-alike letters is still checked against the passages.

The grounding check's name rule (a proper name must occur in the passages) read only
ASCII capitals, so an answer that put a place the passages never name in Cyrillic or
full-width letters (``Оslo`` with a Cyrillic ``О``, ``Ｏｓｌｏ``, ``O`` + zero-width
space + ``slo``) passed as grounded while the reader sees "Oslo". Names in another
script (``Москва``) and accented Latin names keep being read as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import openai
import pytest
from prometheus_client import CollectorRegistry

import guard
from guard.types import Passage
from tests.e2e.fixtures import ProxyServer
from tests.fake_upstream import FakeUpstream, Script
from tests.probe2._sdk import ask, clients_for

POLICY = """\
stream: {whole_reply: buffer}
output:
  - check: grounding
    action: block
"""
PASSAGES = [
    Passage("q3", "Revenue in the third quarter was 4.2 million euros, up 8 percent."),
    Passage("staff", "The company employs 120 people in Bergen, near Zürich and Москва."),
]
TRUE = "Revenue in the third quarter was 4.2 million euros. The company employs 120 people in "


@pytest.fixture
def engine(tmp_path: Path) -> guard.Guard:
    path = tmp_path / "grounded.yaml"
    path.write_text(POLICY)
    return guard.Guard(path, registry=CollectorRegistry())


@pytest.mark.parametrize("place", ["\u041eslo", "\uff2f\uff53\uff4c\uff4f", "O\u200bslo"])
def test_a_name_in_look_alike_letters_is_missing_like_the_plain_one(
    engine: guard.Guard, place: str
) -> None:
    decision = engine.check_output(TRUE + place + ".", context=PASSAGES)
    assert decision.blocked
    assert {f.rule for f in decision.findings} == {"name_missing"}


@pytest.mark.parametrize(
    "place", ["Bergen", "B\u200bergen", "\uff22\uff45\uff52\uff47\uff45\uff4e", "Zürich", "Москва"]
)
def test_names_the_passages_hold_pass_however_written(engine: guard.Guard, place: str) -> None:
    assert not engine.check_output(TRUE + place + ".", context=PASSAGES).blocked


def test_through_the_proxy(
    fake_upstream: FakeUpstream, start_proxy: Callable[..., ProxyServer], tmp_path: Path
) -> None:
    path = tmp_path / "grounded.yaml"
    path.write_text(POLICY)
    clients = clients_for("proxy", path, fake_upstream, start_proxy)
    context = [{"id": p.id, "text": p.text} for p in PASSAGES]
    fake_upstream.enqueue(Script(text=TRUE + "\u041eslo."))
    with pytest.raises(openai.BadRequestError) as caught:
        ask(clients, "chat", [{"role": "user", "content": "Where?"}], False,
            extra_body={"guardwire": {"context": context}})  # fmt: skip
    assert "grounding" in str(caught.value) and "slo" not in str(caught.value)
