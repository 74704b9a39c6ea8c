"""``Guard``'s ways in for people who orchestrate their own calls, on the same
lifecycle as the frontends: ``before`` / ``after`` (a parsed call or reply, edited in
place), ``stream`` (a session for streamed text), ``check_input`` / ``check_output`` (a
piece of text), ``run`` / ``run_sync`` (send through your own function, reasks included)
and the in-process httpx transports. :class:`guard.engine.Guard` inherits them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel

from guard._drive import Step, run_sync
from guard._transport_deadline import DEFAULT_TOTAL_TIMEOUT
from guard.decision import Decision, Outcome
from guard.formats.text import build_call
from guard.streaming import StreamSession
from guard.types import Call, Caller, Choice, Passage, Reply

if TYPE_CHECKING:
    from guard._awaiting_after import AwaitingAfter
    from guard.engine import Guard
    from guard.lifecycle import GuardedCall
    from guard.telemetry import Telemetry


class GuardShortcuts:
    """The shortcuts of :class:`~guard.engine.Guard` (a mixin: it has no state of its own)."""

    if TYPE_CHECKING:  # what Guard provides
        telemetry: Telemetry
        _awaiting_after: AwaitingAfter

        def open(
            self, call: Call, *, frontend: str, upstream: str | None = None
        ) -> GuardedCall: ...

        def open_text_check(self, call: Call) -> GuardedCall: ...

        @staticmethod
        def ensure_request_id(call: Call) -> None: ...

    def _as_guard(self) -> Guard:
        return cast("Guard", self)  # this mixin is only ever part of a Guard

    def before(self, call: Call) -> Decision:
        """Run the input checks; apply redactions to ``call`` (segments and raw body).

        A call let through waits for :meth:`after` with its reply, which settles what
        the input stage reserved (budgets); a blocked call ends here and holds nothing.
        A call never given to ``after`` keeps its reservation until the hold expires
        (15 minutes) and is then charged at it (see :mod:`guard._awaiting_after`)."""
        lifecycle = self.open(call, frontend="check")
        lifecycle.start()
        assert lifecycle.input is not None
        if lifecycle.refusal is not None:
            lifecycle.finish()  # never sent: budgets release, agent steps are given back
        else:
            self._awaiting_after.put(call, lifecycle)
        return lifecycle.input

    def after(self, call: Call, reply: Reply) -> Decision:
        """Run the output checks; apply redactions to ``reply`` (choices and raw body).
        For the ``call`` object :meth:`before` let through, this ends the call: budgets
        settle with the reply's usage (or a counted estimate), once, and the values an
        input check replaced by placeholders (``pseudonymise``) are put back in ``reply``
        unless it is blocked, as the proxy and the transport do."""
        lifecycle = self._awaiting_after.pop(call)
        if lifecycle is None:
            return run_sync(self.open(call, frontend="check")._output(reply))
        try:
            decision = run_sync(lifecycle._output(reply))
            if not decision.blocked:
                lifecycle._restore_reply(reply)
            return decision
        finally:
            lifecycle.finish()

    def stream(self, call: Call) -> StreamSession:
        """Open a progressive output-check session for a streamed reply to ``call``."""
        self.ensure_request_id(call)
        return StreamSession(self._as_guard(), call)

    def check_input(self, text: str, *, caller: Caller | None = None) -> Decision:
        """Run the input checks on a piece of text; ``.text`` is the text as redacted."""
        call = text_call(text, caller=caller)
        lifecycle = self.open_text_check(call)
        lifecycle.start()
        lifecycle.finish()
        decision = lifecycle.input
        assert decision is not None
        decision.text = call.segments[0].text if call.segments else text
        return decision

    def check_output(
        self,
        text: str,
        *,
        context: Sequence[str | Passage] = (),
        caller: Caller | None = None,
        schema: dict[str, Any] | type[BaseModel] | None = None,
    ) -> Decision:
        """Run the output checks on a piece of text, with optional retrieved context.

        ``schema`` (a JSON Schema dict or a pydantic model class) adds a blocking schema
        check for this text: ``.text`` is the document as repaired (fences, prose removed).
        """
        call = text_call("", caller=caller, context=context)
        lifecycle = self.open_text_check(call)
        if schema is not None:
            from guard.checks.schema import schema_check

            lifecycle.extra_output_checks.append(schema_check(schema, telemetry=self.telemetry))
        decision = run_sync(checked_reply_text(lifecycle, text_reply(text)))
        lifecycle.finish()
        return decision

    async def run(self, call: Call, send: Callable[[Call], Awaitable[Reply]]) -> Outcome:
        """Check, send (repeating on reask) and check the reply; async ``send``."""
        lifecycle = self.open(call, frontend="run")
        try:
            request = await lifecycle.astart()
            while request is not None:
                request = await lifecycle.adeliver(await send(request))
        finally:
            await lifecycle.afinish()
        return lifecycle.outcome()

    def run_sync(self, call: Call, send: Callable[[Call], Reply]) -> Outcome:
        """Check, send (repeating on reask) and check the reply; sync ``send``."""
        lifecycle = self.open(call, frontend="run")
        try:
            request = lifecycle.start()
            while request is not None:
                request = lifecycle.deliver(send(request))
        finally:
            lifecycle.finish()
        return lifecycle.outcome()

    # -- in-process frontends ------------------------------------------------------------

    def transport(
        self,
        transport: Any = None,
        *,
        allow_unchecked: bool = False,
        total_timeout: float | None = DEFAULT_TOTAL_TIMEOUT,
    ) -> Any:
        """An ``httpx`` transport guarding model calls, wrapping ``transport`` (default:
        ``httpx.HTTPTransport()``): ``httpx.Client(transport=guard.transport())``.

        ``total_timeout`` bounds a checked call from its start to the last byte of its
        reply, streamed or not (httpx's timeouts bound each read only): past it a
        complete call raises the SDK's timeout error, a stream ends with the API's error
        event. ``None``: no deadline."""
        from guard.transport import GuardTransport

        return GuardTransport(
            self._as_guard(),
            transport,
            allow_unchecked=allow_unchecked,
            total_timeout=total_timeout,
        )

    def async_transport(
        self,
        transport: Any = None,
        *,
        allow_unchecked: bool = False,
        total_timeout: float | None = DEFAULT_TOTAL_TIMEOUT,
    ) -> Any:
        """The async variant of :meth:`transport`, for ``httpx.AsyncClient``."""
        from guard.transport import GuardAsyncTransport

        return GuardAsyncTransport(
            self._as_guard(),
            transport,
            allow_unchecked=allow_unchecked,
            total_timeout=total_timeout,
        )


def text_call(
    text: str, *, caller: Caller | None = None, context: Sequence[str | Passage] = ()
) -> Call:
    """A plain-text call (the ``text`` format of ``wrap``): one user segment."""
    passages = [
        p if isinstance(p, Passage) else Passage(str(i + 1), p) for i, p in enumerate(context)
    ]
    return build_call(text, caller=caller, context=passages)


def text_reply(text: str) -> Reply:
    """A plain-text reply with one choice."""
    return Reply(format="text", choices=[Choice(0, text)])


def checked_reply_text(lifecycle: GuardedCall, reply: Reply) -> Step[Decision]:
    """The output stage on a plain-text ``reply`` (``check_output``, the check endpoint),
    as a step either driver runs: its decision carries the reply's text as redacted."""
    decision = yield from lifecycle._output(reply)
    decision.text = reply.text
    return decision
