"""A SIGHUP while ``guardwire serve`` is still starting does not end it (hot reload).

``serve()`` holds SIGHUP once it runs, but before that the process imports guardwire
(about a second, several on a loaded machine), and a SIGHUP then took the default
action: the process ended. A logrotate ``kill -HUP`` or a deploy script's reload can
come at any moment, also right after a restart.

Each case starts a real serve process (the console script, and ``python -m guard.cli``)
with a ``sitecustomize`` that sends the process SIGHUP the moment it imports
``guard.engine``, in the middle of the package's imports: deterministic, where a signal
sent "soon after spawn" would land anywhere. The process must come up, serve, and
reload once its handler is in place (the held signal is applied, not dropped).
About 2 s each: a real serve process starts.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.serve_child import free_port, wait_until_serving

HANGUP_AT_IMPORT = """\
import importlib.abc, os, signal, sys

class HangUpWhileImporting(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "guard.engine":
            sys.meta_path.remove(self)
            sys.stderr.write("test: SIGHUP sent while importing guard.engine\\n")
            os.kill(os.getpid(), signal.SIGHUP)
        return None

sys.meta_path.insert(0, HangUpWhileImporting())
"""

COMMANDS = {
    "console script": [str(Path(sys.executable).with_name("guardwire"))],
    "python -m guard.cli": [sys.executable, "-m", "guard.cli"],
}


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
@pytest.mark.parametrize("how", list(COMMANDS))
def test_a_sighup_while_serve_imports_guardwire_is_held_and_applied(
    tmp_path: Path, how: str
) -> None:
    (tmp_path / "sitecustomize.py").write_text(HANGUP_AT_IMPORT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUARDWIRE_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tmp_path), env.get("PYTHONPATH")]))
    port = free_port()
    process = subprocess.Popen(
        [*COMMANDS[how], "serve", "--port", str(port)], stderr=subprocess.PIPE, text=True, env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(process, url)
        body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
        assert httpx.post(url + "/v1/chat/completions", json=body, timeout=30).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    assert "test: SIGHUP sent while importing guard.engine" in stderr
    assert "policies reloaded (SIGHUP): default@" in stderr


def test_only_the_serve_command_holds_sighup() -> None:
    from guard._cli_start import is_serve_command

    assert is_serve_command(["/opt/guardwire/bin/guardwire", "serve", "--port", "1"])
    # python -m guard.cli serve, while -m imports the package (argv[0] is "-m" then)
    assert is_serve_command(["-m", "serve"], ["python3", "-m", "guard.cli", "serve"])
    assert is_serve_command(["-m", "serve"], ["python3", "-X", "dev", "-m", "guard.cli", "serve"])
    # Another program run with -m that imports guard as a library keeps its SIGHUP.
    assert not is_serve_command(["-m", "serve"], ["python3", "-m", "myapp", "serve"])
    assert not is_serve_command(["-m", "serve"], ["python3", "-m", "myapp.guard", "serve"])
    assert not is_serve_command(["/opt/guardwire/bin/guardwire", "check", "serve"])
    assert not is_serve_command(["/usr/bin/pytest", "serve"])
    assert not is_serve_command(["guardwire"])
