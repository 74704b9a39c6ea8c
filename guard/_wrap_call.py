"""How a call of a ``@guard.wrap``-ped function becomes a guarded :class:`Call`: its text
arguments as segments (the prompt, and the other text arguments under :data:`EXTRA`),
and the arguments to call the function with once the checks edited them."""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel

from guard.formats.base import read_extension
from guard.formats.text import build_call, prompt_of
from guard.types import Call, Caller, Passage, Segment

#: Where a call's other text arguments (not the prompt) sit in its raw document.
EXTRA = "arguments"


class WrapDefaults:
    """What ``@wrap(...)`` was given: default context, identity, the prompt argument and
    the output schema, with the wrapped function's signature."""

    __slots__ = ("argument", "context", "output", "session", "signature", "tenant")

    def __init__(
        self,
        context: Sequence[str | Passage],
        session: str | None,
        tenant: str | None,
        argument: str | None,
        signature: inspect.Signature,
    ) -> None:
        self.context = [
            p if isinstance(p, Passage) else Passage(str(i + 1), p) for i, p in enumerate(context)
        ]
        self.session = session
        self.tenant = tenant
        self.argument = argument
        self.signature = signature
        self.output: type[BaseModel] | dict[str, Any] | None = None


def is_text(value: Any) -> bool:
    """A text argument: a string, or a non-empty list of message objects."""
    return isinstance(value, str) or (
        isinstance(value, list) and bool(value) and all(isinstance(m, dict) for m in value)
    )


class Invocation:
    """One call of the wrapped function: its text arguments, and how to call it again."""

    def __init__(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        defaults: WrapDefaults,
    ) -> None:
        options = kwargs.pop("guardwire", None)
        _, caller, passages = read_extension(
            {"guardwire": options} if options is not None else {},
            Caller(session=defaults.session, tenant=defaults.tenant),
        )
        self.fn = fn
        try:
            self.bound = defaults.signature.bind(*args, **kwargs)
        except TypeError:
            raise TypeError(
                "a wrapped function needs the prompt as its first argument or as prompt=/messages="
            ) from None
        names = list(self.bound.arguments)
        if defaults.argument is not None:
            if defaults.argument not in self.bound.arguments:
                raise TypeError(f"the wrapped function got no argument '{defaults.argument}'")
            self.key = defaults.argument
        elif "prompt" in names or "messages" in names:
            self.key = "prompt" if "prompt" in names else "messages"
        elif names:
            self.key = names[0]
        else:
            raise TypeError(
                "a wrapped function needs the prompt as its first argument or as prompt=/messages="
            )
        self.call = build_call(
            self.bound.arguments[self.key], caller=caller, context=[*defaults.context, *passages]
        )
        #: Other text arguments, checked as well (unless one argument was named).
        self.extras: dict[str, Any] = {}
        if defaults.argument is None:
            self._add_extras([n for n in names if n != self.key])

    def _add_extras(self, names: list[str]) -> None:
        # Copies: a redaction must never edit the caller's own message list.
        extras = {
            n: copy.deepcopy(self.bound.arguments[n])
            for n in names
            if is_text(self.bound.arguments[n])
        }
        if not extras:
            return
        self.call.raw[EXTRA] = extras
        for name, value in extras.items():
            inner = build_call(value)
            for segment in inner.segments:
                assert segment.path is not None
                path = (
                    (EXTRA, name, *segment.path[1:])
                    if isinstance(value, list)
                    else (
                        EXTRA,
                        name,
                    )
                )
                self.call.segments.append(
                    Segment(segment.text, path, segment.role, segment.kind, segment.index)
                )
        self.extras = extras

    def checked(self, call: Call) -> None:
        """Keep the checked (possibly redacted) text arguments of the first attempt."""
        if isinstance(call.raw, dict) and EXTRA in call.raw:
            self.extras = call.raw[EXTRA]

    def arguments(self, call: Call) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Positional and keyword arguments carrying the checked texts of ``call``."""
        arguments = self.bound.arguments
        arguments[self.key] = prompt_of(call)
        arguments.update(self.extras)
        return self.bound.args, self.bound.kwargs
