"""ARCHITECTURE.md's layout names every module of the package, and no module that is gone.

Each ``### `guard/PACKAGE/``` section lists the modules of that package (its own
directory, not its subpackages) as backticked file names.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _layout_sections() -> dict[str, set[str]]:
    text = (ROOT / "ARCHITECTURE.md").read_text()
    layout = text[text.index("## Layout") : text.index("## The check API")]
    sections: dict[str, set[str]] = {}
    for heading, body in re.findall(r"^### `([^`]+)`\n(.*?)(?=^### |\Z)", layout, re.M | re.S):
        sections[heading] = set(re.findall(r"`([A-Za-z0-9_]+\.(?:py|json))`", body))
    return sections


def test_the_layout_lists_every_module_and_only_those() -> None:
    sections = _layout_sections()
    packages = sorted(p.parent for p in (ROOT / "guard").rglob("__init__.py"))
    assert sorted(sections) == sorted(f"{p.relative_to(ROOT).as_posix()}/" for p in packages)
    for package in packages:
        listed = sections[f"{package.relative_to(ROOT).as_posix()}/"]
        modules = {p.name for p in package.glob("*.py") if p.name != "__init__.py"}
        listed_modules = {name for name in listed if name.endswith(".py")}
        # A name may also be a module of another package (`text.py`): only this one's count.
        assert modules <= listed_modules, f"{package}: not in ARCHITECTURE.md: {modules - listed}"
        stale = {n for n in listed_modules - modules if not any(
            (other / n).exists() for other in packages)}  # fmt: skip
        assert not stale, f"{package}: ARCHITECTURE.md names modules that are gone: {stale}"
