"""Rule family placeholder: filled in by its own module."""

from __future__ import annotations

from collections.abc import Iterable

from workflows.checks.context import CheckContext, Rule
from workflows.checks.model import Finding


def check(ctx: CheckContext) -> Iterable[Finding]:
    return ()


RULE = Rule("pii", check)
