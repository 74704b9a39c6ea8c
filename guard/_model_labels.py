"""The ``model`` label: a closed set, whatever model names clients send.

A model name is labelled by the first of: a configured exact name, a configured
shell-style pattern (``gpt-4o*``, the label is the pattern itself), the price table's
family name (``claude-sonnet-4``), else ``other``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from fnmatch import fnmatchcase

#: The label of a model name outside the known set.
OTHER_MODEL = "other"
#: Model names remembered with their label; beyond this, names are matched again on each
#: call (a client sending endless distinct names cannot grow memory).
_CACHE_LIMIT = 4096


class ModelLabels:
    """Maps client model names to bounded metric labels."""

    def __init__(self) -> None:
        self._exact: frozenset[str] = frozenset()
        self._patterns: tuple[str, ...] = ()
        self._cache: dict[str, str] = {}
        #: The price table's labeller, loaded on first need.
        self._price_label: Callable[[str], str] | None = None

    def know(self, names: Iterable[str]) -> None:
        """Add model names or shell-style patterns that may appear as labels."""
        exact = set(self._exact)
        patterns = list(self._patterns)
        for name in names:
            if any(c in name for c in "*?["):
                if name not in patterns:
                    patterns.append(name)
            else:
                exact.add(name)
        self._exact, self._patterns = frozenset(exact), tuple(patterns)
        self._cache = {}

    def label_by(self, price_label: Callable[[str], str]) -> None:
        """Label names nothing configured matches with ``price_label`` (a price table's
        :meth:`~guard.checks._prices.PriceTable.label`: family name or ``other``)."""
        self._price_label = price_label
        self._cache = {}

    def __call__(self, model: str | None) -> str:
        """The label of ``model``."""
        if model is None:
            return OTHER_MODEL
        label = self._cache.get(model)
        if label is not None:
            return label
        if model in self._exact:
            label = model
        else:
            label = next((p for p in self._patterns if fnmatchcase(model, p)), "")
            label = label or self._prices()(model)
        if len(self._cache) < _CACHE_LIMIT:
            self._cache[model] = label
        return label

    def _prices(self) -> Callable[[str], str]:
        if self._price_label is None:
            from guard.checks._prices import PriceTable

            self._price_label = PriceTable.shipped().label
        return self._price_label
