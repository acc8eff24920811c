"""The one message catalogue: every text a person sees, Japanese first, English second.

Messages live in ``workflows/messages/*.yaml`` as ``key: {ja: ..., en: ...}``; keys are unique
across files. Placeholders use ``str.format`` syntax.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

_MESSAGES_DIR = Path(__file__).with_name("messages")


class Lang(StrEnum):
    JA = "ja"
    EN = "en"


class CatalogueError(Exception):
    """The message catalogue itself is broken (a packaging or development error)."""


@cache
def _catalogue() -> dict[str, dict[str, str]]:
    """Every message, parsed once per change of the files (kept in the rule data cache)."""
    from workflows.checks.data import cached  # noqa: PLC0415 - workflows.checks imports us

    paths = sorted(_MESSAGES_DIR.glob("*.yaml"))
    try:
        inputs = [Path(__file__).read_bytes()]
        inputs += [part for p in paths for part in (p.name.encode(), p.read_bytes())]
    except OSError:
        return _load(paths)  # reports the unreadable file its own way
    return cached("catalogue", inputs, lambda: _load(paths))


def _load(paths: list[Path]) -> dict[str, dict[str, str]]:
    import yaml  # noqa: PLC0415 - only when the cache is cold: `postgate check` starts faster

    merged: dict[str, dict[str, str]] = {}
    for path in paths:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {}
        for key, texts in data.items():
            if key in merged:
                raise CatalogueError(f"{path.name}: message key {key!r} is defined twice")
            if not isinstance(texts, dict) or not {"ja", "en"} <= texts.keys():
                raise CatalogueError(f"{path.name}: message {key!r} needs both 'ja' and 'en'")
            merged[key] = {str(k): str(v) for k, v in texts.items()}
    return merged


def message(key: str, lang: Lang = Lang.JA, /, **params: Any) -> str:
    """Return the text for ``key`` in ``lang`` with ``params`` filled in."""
    try:
        template = _catalogue()[key][lang.value]
    except KeyError:
        raise CatalogueError(f"unknown message key {key!r}") from None
    if not params:
        return template
    # A value that can say itself in a language (``said_in(lang)``, e.g. a broken audit link)
    # is said in this message's language.
    said = {
        k: v.said_in(lang) if callable(getattr(v, "said_in", None)) else v
        for k, v in params.items()
    }
    return template.format(**said)


@cache
def keys() -> frozenset[str]:
    """Every message key (the CLI asks once per option of every command, at every start)."""
    return frozenset(_catalogue())
