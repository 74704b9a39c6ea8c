"""Policies: pydantic models loaded from YAML, validated completely before use.

A policy is an ordered list of input checks and output checks plus how to apply them
(``mode``, ``on_error``, ``stream``). Loading either returns a whole, valid policy or
raises :class:`~guard.errors.PolicyError` naming file, line and field — never a
half-loaded policy. Unknown keys are rejected, so a misspelt or unsupported setting is
an error, not silently ignored.
"""

from __future__ import annotations

import difflib
import hashlib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from guard._policy_extends import Resolved
from guard._policy_extends import resolve as resolve_extends
from guard._yaml import (
    FieldValueError,
    error_loc,
    first_error,
    follow,
    load_yaml,
    policy_error,
    policy_mapping,
)
from guard._yaml_bools import bool_error
from guard.checks import AnyCheckConfig, Check, build_check
from guard.checks._keyword_files import anchor_keyword_files, keyword_files
from guard.checks._schema_config import anchor_schema_file
from guard.checks.budget import BudgetConfig
from guard.errors import PolicyError

_DATA_DIRS = (
    Path(__file__).parent / "_data",  # installed wheel: rules/ and metrics/ as package data
    Path(__file__).parent.parent,  # source checkout / editable install
)


def data_path(*parts: str) -> Path:
    """Find a shipped data file (``rules/default.yaml``, ``metrics/...``)."""
    for base in _DATA_DIRS:
        candidate = base.joinpath(*parts)
        if candidate.exists():
            return candidate
    raise FileNotFoundError("/".join(parts))


