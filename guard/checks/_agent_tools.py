"""The agent check's stateless judgement of one tool call: allow/deny lists, argument
rules, and how a tool call is named in findings, the audit log and the approvals list.

A tool call is named by its tool's name only when the policy mentions it (a name or a
glob) or the request offered it, and it looks like a name; any other name (one the model
made up) is ``other``. Its arguments are named by a keyed hash (HMAC-SHA256 of the tool
name and the canonical JSON of the arguments, ``sha256:`` + 16 hex): equal calls get
equal hashes, yet a short argument cannot be found by hashing guesses without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import replace

from guard.checks._agent_config import AgentConfig, first_match, matches, policy_patterns
from guard.checks._agent_state import ToolUse, as_text, at_pointer, host_allowed
from guard.checks._regex import compile_regex, fold_pattern
from guard.normalize import normalize
from guard.types import Action, Call, Finding

#: What a tool name must look like to be written anywhere (the audit's name shape).
_NAME_SHAPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,63}")


class ToolRules:
    """Allow/deny lists and argument rules of one ``agent`` entry (no state needed)."""

    def __init__(self, config: AgentConfig, check: str) -> None:
        self.config = config
        self.check = check
        self._deny = [
            (rule, compile_regex(fold_pattern(rule.deny_regex)))
            for rule in config.arguments
            if rule.deny_regex is not None
        ]
        self._hosts = [rule for rule in config.arguments if rule.allow_hosts is not None]
        self._patterns = policy_patterns(config)
        key = os.environ.get(config.hash_key_env, "")
        self._key = key.encode() if key else secrets.token_bytes(32)

    def findings(self, use: ToolUse, action: Action) -> list[Finding]:
        """The lists' and argument rules' findings for one tool call."""
        config = self.config
        found: list[Finding] = []
        if not config.tool_allowed(use.name):
            denied_by = first_match(use.name, config.tools_denied) or "other"
            found.append(Finding(self.check, "agent.tool_denied", action=action, rule=denied_by))
        for rule, pattern in self._deny:
            if matches(use.name, (rule.tool,)):
                present, value = at_pointer(use.arguments, rule.pointer)
                if present and pattern.search(normalize(as_text(value)).text):
                    found.append(
                        Finding(self.check, "agent.arguments", action=action, rule=rule.tool)
                    )
        for rule in self._hosts:
            if matches(use.name, (rule.tool,)) and not host_allowed(use.arguments, rule):
                found.append(Finding(self.check, "agent.arguments", action=action, rule=rule.tool))
        return found

    def tool_name(self, use: ToolUse, call: Call) -> str:
        """The tool's name as findings and listings may show it, or ``other``."""
        name = use.name
        if not _NAME_SHAPE.fullmatch(name):
            return "other"
        offered = any(t.get("name") == name for t in call.tools)
        return name if offered or matches(name, self._patterns) else "other"

    def arguments_hash(self, use: ToolUse) -> str:
        """The keyed hash of the tool call's name and canonical arguments."""
        mac = hmac.new(self._key, use.canonical.encode("utf-8", "replace"), hashlib.sha256)
        return "sha256:" + mac.hexdigest()[:16]

    def about(self, finding: Finding, use: ToolUse, call: Call) -> Finding:
        """``finding`` naming the tool call it is about (name and arguments hash)."""
        return replace(
            finding, tool=self.tool_name(use, call), arguments_hash=self.arguments_hash(use)
        )
