"""The ``grounding`` check: is every claim of the reply supported by the call's passages?

Passages come from the ``guardwire.context`` request extension (and ``wrap``'s
``guardwire=`` / ``check_output(context=...)``), from tool results, and from documents
tagged in the prompt (``tag_pattern``). :func:`guard.grounding.assess` scores each claim
of each reply choice; claims below ``threshold`` become ``grounding.unsupported``
findings, wrong citations ``grounding.citation_wrong``, uncited claims (with
``require_citations``) ``grounding.citation_missing`` — spans in the reply, never its
text. A call with no passages at all is not checked (there is nothing to ground in).

``action: reask`` feeds the unsupported claims back by position and reason; ``annotate``
lets the reply through with the answer score in an ``x-guardwire-grounding`` header and
a ``guardwire.grounding`` object (answer score, per-claim spans and scores) added to the
JSON body of a complete reply.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any, Literal

import re2
from pydantic import Field, field_validator

from guard.checks._grounding_judge import judge_claims
from guard.checks.base import Capabilities, CheckConfig, CheckContext
from guard.grounding import Assessment, Claim, assess, get_judge
from guard.grounding.judge import Judge, rescore, unsure
from guard.types import Action, Call, Finding, Passage, Reply, Verdict

Source = Literal["extension", "tool_results", "tagged"]
SOURCES: tuple[Source, ...] = ("extension", "tool_results", "tagged")
DEFAULT_TAG_PATTERN = '<document id="(?P<id>[^"]+)">(?P<text>.*?)</document>'
_ACTIONS = {
    "warn": Action.WARN,
    "annotate": Action.WARN,
    "block": Action.BLOCK,
    "reask": Action.REASK,
}
#: How each reason reads in a block message or reask feedback (no user text).
_REASONS = {
    "number_mismatch": "a figure that is not in the passages",
    "number_elsewhere": "a figure from a different passage",
    "name_missing": "a name the passages do not mention",
    "negation": "a negation the passages do not share",
    "antonym": "the opposite of what the passages say",
    "low_support": "statements the passages do not contain",
}


class GroundingConfig(CheckConfig):
    """Policy entry of the ``grounding`` check."""

    check: Literal["grounding"]
    action: Literal["warn", "block", "reask", "annotate"] = "block"
    #: A claim scoring below this is unsupported.
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    #: The answer as a whole must score at least this.
    min_answer_score: float = Field(default=0.6, ge=0.0, le=1.0)
    context_from: list[Source] = Field(default_factory=lambda: list(SOURCES), min_length=1)
    #: Documents in the prompt: a regex (RE2) with named groups ``id`` and ``text``.
    tag_pattern: str = DEFAULT_TAG_PATTERN
    require_citations: bool = False
    #: ``none``, or the name of a judge registered with ``guard.grounding.register_judge``.
    judge: str = "none"
    #: Claims scoring within this distance of ``threshold`` go to the judge.
    judge_band: float = Field(default=0.2, ge=0.0, le=1.0)

    @field_validator("tag_pattern")
    @classmethod
    def _tag_pattern_compiles(cls, value: str) -> str:
        try:
            pattern = re2.compile("(?s)" + value)
        except re2.error:
            raise ValueError(
                "tag_pattern does not compile on RE2 (no look-around or back-references)"
            ) from None
        if "text" not in pattern.groupindex:
            raise ValueError("tag_pattern needs a named group 'text' (and optionally 'id')")
        return value


class GroundingCheck:
    """Scores the reply's claims against the call's passages (output stage)."""

    def __init__(self, config: GroundingConfig) -> None:
        self.name = config.name or "grounding"
        self.shadow = config.mode == "shadow"
        self.config = config
        self.action = _ACTIONS[config.action]
        self.capabilities = Capabilities(
            whole_reply=True,
            may_block=self.action >= Action.REASK,
            may_reask=self.action is Action.REASK,
        )
        self._tags = re2.compile("(?s)" + config.tag_pattern)
        self._judge: Judge | None = get_judge(config.judge)
        #: Set by the engine (``bind_telemetry``): the answer-score histogram and the
        #: unsupported-claims counter.
        self._telemetry: Any = None

    def bind_telemetry(self, telemetry: Any) -> None:
        """Record grounding metrics in ``telemetry`` (the engine's catalogue)."""
        self._telemetry = telemetry

    def input(self, call: Call, ctx: CheckContext) -> Verdict:
        return Verdict(self.name, Action.ALLOW, shadow=self.shadow)

    def passages(self, call: Call) -> list[Passage]:
        """The call's passages from the configured sources, in order."""
        sources = self.config.context_from
        out: list[Passage] = []
        if "extension" in sources:
            out.extend(call.context)
        if "tool_results" in sources:
            for segment in call.segments:
                if segment.kind == "tool_result" and segment.text.strip():
                    out.append(Passage(f"tool-{len(out) + 1}", segment.text))
        if "tagged" in sources:
            for segment in call.segments:
                if segment.kind == "tool_result" or "<" not in segment.text:
                    continue
                for match in self._tags.finditer(segment.text):
                    text = match.group("text")
                    pid = match.group("id") if "id" in self._tags.groupindex else None
                    out.append(Passage(pid or str(len(out) + 1), text))
        return out

    def output(self, call: Call, reply: Reply, ctx: CheckContext) -> Verdict | Awaitable[Verdict]:
        passages = self.passages(call)
        if not passages:
            return Verdict(self.name, Action.ALLOW, shadow=self.shadow)
        question = self._question(call)
        results: list[tuple[int, Assessment]] = []
        for number, segment in enumerate(ctx.segments):
            if segment.kind == "message" and segment.text.strip():
                found = assess(
                    segment.text, passages, question=question, threshold=self.config.threshold
                )
                results.append((number, found))
        if self._judge is not None:
            pending = unsure([a for _, a in results], self.config.threshold, self.config.judge_band)
            if pending:
                return self._judged(results, pending, passages, reply, ctx)
        return self._verdict(results, reply, ctx)

    def _question(self, call: Call) -> str | None:
        """The last user message without tagged documents: a sentence that only
        restates it is no claim."""
        for segment in reversed(call.segments):
            if segment.role == "user" and segment.kind == "message":
                return str(self._tags.sub(" ", segment.text))
        return None

    # -- judge -----------------------------------------------------------------------------

    def _judged(
        self,
        results: list[tuple[int, Assessment]],
        pending: list[tuple[int, int]],
        passages: list[Passage],
        reply: Reply,
        ctx: CheckContext,
    ) -> Verdict | Awaitable[Verdict]:
        assert self._judge is not None
        claims = [results[r][1].claims[c] for r, c in pending]
        scores = judge_claims(self._judge, claims, passages, ctx.spender)
        if isinstance(scores, list):
            return self._verdict(_rescored(results, pending, scores), reply, ctx)

        async def wait(pending_scores: Awaitable[list[float]] = scores) -> Verdict:
            settled = await pending_scores
            return self._verdict(_rescored(results, pending, settled), reply, ctx)

        return wait()

    # -- decision --------------------------------------------------------------------------

    def _verdict(
        self, results: list[tuple[int, Assessment]], reply: Reply, ctx: CheckContext
    ) -> Verdict:
        threshold = self.config.threshold
        findings: list[Finding] = []
        problems: list[str] = []
        for segment, found in results:
            self._observe(found)
            for position, claim in enumerate(found.claims, start=1):
                if claim.score < threshold:
                    reason = claim.reasons[0] if claim.reasons else "low_support"
                    findings.append(self._finding("unsupported", segment, claim, reason))
                    problems.append(
                        f"claim {position} (characters {claim.start}-{claim.end}):"
                        f" {_REASONS.get(reason, reason)}"
                    )
                elif self.config.require_citations and not claim.cited:
                    findings.append(self._finding("citation_missing", segment, claim, "uncited"))
                    problems.append(
                        f"claim {position} (characters {claim.start}-{claim.end}): no citation"
                    )
            for citation in found.citations:
                if not (citation.exists and citation.supports):
                    rule = "unknown_passage" if not citation.exists else "not_supporting"
                    findings.append(
                        Finding(
                            self.name,
                            "grounding.citation_wrong",
                            segment,
                            citation.start,
                            citation.end,
                            0.0,
                            self.action,
                            rule,
                        )
                    )
                    what = "cites no passage" if not citation.exists else "cites a passage that"
                    what += "" if not citation.exists else " does not support its claim"
                    problems.append(
                        f"citation at characters {citation.start}-{citation.end} {what}"
                    )
            if found.score < self.config.min_answer_score and not any(
                f.segment == segment and f.kind == "grounding.unsupported" for f in findings
            ):
                length = max((c.end for c in found.claims), default=0)
                findings.append(
                    Finding(
                        self.name,
                        "grounding.unsupported",
                        segment,
                        0,
                        length,
                        found.score,
                        self.action,
                        "answer_score",
                    )
                )
                problems.append(f"the answer as a whole scores {found.score:.2f}")
        if self.config.action == "annotate":
            _annotate(reply, results)
            if results:
                ctx.response_headers["x-guardwire-grounding"] = (
                    f"{min(a.score for _, a in results):.3f}"
                )
        if not findings:
            return Verdict(self.name, Action.ALLOW, shadow=self.shadow)
        reason = f"check '{self.name}': " + "; ".join(problems[:5])
        if len(problems) > 5:
            reason += f"; and {len(problems) - 5} more"
        feedback = ""
        if self.action is Action.REASK:
            feedback = (
                "Parts of your previous answer are not supported by the provided passages: "
                + "; ".join(problems[:10])
                + ". Answer again using only facts stated in the passages; do not add"
                " figures, names or details they do not contain, and cite only passages"
                " that say what you cite them for."
            )
        return Verdict(
            self.name,
            self.action,
            tuple(findings),
            reason=reason,
            feedback=feedback,
            shadow=self.shadow,
        )

    def _finding(self, kind: str, segment: int, claim: Claim, rule: str) -> Finding:
        return Finding(
            self.name,
            f"grounding.{kind}",
            segment,
            claim.start,
            claim.end,
            claim.score,
            self.action,
            rule,
        )

    def _observe(self, found: Assessment) -> None:
        telemetry = self._telemetry
        if telemetry is None:
            return
        telemetry.grounding_score.labels(self.name).observe(found.score)
        for claim in found.claims:
            if claim.score < self.config.threshold:
                reason = claim.reasons[0] if claim.reasons else "low_support"
                telemetry.grounding_unsupported.labels(self.name, reason).inc()


def _annotate(reply: Reply, results: list[tuple[int, Assessment]]) -> None:
    """Add ``guardwire.grounding`` to a complete reply's JSON body (spans and scores)."""
    if not isinstance(reply.raw, dict) or not results:
        return
    records = [dict(found.as_record(), segment=segment) for segment, found in results]
    extension = reply.raw.setdefault("guardwire", {})
    if isinstance(extension, dict):
        extension["grounding"] = records[0] if len(records) == 1 else records
        reply.body = b""


def _rescored(
    results: list[tuple[int, Assessment]],
    pending: list[tuple[int, int]],
    scores: Sequence[float],
) -> list[tuple[int, Assessment]]:
    rescored = rescore([found for _, found in results], pending, scores)
    return [(segment, found) for (segment, _), found in zip(results, rescored, strict=True)]