class StreamConfig(BaseModel):
    """How output checks apply to streamed replies."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: ``progressive`` releases text as it arrives, holding back only what a pending
    #: match could still extend; ``buffer`` checks the whole reply before releasing any.
    mode: Literal["progressive", "buffer"] = "progressive"
    #: Output checks that need the whole reply and may block cannot stop text a
    #: progressive stream already sent: ``reject`` such a policy at load, ``buffer``
    #: the streamed replies of calls these checks apply to, or run them at the ``end``
    #: of the stream, where a block ends it with the API's error event instead of its
    #: terminal event (the text already sent stays with the client; no reask).
    whole_reply: Literal["reject", "buffer", "end"] = "reject"
    #: Most characters one streamed text (a choice, a string in a tool call's arguments)
    #: may hold back while a match is pending; reaching it applies ``on_holdback_overflow``.
    max_holdback: int = Field(default=4096, ge=64, le=1_048_576)
    #: Most characters of arguments one streamed tool call is held back for while it is
    #: incomplete (when a check reads complete tool calls); reaching it applies
    #: ``on_holdback_overflow``. Larger than ``max_holdback``: a ``write_file`` call's
    #: arguments are a whole file, and a tool call is held whole until checked.
    max_tool_arguments: int = Field(default=262_144, ge=64, le=16_777_216)
    #: What a progressive stream does when a pending match would need more hold-back
    #: than ``max_holdback``, a tool call's arguments pass ``max_tool_arguments`` before
    #: they are complete, or a capped regex matched more than its ``max_length``:
    #: ``block`` ends the stream with the policy's block, ``release`` lets the text go.
    on_holdback_overflow: Literal["block", "release"] = "block"


class Policy(BaseModel):
    """A complete, validated policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="policy", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    description: str = ""
    #: ``shadow`` evaluates and records everything but never changes traffic.
    mode: Literal["enforce", "shadow"] = "enforce"
    #: What happens when a check itself fails: ``block`` (fail closed) or ``allow``.
    on_error: Literal["block", "allow"] = "block"
    stream: StreamConfig = StreamConfig()
    #: How many times an output check may ask the engine to repeat the call.
    max_reasks: int = Field(default=1, ge=0, le=5)
    input: list[AnyCheckConfig] = Field(default_factory=list)
    output: list[AnyCheckConfig] = Field(default_factory=list)
    #: Cost ceilings (see :mod:`guard.checks.budget`), enforced as one input check.
    budgets: list[BudgetConfig] = Field(default_factory=list)

    _source: str = PrivateAttr(default="<inline>")
    #: Per check entry (``("output", 1)``): the file and line it was written at.
    _entries: dict[tuple[str, int], tuple[str, int | None]] = PrivateAttr(default_factory=dict)
    #: Every file the policy was built from: its own, then its ``extends`` bases.
    _files: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _unique_check_names(self) -> Policy:
        for stage in ("input", "output"):
            names = [c.name or c.check for c in getattr(self, stage)]
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                second = next(i for i, n in enumerate(names) if n in names[:i])
                raise FieldValueError(
                    f"check names must be unique within '{stage}'; repeated: "
                    f"{', '.join(repeated)} (give each entry its own 'name')",
                    (stage, second, "name"),
                )
        budgets = [b.name for b in self.budgets]
        repeated = sorted({n for n in budgets if budgets.count(n) > 1})
        if repeated:
            raise ValueError(f"budget names must be unique; repeated: {', '.join(repeated)}")
        return self

    @model_validator(mode="after")
    def _call_limits_only_at_input(self) -> Policy:
        # Size and model limits judge the request; under ``output`` they would never run.
        for index, entry in enumerate(self.output):
            for number, rule in enumerate(getattr(entry, "rules", None) or ()):
                if getattr(rule, "call_kinds", lambda: 0)():
                    raise FieldValueError(
                        f"rule '{rule.name}' of output check '{entry.name or entry.check}' sets "
                        "a size or model limit, which judges the request: move it under 'input'",
                        ("output", index, "rules", number),
                    )
        return self

    @model_validator(mode="after")
    def _outputs_fit_the_stream_mode(self) -> Policy:
        # A progressive stream holds back what a pending match could still become;
        # a check says when it cannot bound that (a rules regex of unbounded width).
        if self.stream.mode == "progressive":
            for index, entry in enumerate(self.output):
                check_streamable = getattr(entry, "check_streamable", None)
                if check_streamable is None:
                    continue
                try:
                    check_streamable()
                except FieldValueError as exc:
                    raise FieldValueError(str(exc), ("output", index, *exc.loc)) from None
        return self

    _hash: str = PrivateAttr(default="")

    @property
    def source(self) -> str:
        """Where the policy was loaded from."""
        return self._source

    @property
    def files(self) -> tuple[str, ...]:
        """The files this policy was read from: its own first, then its ``extends`` bases
        (what a hot reload watches)."""
        return self._files

    @property
    def hash(self) -> str:
        """Short content hash of the policy, to tell versions and replicas apart."""
        if not self._hash:
            self._hash = hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:12]
        return self._hash

    def where(self, stage: str, index: int) -> tuple[str, int | None, str]:
        """File, line and field of check entry ``index`` of ``stage`` (``input`` or
        ``output``), for an error about that check found after loading."""
        file, line = self._entries.get((stage, index), (self._source, None))
        return file, line, f"{stage}[{index}]"

    def build(self) -> tuple[list[Check], list[Check]]:
        """Instantiate the input and output checks (compiling patterns once)."""
        return [build_check(c) for c in self.input], [build_check(c) for c in self.output]

    @classmethod
    def from_yaml(cls, text: str, source: str = "<string>") -> Policy:
        """Parse and validate a policy from YAML text (``extends`` applied)."""
        data, node = load_yaml(text, source)
        return cls.from_dict(policy_mapping(data, source), source=source, _node=node)

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], *, source: str = "<dict>", _node: Any = None
    ) -> Policy:
        """Validate a policy given as plain data (``extends`` applied; a relative base
        path is relative to ``source``'s directory, or the working directory)."""
        return cls.validate_resolved(resolve_extends(data, _node, source), source)

    @classmethod
    def validate_resolved(cls, resolved: Resolved, source: str) -> Policy:
        """Validate a document whose ``extends`` is already applied. Errors name the file
        and line the offending value was written in (the policy's own or a base)."""

        data = _anchor_files(resolved, source)
        # pydantic would read a boolean as 1 or 0 where a number is expected.
        wrong = bool_error(cls, data, lambda loc: resolved.file_of(loc, source), resolved.node)
        if wrong is not None:
            raise wrong
        try:
            policy = cls.model_validate(data)
        except ValidationError as exc:
            loc = error_loc(first_error(exc))
            raise policy_error(exc, resolved.file_of(loc, source), resolved.node, cls) from None
        policy._source = source
        policy._entries = {
            (stage, index): (
                resolved.file_of((stage, index), source),
                follow(resolved.node, (stage, index))[0],
            )
            for stage in ("input", "output")
            for index in range(len(getattr(policy, stage)))
        }
        read = [f for f in resolved.files if not f.startswith("<")]
        checks = [*policy.input, *policy.output]
        read += keyword_files(checks)
        read += [path for c in checks if isinstance(path := getattr(c, "schema_file", None), str)]
        policy._files = tuple(dict.fromkeys(read))
        return policy

    @classmethod
    def load(cls, path: str | Path) -> Policy:
        """Load a policy file."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            where = f"file not found at {path.absolute()}"
            if not path.is_absolute():
                where += " (relative paths are read from the working directory)"
            raise PolicyError(where, file=str(path)) from None
        except UnicodeDecodeError:
            raise PolicyError("file is not valid UTF-8", file=str(path)) from None
        except OSError as exc:
            raise PolicyError(f"cannot read file ({exc.strerror})", file=str(path)) from None
        return cls.from_yaml(text, source=str(path))

    @classmethod
    def default(cls) -> Policy:
        """The embedded default policy (``rules/default.yaml``)."""
        return cls.load(data_path("rules", "default.yaml"))


def resolve_policy(policy: Policy | str | Path | None) -> Policy:
    """Accept a policy object, a path, a shipped pack name (``"strict"``) or ``None``."""
    if policy is None:
        return Policy.default()
    if isinstance(policy, Policy):
        return policy
    path = Path(policy)
    if not path.exists() and path.suffix == "" and "/" not in str(policy):
        try:
            path = data_path("rules", f"{policy}.yaml")
        except FileNotFoundError:
            packs = ("default", "strict", "rag", "agents")
            close = difflib.get_close_matches(str(policy), packs, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise PolicyError(
                f"no policy file or shipped pack named '{policy}' ({hint}packs: "
                f"{', '.join(packs)}); give a policy file's path or a pack's name"
            ) from None
    return Policy.load(path)


def _anchor_files(resolved: Resolved, source: str) -> dict[str, Any]:
    """The resolved document with the relative files its check entries name
    (``keywords_file``, ``schema_file``) joined to the directory of the file each entry
    was written in (a base's entry: the base's); the document itself is not changed."""
    data = resolved.data
    anchored = dict(data)
    for stage in ("input", "output"):
        entries = data.get(stage)
        if not isinstance(entries, list):
            continue
        for index, entry in enumerate(entries):
            written_in = resolved.file_of((stage, index), source)
            if not isinstance(entry, dict) or written_in.startswith("<"):
                continue  # a policy given as data: relative to the working directory
            directory = Path(written_in).parent
            new = anchor_schema_file(anchor_keyword_files(entry, directory), directory)
            if new is not entry:
                if anchored[stage] is entries:
                    anchored[stage] = list(entries)
                anchored[stage][index] = new
    return anchored
