"""Print the requirements the container image installs: the core dependencies of
pyproject.toml plus the ``proxy`` and ``redis`` extras (a shared gateway's replicas keep
budgets in Redis), one per line (pip's requirements format).

Run by the Containerfile's builder stage before the sources are copied, so the
dependency layer is rebuilt only when pyproject.toml changes.
"""

from __future__ import annotations

import sys
import tomllib

EXTRAS = ("proxy", "redis")


def requirements(pyproject: str) -> list[str]:
    """Core dependencies followed by those of :data:`EXTRAS`."""
    with open(pyproject, "rb") as file:
        project = tomllib.load(file)["project"]
    wanted = list(project["dependencies"])
    for extra in EXTRAS:
        wanted += project["optional-dependencies"][extra]
    return wanted


if __name__ == "__main__":
    print("\n".join(requirements(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml")))
