"""What every rule receives: the draft, its normalised text, settings and the calendar."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from workflows.calendar import BusinessCalendar
from workflows.catalogue import Lang, message
from workflows.checks.model import DraftToCheck, Finding, Severity
from workflows.checks.settings import CheckSettings
from workflows.checks.text import NormalizedText

# A draft with thousands of the same slip (a pasted table of brackets) gets this many findings
# per rule id and one note with the count of the rest: more helps nobody, and each costs a message.
MAX_FINDINGS_PER_RULE = 50
# What ``finding`` returns past that limit; the engine counts and drops it.
OMITTED = Finding("", Severity.INFO, "", 0, 0)


@dataclass(frozen=True)
class CheckContext:
    draft: DraftToCheck
    settings: CheckSettings
    calendar: BusinessCalendar
    lang: Lang = Lang.JA
    # Findings made so far per rule id.
    counts: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def norm(self) -> NormalizedText:
        return NormalizedText.of(self.draft.text)

    @property
    def text(self) -> str:
        """The NFKC-normalised text rules match against."""
        return self.norm.text

    def t(self, key: str, /, **params: Any) -> str:
        """A catalogue message in the language of this check."""
        return message(key, self.lang, **params)

    def finding(
        self,
        rule: str,
        severity: Severity,
        key: str,
        start: int,
        end: int,
        *,
        suggestion: str | None = None,
        **params: Any,
    ) -> Finding:
        """A finding whose span (in the normalised text) is mapped back to the original.

        ``params`` fill the message; ``quote`` (the original text of the span) is always available.
        Past MAX_FINDINGS_PER_RULE findings of the same rule it returns OMITTED.
        """
        if self.over_limit(rule):
            return OMITTED
        ostart, oend = self.norm.span(start, end)
        quote = self.draft.text[ostart:oend]
        return Finding(
            rule=rule,
            severity=severity,
            message=self.t(key, quote=quote, **params),
            start=ostart,
            end=oend,
            suggestion=suggestion,
        )

    def full(self, rule: str) -> bool:
        """Whether ``rule`` has all the findings it may show (count the rest with over_limit)."""
        return self.counts.get(rule, 0) >= MAX_FINDINGS_PER_RULE

    def over_limit(self, rule: str) -> bool:
        """Count one more finding of ``rule``; True once there are more than the limit."""
        made = self.counts[rule] = self.counts.get(rule, 0) + 1
        return made > MAX_FINDINGS_PER_RULE

    def whole(self, rule: str, severity: Severity, key: str, **params: Any) -> Finding:
        """A finding about the draft as a whole (span 0..0)."""
        return Finding(rule, severity, self.t(key, **params), 0, 0, params.get("suggestion"))


class RuleCheck(Protocol):
    def __call__(self, ctx: CheckContext, /) -> Iterable[Finding]: ...


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule family: its id prefix and the function that finds its problems."""

    family: str
    check: RuleCheck | Callable[[CheckContext], Iterable[Finding]]
