"""Load-benchmark plumbing: server subprocesses, a load generator, CPU accounting.

The servers (the fake upstream from ``tests/fake_upstream.py`` and ``guardwire serve``)
run as subprocesses on free loopback ports and are always stopped on the way out, also
on Ctrl-C. The load generator is ``wrk`` when it is installed (or installable with
``apt-get`` as root); otherwise this module's own closed-loop generator, run as a
separate process: ``python -m bench._load URL BODY_FILE -c N -d SECONDS``.

Both generators keep N keep-alive connections, each with one request in flight, and
report latency percentiles, requests per second and every response that was not 200.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tests.serve_child import free_port, wait_until_serving

ROOT = Path(__file__).resolve().parent.parent
PATH = "/v1/chat/completions"
_START_TIMEOUT = 30.0  # seconds a server gets to come up
_STOP_TIMEOUT = 5.0  # seconds a server gets to exit on SIGTERM before SIGKILL
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


# -- servers ----------------------------------------------------------------------------


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: SIGTERM the child when the benchmark dies, even by SIGKILL."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _spawn(args: list[str], env: dict[str, str] | None = None, *, pipe: bool = False) -> Server:
    """Start a server; ``pipe``: its stdout is a pipe (for a READY line), else logged."""
    # Output goes to a file, not a pipe: a server that logs a lot under load must never
    # block on a full pipe nobody reads. Server.stop() closes it.
    log = tempfile.TemporaryFile()  # noqa: SIM115
    # A session of its own: Ctrl-C reaches only the benchmark, whose ``finally`` then
    # stops the servers in order instead of racing their own signal handlers.
    process = subprocess.Popen(
        args,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if pipe else log,
        stderr=log,
        start_new_session=True,
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )
    return Server("", process, log)


@dataclass
class Server:
    """A running server subprocess."""

    url: str
    process: subprocess.Popen[bytes]
    log: IO[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> str:
        """Stop the process (SIGTERM, then SIGKILL); return the end of what it logged."""
        process = self.process
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(_STOP_TIMEOUT)
        if process.stdout is not None:
            process.stdout.close()
        if self.log.closed:
            return ""
        self.log.seek(0)
        tail = self.log.read()[-4000:].decode(errors="replace")
        self.log.close()
        return tail

    def first_line(self, timeout: float) -> str:
        """The first line the process prints, waiting at most ``timeout`` seconds."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        data = b""
        while b"\n" not in data and self.process.poll() is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if select.select([fd], [], [], min(remaining, 0.5))[0]:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                data += chunk
        return data.decode(errors="replace").partition("\n")[0]


@contextlib.contextmanager
def fake_upstream(reply_bytes: int = 1024) -> Iterator[Server]:
    """Run ``tests/fake_upstream.py`` until the block exits."""
    args = [sys.executable, "tests/fake_upstream.py", "--port", "0"]
    server = _spawn([*args, "--reply-bytes", str(reply_bytes)], pipe=True)
    try:
        # READY arrives within a second; the timeout only bounds a broken start.
        line = server.first_line(_START_TIMEOUT)
        if not line.startswith("READY "):
            raise RuntimeError(f"the fake upstream did not start:\n{server.stop()}")
        server.url = line.split()[1]
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def proxy(upstream: str, *, policy: str = "default", workers: int = 1) -> Iterator[Server]:
    """Run ``guardwire serve --upstream UPSTREAM`` (log level warning) until the block exits."""
    port = free_port()
    args = [sys.executable, "-m", "guard.cli", "serve", "--upstream", upstream]
    args += ["--port", str(port), "--policy", policy, "--workers", str(workers)]
    # No upstream key: the fake ignores auth, and none must leak from the environment.
    env = {"GUARDWIRE_LOG_LEVEL": "warning", "GUARDWIRE_UPSTREAM_KEY_ENV": "GUARDWIRE_BENCH_NO_KEY"}
    server = _spawn(args, env)
    server.url = f"http://127.0.0.1:{port}"
    try:
        # Raises AssertionError with the proxy's log when it exits or stays silent.
        wait_until_serving(server.process, server.url, seconds=_START_TIMEOUT, output=server.stop)
        yield server
    finally:
        server.stop()


def request_body(prompt: str, *, stream: bool) -> bytes:
    """An OpenAI chat completion request with one user message."""
    payload: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": prompt}],
    }
    if stream:
        payload["stream"] = True
    return json.dumps(payload, separators=(",", ":")).encode()


