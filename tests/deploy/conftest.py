"""The image tests run last: under ``./dev test`` the image builds in the background
while the rest of the suite runs, so they rarely wait for it."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    image_tests = [item for item in items if item.path.name == "test_image.py"]
    if image_tests:
        rest = [item for item in items if item.path.name != "test_image.py"]
        items[:] = rest + image_tests
