"""prohibited.*: what the manual (§5 ③) says must never be posted; errors, warnings if weak."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from workflows import catalogue
from workflows.checks import sentence_model
from workflows.checks.context import CheckContext, Rule
from workflows.checks.lexicon import Lexicon, load_lexicon
from workflows.checks.model import Finding


@cache
def lexicon() -> Lexicon:
    """The prohibited lexicon (prohibited.yaml), validated against its specs on first use."""
    return load_lexicon("prohibited.yaml", "prohibited", message_keys=catalogue.keys())


def check(ctx: CheckContext) -> Iterable[Finding]:
    found = list(lexicon().findings(ctx))
    # The sentence model's second opinion on sentences the lexicon said nothing of.
    return [*found, *sentence_model.findings(ctx, "prohibited", found)]


RULE = Rule("prohibited", check)
