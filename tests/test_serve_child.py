"""The shared serve-child helpers (tests/serve_child.py), also used by bench/_load.py and,
with no process to watch, by the container image client."""

from __future__ import annotations

import pytest

from tests.serve_child import free_port, wait_until_serving


def test_a_server_nobody_started_fails_at_the_deadline_with_a_readable_reason() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(AssertionError, match=r"did not start \(no answer in 0.1 s\)"):
        wait_until_serving(None, url, seconds=0.1)
