"""Hot reload of the config's policies: on SIGHUP and when a watched file changes.

Every worker process reloads on its own (the supervisor forwards SIGHUP to each; each
polls the files). A reload re-reads the config file (with the environment and the
command-line flags it was started with), builds a complete new
:class:`~guard.proxy.policies.PolicySet` off the event loop, then swaps one reference
on the loop. A call in flight keeps the engine it started with. When anything fails to
load, the running policies stay, the error is logged with file and line (the
:class:`~guard.errors.PolicyError` sentence, never the file's contents), and
``guardwire_policy_reloads_total{result="error"}`` counts it.

Only the policies and what picks them are reloaded (``RELOADABLE``); other settings
(listen address, workers, upstreams, store...) need a restart: a change to them is
logged as such and ignored.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from guard.engine import Guard
from guard.errors import GuardError, PolicyError
from guard.policy import Policy
from guard.proxy._hangup import release_hangups
from guard.proxy.config import ServerConfig, load_config
from guard.proxy.policies import PolicySet

if TYPE_CHECKING:
    from guard.proxy.app import ProxyApp

log = logging.getLogger("guardwire.proxy")

#: Config fields a reload applies; a change to any other one needs a restart.
RELOADABLE = (
    "policy",
    "policies",
    "tenant_policies",
    "route_policies",
    "model_policies",
    "keys",
    "reload_interval",
)
#: Where ``guardwire serve`` leaves the reload source for its worker processes.
SOURCE_VARIABLE = "GUARDWIRE_RELOAD_SOURCE"


@dataclass(frozen=True)
class ReloadSource:
    """How the running config was built: the config file and the command-line flags
    (the environment is read again, as at start)."""

    config: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)

    def load(self) -> ServerConfig:
        """The config as it is now on disk."""
        return load_config(self.config, overrides=self.overrides)

    def to_env(self) -> str:
        """Serialised for the worker processes."""
        return json.dumps({"config": self.config, "overrides": self.overrides})

    @classmethod
    def from_env(cls) -> ReloadSource:
        """The source ``guardwire serve`` left for this worker (an empty one otherwise)."""
        text = os.environ.get(SOURCE_VARIABLE)
        if not text:
            return cls()
        data = json.loads(text)
        return cls(data.get("config"), dict(data.get("overrides") or {}))


def needs_restart(running: ServerConfig, new: ServerConfig) -> list[str]:
    """Names of the settings that differ but only take effect after a restart."""
    ignored = set(RELOADABLE)
    before, after = running.model_dump(), new.model_dump()
    return sorted(k for k in before if k not in ignored and before[k] != after.get(k))


class PolicyReloader:
    """Reloads ``app``'s policies from ``source``; polls the files every
    ``reload_interval`` seconds while started."""

    def __init__(self, app: ProxyApp, source: ReloadSource) -> None:
        self.app = app
        self.source = source
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending = False
        #: Reloads asked for by SIGHUP and still running (strong references).
        self._reloads: set[asyncio.Task[bool]] = set()
        #: Policy files a failed reload referred to, watched until a reload succeeds
        #: (fixing a broken new file must trigger the next reload).
        self._attempted: list[str] = []
        #: Policies the engine refused during the current reload (counted by the engine).
        self._engine_refused: list[PolicyError] = []
        #: Path -> (mtime_ns, size, sha256) as last seen.
        self._seen: dict[str, tuple[int, int, str]] = {}
        self._remember()

    def files(self) -> list[str]:
        """The config file and every policy file in use, ``extends`` bases included."""
        files = [self.source.config] if self.source.config else []
        for path in (*self.app.policies.files, *self._attempted):
            if path not in files:
                files.append(path)
        return files

    async def start(self) -> None:
        """Start polling (at app start-up); a SIGHUP that arrived earlier reloads now."""
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._poll(), name="guardwire policy reload")
        if self._pending:
            self._pending = False
            await self.reload("SIGHUP")

    async def stop(self) -> None:
        """Stop polling (at shutdown)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def request(self) -> None:
        """Ask for a reload from any thread or a signal handler."""
        loop = self._loop
        if loop is None or loop.is_closed():
            self._pending = True
            return
        loop.call_soon_threadsafe(self._start_reload, "SIGHUP")

    def _start_reload(self, reason: str) -> None:
        # The loop keeps only a weak reference to a task: keep one until it is done, or a
        # collection could drop a reload half-way (asyncio.create_task's documentation).
        task = asyncio.get_running_loop().create_task(self.reload(reason))
        self._reloads.add(task)
        task.add_done_callback(self._reloads.discard)

    def install_hangup_handler(self) -> None:
        """Reload on SIGHUP (main thread only; elsewhere SIGHUP is left alone).

        A SIGHUP held since the process started (see :mod:`guard.proxy._hangup`) is
        delivered as soon as the handler is in place: it arrived after the policy files
        were read, so it reloads them once the app starts.
        """
        if threading.current_thread() is not threading.main_thread():
            return

        def on_hangup(signum: int, frame: FrameType | None) -> None:
            self.request()

        signal.signal(signal.SIGHUP, on_hangup)
        release_hangups()

    async def _poll(self) -> None:
        while True:
            interval = self.app.config.reload_interval
            await asyncio.sleep(interval or 1.0)
            if interval and await asyncio.to_thread(self.changed):
                await self.reload("file change")

    def changed(self) -> bool:
        """True when a watched file's contents differ from the last load (a touched but
        unchanged file is not a change)."""
        files = self.files()
        if set(files) != set(self._seen):
            return True
        for path in files:
            seen = self._seen[path]
            stat = _stat(path)
            if stat[:2] != seen[:2] and _digest(path) != seen[2]:
                return True
        return False

    def _snapshot(self) -> dict[str, tuple[int, int, str]]:
        return {path: (*_stat(path), _digest(path)) for path in self.files()}

    def _remember(self, before: dict[str, tuple[int, int, str]] | None = None) -> None:
        """Remember the watched files; those in ``before`` as they were then (taken
        before a reload read them: a write that lands during the reload is a change)."""
        before = before or {}
        self._seen = {
            path: before[path] if path in before else (*_stat(path), _digest(path))
            for path in self.files()
        }

    async def reload(self, reason: str) -> bool:
        """Build and switch to the policies on disk; on any error keep the running ones.
        Returns True when the new policies are in use."""
        async with self._lock:
            telemetry = self.app.telemetry
            made: list[Guard] = []
            self._engine_refused = []
            as_read = await asyncio.to_thread(self._snapshot)
            try:
                config, policies = await asyncio.to_thread(self._build, made)
            except Exception as exc:
                telemetry.policy_reloads.labels("error").inc()
                if isinstance(exc, PolicyError) and exc not in self._engine_refused:
                    # A policy file that does not load (the engine counts the ones it
                    # refuses itself): the load-error alert must see a broken reload too.
                    telemetry.policy_load_errors.inc()
                for guard in made:  # built, never used: not an active version
                    if (guard.policy_name, guard.policy_hash) not in self.app.policies.tags:
                        telemetry.policy_info.labels(guard.policy_name, guard.policy_hash).set(0)
                # Our errors are one sentence naming file, line and field; anything else
                # is named by its type only (its message could quote the file).
                reason_text = str(exc) if isinstance(exc, GuardError) else type(exc).__name__
                log.error(
                    "policy reload (%s) failed, keeping the running policies: %s",
                    reason,
                    reason_text,
                )
                self._remember(as_read)  # do not retry the same broken contents every poll
                return False
            before = self.app.policies.tags
            self._attempted = []
            self.app.use_policies(policies, config)
            for name, digest in before - policies.tags:
                telemetry.policy_info.labels(name, digest).set(0)
            for name, digest in policies.tags:
                telemetry.policy_info.labels(name, digest).set(1)
            telemetry.policy_reloads.labels("ok").inc()
            if await self.app.state.open_if_needed():  # the first policy with budgets
                from guard.proxy.app import Resource

                self.app.resources.append(Resource("state store", self.app.state.close))
            self._remember(as_read)
            active = ", ".join(sorted(f"{n}@{h}" for n, h in policies.tags))
            log.info("policies reloaded (%s): %s", reason, active)
            return True

    def _build(self, made: list[Guard]) -> tuple[ServerConfig, PolicySet]:
        new = self.source.load()
        self._attempted = _policy_files(new)
        running = self.app.config
        ignored = needs_restart(running, new)
        if ignored:
            log.warning(
                "config changes to %s need a restart: ignored until then", ", ".join(ignored)
            )
        keys = new.for_workers().keys
        config = running.model_copy(
            update={name: getattr(new, name) for name in RELOADABLE if name != "keys"}
            | {"keys": keys}
        ).with_written_paths(new.written_paths)

        def make_guard(policy: Policy) -> Guard:
            try:
                guard = self.app.make_guard(policy)
            except PolicyError as refused:
                # Already in guardwire_policy_load_errors_total (the engine counts it).
                self._engine_refused.append(refused)
                raise
            made.append(guard)
            return guard

        return config, PolicySet(config, make_guard, previous=self.app.policies)


def _policy_files(config: ServerConfig) -> list[str]:
    """The policy files ``config`` refers to directly (pack names are not files)."""
    references = [config.policy, *config.policies.values()]
    references += [key.policy for key in config.keys if key.policy]
    for mapping in (config.tenant_policies, config.route_policies, config.model_policies):
        references += mapping.values()
    return [
        ref
        for ref in dict.fromkeys(config.policies.get(r, r) for r in references)
        if Path(ref).is_file()
    ]


def _stat(path: str) -> tuple[int, int]:
    try:
        stat = Path(path).stat()
    except OSError:
        return (-1, -1)
    return (stat.st_mtime_ns, stat.st_size)


def _digest(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""
