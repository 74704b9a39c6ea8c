"""@guard.wrap around sync, async, generator and async-generator functions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from prometheus_client import CollectorRegistry

import guard
from guard.checks.base import CheckContext
from guard.types import Action, Call, Reply, Verdict

SECRET = "AKIAABCDEFGHIJKLMNOP"


@pytest.fixture
def engine() -> guard.Guard:
    return guard.Guard(registry=CollectorRegistry())


def test_sync_function_input_redacted_output_checked(engine: guard.Guard) -> None:
    seen: list[str] = []

    @guard.wrap(guard=engine)
    def ask(prompt: str, temperature: float = 0.0) -> str:
        seen.append(prompt)
        return "answer with sk-abcdefghijklmnopqrstuvwxyz"

    assert ask(f"key {SECRET}", temperature=0.5) == "answer with [API_KEY]"
    assert seen == ["key [AWS_ACCESS_KEY]"]
    assert ask.__name__ == "ask"


def test_blocked_prompt_raises_and_function_is_not_called(engine: guard.Guard) -> None:
    called = False

    @guard.wrap(guard=engine)
    def ask(prompt: str) -> str:
        nonlocal called
        called = True
        return "x"

    with pytest.raises(guard.GuardBlocked, match="denylist") as caught:
        ask("how to build a bomb")
    assert not called and caught.value.decision.blocked


def test_messages_keyword_is_checked_without_mutating_caller_list(engine: guard.Guard) -> None:
    messages = [{"role": "system", "content": f"s {SECRET}"}, {"role": "user", "content": "hi"}]

    @guard.wrap(guard=engine)
    def chat(*, messages: list[dict[str, str]]) -> str:
        assert messages[0]["content"] == "s [AWS_ACCESS_KEY]"
        return "ok"

    assert chat(messages=messages) == "ok"
    assert messages[0]["content"] == f"s {SECRET}"


def test_reask_calls_again_with_feedback() -> None:
    class NoApologies:
        name = "no-apologies"
        shadow = False

        def input(self, call: Call, ctx: CheckContext) -> Verdict:
            return Verdict(self.name, Action.ALLOW)

        def output(self, call: Call, reply: Reply, ctx: CheckContext) -> Verdict:
            if "sorry" in reply.text:
                return Verdict(self.name, Action.REASK, feedback="Do not apologise.")
            return Verdict(self.name, Action.ALLOW)

    engine = guard.Guard(guard.Policy.from_yaml("max_reasks: 2\n"), registry=CollectorRegistry())
    engine.output_checks.append(NoApologies())
    prompts: list[str] = []

    @guard.wrap(guard=engine)
    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return "sorry" if len(prompts) == 1 else "fine"

    assert ask("q") == "fine"
    assert prompts[0] == "q" and "Do not apologise." in prompts[1]


def test_generator_is_checked_chunk_by_chunk(engine: guard.Guard) -> None:
    @guard.wrap(guard=engine)
    def stream(prompt: str) -> Iterator[str]:
        yield from ["the key ", "is sk-abcdefg", "hijklmnopqrstuvwxyz", " done"]

    assert "".join(stream("q")) == "the key is [API_KEY] done"

    @guard.wrap(guard=engine)
    def leaky(prompt: str) -> Iterator[str]:
        yield from ["fine text then -----BEGIN ", "PRIVATE KEY----- data"]

    received = []
    with pytest.raises(guard.GuardBlocked):
        for chunk in leaky("q"):
            received.append(chunk)
    assert "BEGIN" not in "".join(received)


async def test_async_function_and_async_generator(engine: guard.Guard) -> None:
    @guard.wrap(guard=engine)
    async def ask(prompt: str) -> str:
        return f"echo {prompt}"

    assert await ask(f"k {SECRET}") == "echo k [AWS_ACCESS_KEY]"

    @guard.wrap(guard=engine)
    async def stream(prompt: str) -> AsyncIterator[str]:
        for chunk in ["a sk-abcdefghij", "klmnopqrstuvwxyz b"]:
            yield chunk

    assert "".join([c async for c in stream("q")]) == "a [API_KEY] b"
    with pytest.raises(guard.GuardBlocked):
        await ask("synthesize sarin")


def test_context_and_identity_keyword(engine: guard.Guard) -> None:
    calls: list[Call] = []

    class Spy:
        name = "spy"
        shadow = False

        def input(self, call: Call, ctx: CheckContext) -> Verdict:
            calls.append(call)
            return Verdict(self.name, Action.ALLOW)

        def output(self, call: Call, reply: Reply, ctx: CheckContext) -> Verdict:
            return Verdict(self.name, Action.ALLOW)

    engine.input_checks.append(Spy())

    @guard.wrap(guard=engine, context=["default passage"], session="s-0")
    def ask(prompt: str) -> str:
        return "ok"

    ask("q", guardwire={"context": [{"id": "d7", "text": "retrieved"}], "session": "s-9"})
    call = calls[-1]
    assert [p.id for p in call.context] == ["1", "d7"]
    assert call.caller.session == "s-9"


def test_bad_prompt_types_are_clear(engine: guard.Guard) -> None:
    @guard.wrap(guard=engine)
    def ask(prompt: object) -> str:
        return "x"

    with pytest.raises(TypeError, match="prompt must be a string"):
        ask(42)

    @guard.wrap(guard=engine)
    def returns_number(prompt: str) -> object:
        return 42

    with pytest.raises(TypeError, match="must return text"):
        returns_number("q")


def test_check_input_and_output_helpers(engine: guard.Guard) -> None:
    assert engine.check_input("hello").action is Action.ALLOW
    assert engine.check_input("how to build a bomb").blocked
    decision = engine.check_output("sk-abcdefghijklmnopqrstuvwxyz", context=["passage"])
    assert decision.action is Action.REDACT


def test_every_text_argument_is_checked(engine: guard.Guard) -> None:
    """newuser-trial §2.5: f(system, prompt) left the second argument unguarded."""
    seen: list[tuple[str, str]] = []

    @guard.wrap(guard=engine)
    def ask(system: str, prompt: str, temperature: float = 0.0) -> str:
        seen.append((system, prompt))
        return "ok"

    assert ask(f"sys {SECRET}", f"user {SECRET}") == "ok"
    assert seen == [("sys [AWS_ACCESS_KEY]", "user [AWS_ACCESS_KEY]")]
    with pytest.raises(guard.GuardBlocked):
        ask("be nice", "how to build a bomb")


def test_a_named_argument_is_the_only_one_checked(engine: guard.Guard) -> None:
    seen: list[tuple[str, str]] = []

    @guard.wrap(guard=engine, argument="question")
    def ask(notes: str, question: str) -> str:
        seen.append((notes, question))
        return "ok"

    assert ask(f"n {SECRET}", f"q {SECRET}") == "ok"
    assert seen == [(f"n {SECRET}", "q [AWS_ACCESS_KEY]")]


def test_methods_and_message_lists_in_any_position(engine: guard.Guard) -> None:
    seen: list[str] = []

    class Bot:
        @guard.wrap(guard=engine)
        def chat(self, history: list[dict[str, str]], prompt: str) -> str:
            seen.append(history[0]["content"] + "|" + prompt)
            return "ok"

    history = [{"role": "user", "content": f"earlier {SECRET}"}]
    assert Bot().chat(history, "now") == "ok"
    assert seen == ["earlier [AWS_ACCESS_KEY]|now"]
    assert history[0]["content"] == f"earlier {SECRET}"
