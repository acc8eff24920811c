"""flame.*: the manual's flame-prone themes (「炎上さしすせそ」), as warnings for the chief."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from workflows import catalogue
from workflows.checks.context import CheckContext, Rule
from workflows.checks.lexicon import Lexicon, load_lexicon
from workflows.checks.model import Finding


@cache
def lexicon() -> Lexicon:
    """The flame lexicon (flame.yaml), validated against its specs on first use."""
    return load_lexicon("flame.yaml", "flame", message_keys=catalogue.keys())


def check(ctx: CheckContext) -> Iterable[Finding]:
    return lexicon().findings(ctx)


RULE = Rule("flame", check)
