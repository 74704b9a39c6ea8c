"""Presidio's engine, built once per (language, spaCy pipeline) in a process, offline.

A blank spaCy pipeline by default (nothing to download); a model name or a saved
pipeline directory adds NER. ``tldextract`` (Presidio's e-mail validation) is kept from
fetching the public-suffix list.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from guard.checks._pii_recognizers import (
    EXTRA_RECOGNIZERS,
    NAME_ENTITIES,
    NER_ENTITIES,
    OPT_IN_ENTITIES,
    OPT_IN_RULES,
    RULE_ENTITIES,
)


def neutralise_tldextract() -> None:
    """Make Presidio's e-mail validation use the bundled public-suffix snapshot.

    ``tldextract`` builds a module-level extractor that fetches the public-suffix list
    from the network on first use (and hangs behind a network that drops packets);
    the one installed here never fetches and never writes a cache.
    """
    import tldextract
    import tldextract.tldextract as module

    if getattr(module.TLD_EXTRACTOR, "_guardwire_offline", False):
        return
    extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    extractor._guardwire_offline = True  # type: ignore[attr-defined]
    module.TLD_EXTRACTOR = extractor


class _WithoutArguments(logging.Filter):
    """Drops the arguments of Presidio's log records: they can be user text (the IBAN
    recognizer logs "Failed to validate text %s" with the candidate). The message
    template stays, so the event is still visible."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = f"{record.msg} (arguments withheld: they may quote user text)"
            record.args = ()
        return True


_PRESIDIO_LOG = logging.getLogger("presidio-analyzer")
if not any(isinstance(f, _WithoutArguments) for f in _PRESIDIO_LOG.filters):
    _PRESIDIO_LOG.addFilter(_WithoutArguments())


@contextmanager
def _quiet_presidio() -> Iterator[None]:
    """Presidio's start-up chatter held back while a pipeline is built: a line per
    recognizer it loads ("Loaded recognizer", seven of them), the device it runs on, a
    warning per recognizer of another language it skips. Errors still show."""
    presidio_log = logging.getLogger("presidio-analyzer")
    level = presidio_log.level
    presidio_log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        presidio_log.setLevel(level)


@lru_cache(maxsize=8)
def analyzer_engine(language: str, nlp: str) -> Any:
    """Presidio's engine for ``language`` on a blank spaCy pipeline or model ``nlp``."""
    neutralise_tldextract()
    with _quiet_presidio():
        import spacy
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, predefined_recognizers
        from presidio_analyzer.nlp_engine import SpacyNlpEngine

        pipeline = spacy.blank(language) if nlp == "blank" else spacy.load(nlp)
        nlp_engine = SpacyNlpEngine(models=[{"lang_code": language, "model_name": nlp}])
        setattr(nlp_engine, "nlp", {language: pipeline})  # noqa: B010 (typed None upstream)
        registry = RecognizerRegistry(supported_languages=[language])
        registry.load_predefined_recognizers(languages=[language], nlp_engine=nlp_engine)
        for name in EXTRA_RECOGNIZERS:
            recognizer = getattr(predefined_recognizers, name)(supported_language=language)
            registry.add_recognizer(recognizer)
        return AnalyzerEngine(
            registry=registry, nlp_engine=nlp_engine, supported_languages=[language]
        )


def recognizers(language: str, nlp: str) -> list[Any]:
    """Every recognizer of the pipeline (Presidio's debug line about them held back)."""
    engine = analyzer_engine(language, nlp)
    with _quiet_presidio():
        return list(engine.registry.get_recognizers(language, all_fields=True))


def supported_entities(language: str, nlp: str) -> list[str]:
    """Every entity the configured pipeline can find."""
    found = {
        entity
        for recognizer in recognizers(language, nlp)
        if type(recognizer).__name__ != "SpacyRecognizer"
        for entity in recognizer.supported_entities
    }
    found |= set(NER_ENTITIES if nlp != "blank" else NAME_ENTITIES + RULE_ENTITIES)
    return sorted(found)


def default_entities(language: str, nlp: str) -> list[str]:
    """The entities found when a policy lists none."""
    opt_in = OPT_IN_ENTITIES | OPT_IN_RULES if nlp == "blank" else OPT_IN_ENTITIES - {"DATE_TIME"}
    return [e for e in supported_entities(language, nlp) if e not in opt_in]