def check_once(url: str, body: bytes, *, stream: bool) -> dict[str, str]:
    """Send one request; raise unless it is a complete 200. Returns the response headers."""
    request = urllib.request.Request(
        url + PATH, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            data = response.read()
            headers = {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{url}{PATH} answered {exc.code}: {exc.read()[:300]!r}") from None
    complete = data.rstrip().endswith(b"[DONE]") if stream else data.startswith(b"{")
    if not complete:
        raise RuntimeError(f"{url}{PATH} sent an incomplete reply: {data[-300:]!r}")
    return headers


# -- CPU accounting ----------------------------------------------------------------------


def _stat(pid: int | str) -> list[str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()  # fields from the 3rd (state) on


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds used so far by ``pid`` and its descendants (Linux).

    Descendants count because ``guardwire serve --workers N`` runs N worker processes.
    """
    stats = {int(entry.name): _stat(entry.name) for entry in Path("/proc").glob("[0-9]*")}
    if stats.get(pid) is None:
        return float("nan")
    children: dict[int, list[int]] = {}
    for child, fields in stats.items():
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(child)
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        fields = stats.get(current)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])  # utime + stime
        todo += children.get(current, [])
    return total / _TICKS


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy so far, all cores (Linux ``/proc/stat``).

    Compared with what the benchmark's own processes used, it shows how much of the
    machine something else took during a run (another job, the hypervisor: steal).
    """
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    return (user + nice + system + irq + softirq + steal) / _TICKS


def children_cpu_seconds() -> float:
    """CPU seconds of every child process waited for so far (the load generators)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -- load generators ---------------------------------------------------------------------


@dataclass
class Load:
    """What one load run measured."""

    p50_ms: float
    p99_ms: float
    mean_ms: float
    rps: float
    requests: int
    non_200: int
    errors: int  # socket errors and timeouts
    #: Responses the server sent in all, also during the generator's warm-up (for CPU
    #: per request); ``requests`` counts only the measured ones.
    completed: int = 0

    def __post_init__(self) -> None:
        self.completed = max(self.completed, self.requests)

    @property
    def failure(self) -> str | None:
        """Why the run does not count, or None."""
        problems = []
        if self.non_200:
            problems.append(f"{self.non_200} non-200 responses")
        if self.errors:
            problems.append(f"{self.errors} socket errors/timeouts")
        if not self.requests:
            problems.append("no completed requests")
        return ", ".join(problems) or None


_wrk_checked = False


def find_wrk() -> str | None:
    """Path of ``wrk``; as root with apt-get, try installing it once (bounded in time)."""
    global _wrk_checked
    found = shutil.which("wrk")
    if found or _wrk_checked:
        return found
    _wrk_checked = True
    apt = shutil.which("apt-get")
    if apt is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    print("wrk not found: trying 'apt-get install -y wrk' ...", file=sys.stderr, flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [apt, "install", "-y", "-q", "wrk"]
    # A failed install may only mean a stale package list: update once and retry.
    for commands in ([install], [[apt, "update", "-q"], install]):
        for command in commands:
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                subprocess.run(command, env=env, capture_output=True, timeout=120, check=False)
        found = shutil.which("wrk")
        if found:
            break
    print(f"wrk: {found or 'not installable, using the Python load generator'}", file=sys.stderr)
    return found


_WRK_SCRIPT = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [==[{body}]==]
"""
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_DURATION = r"([\d.]+)(us|ms|s|m|h)"


def _ms(match: re.Match[str] | None) -> float:
    if match is None:
        return float("nan")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> Load:
    """Parse the output of ``wrk --latency``."""
    requests = re.search(r"(\d+) requests in", output)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    non_200 = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return Load(
        p50_ms=_ms(re.search(r"^\s+50%\s+" + _DURATION, output, re.M)),
        p99_ms=_ms(re.search(r"^\s+99%\s+" + _DURATION, output, re.M)),
        mean_ms=_ms(re.search(r"Latency\s+" + _DURATION, output)),
        rps=float(rps.group(1)) if rps else 0.0,
        requests=int(requests.group(1)) if requests else 0,
        non_200=int(non_200.group(1)) if non_200 else 0,
        errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


class Wrk:
    """``wrk --latency -t1 -cN -dS`` with a Lua script that POSTs the body."""

    name = "wrk"

    def __init__(self, path: str, workdir: Path) -> None:
        self.path = path
        self.workdir = workdir
        self._scripts: dict[bytes, Path] = {}

    def _script(self, body: bytes) -> Path:
        script = self._scripts.get(body)
        if script is None:
            script = self.workdir / f"post{len(self._scripts)}.lua"
            script.write_text(_WRK_SCRIPT.format(body=body.decode()))
            self._scripts[body] = script
        return script

    def run(self, url: str, body: bytes, connections: int, seconds: float) -> Load:
        args = [self.path, "--latency", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
        args += ["--timeout", "5s", "-s", str(self._script(body)), url + PATH]
        done = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 30)
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()}")
        return parse_wrk(done.stdout)


class PythonLoad:
    """This module's own generator (``python -m bench._load``) in a separate process."""

    name = "python"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._bodies: dict[bytes, Path] = {}

    def run(self, url: str, body: bytes, connections: int, seconds: float) -> Load:
        path = self._bodies.get(body)
        if path is None:
            path = self.workdir / f"body{len(self._bodies)}.json"
            path.write_bytes(body)
            self._bodies[body] = path
        args = [sys.executable, "-m", "bench._load", url + PATH, str(path)]
        args += ["-c", str(connections), "-d", str(seconds)]
        done = subprocess.run(
            args, cwd=ROOT, capture_output=True, text=True, timeout=seconds + 30, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"the load generator failed: {done.stderr.strip()[-500:]}")
        return Load(**json.loads(done.stdout))


LoadGenerator = Wrk | PythonLoad


@contextlib.contextmanager
def load_generator() -> Iterator[LoadGenerator]:
    """``wrk`` if available, else the Python generator; with a scratch folder for both.

    ``GUARDWIRE_BENCH_LOADGEN=python`` picks the Python generator even when wrk is there.
    """
    with tempfile.TemporaryDirectory(prefix="guardwire-bench-") as scratch:
        wrk = None if os.environ.get("GUARDWIRE_BENCH_LOADGEN") == "python" else find_wrk()
        yield Wrk(wrk, Path(scratch)) if wrk else PythonLoad(Path(scratch))


# -- the Python load generator (runs in its own process) --------------------------------


def _percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def _generate(url: str, body: bytes, connections: int, seconds: float) -> dict[str, Any]:
    """Closed loop: each connection sends its next request when the previous one ends."""
    import httptools

    parts = urllib.parse.urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    loop = asyncio.get_running_loop()
    clock = time.perf_counter
    samples: list[float] = []
    counts = {"non_200": 0, "errors": 0, "completed": 0}
    warmup = min(0.5, seconds / 4)  # connections open and pools fill before counting
    start = clock() + warmup
    stop = start + seconds

    class Connection(asyncio.Protocol):
        def __init__(self) -> None:
            self.parser = httptools.HttpResponseParser(self)
            self.done = loop.create_future()
            self.sent = 0.0
            self.transport: asyncio.Transport | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport  # type: ignore[assignment]
            self.send()

        def send(self) -> None:
            self.sent = clock()
            assert self.transport is not None
            self.transport.write(request)

        def data_received(self, data: bytes) -> None:
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserError:
                counts["errors"] += 1
                self.finish()

        def on_message_complete(self) -> None:
            now = clock()
            counts["completed"] += 1
            if self.sent >= start:
                samples.append(now - self.sent)
                if self.parser.get_status_code() != 200:
                    counts["non_200"] += 1
            if now < stop:
                self.send()
            else:
                self.finish()

        def finish(self) -> None:
            if self.transport is not None:
                self.transport.close()
            if not self.done.done():
                self.done.set_result(None)

        def connection_lost(self, exc: Exception | None) -> None:
            if not self.done.done():
                counts["errors"] += 1
                self.done.set_result(None)

    protocols = []
    for _ in range(connections):
        _, protocol = await loop.create_connection(Connection, host, port)
        protocols.append(protocol)
    # Every loop is bounded: a stuck connection is abandoned 10 s after the deadline.
    _, pending = await asyncio.wait([p.done for p in protocols], timeout=warmup + seconds + 10)
    counts["errors"] += len(pending)
    for protocol in protocols:
        protocol.finish()
    ms = sorted(s * 1000 for s in samples)
    return {
        "p50_ms": _percentile(ms, 0.5) if ms else float("nan"),
        "p99_ms": _percentile(ms, 0.99) if ms else float("nan"),
        "mean_ms": sum(ms) / len(ms) if ms else float("nan"),
        "rps": len(ms) / seconds,
        "requests": len(ms),
        **counts,
    }


def main(argv: list[str] | None = None) -> None:
    """Run the Python load generator and print its measurements as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench._load", description=main.__doc__)
    parser.add_argument("url", help="full URL to POST to")
    parser.add_argument("body", type=Path, help="file holding the JSON request body")
    parser.add_argument("-c", "--connections", type=int, default=1)
    parser.add_argument("-d", "--seconds", type=float, default=2.0)
    args = parser.parse_args(argv)
    try:
        from uvloop import new_event_loop
    except ImportError:  # pragma: no cover - uvloop is optional
        from asyncio import new_event_loop  # type: ignore[assignment]
    loop = new_event_loop()
    try:
        result = loop.run_until_complete(
            _generate(args.url, args.body.read_bytes(), args.connections, args.seconds)
        )
    finally:
        loop.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
