"""Runs every enabled rule family over a draft and returns its findings in text order."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Sequence

from workflows.calendar import BusinessCalendar
from workflows.catalogue import Lang
from workflows.checks.context import MAX_FINDINGS_PER_RULE, OMITTED, CheckContext, Rule
from workflows.checks.model import CheckResult, DraftToCheck, Finding, Severity
from workflows.checks.settings import CheckSettings


def default_rules() -> tuple[Rule, ...]:
    """Every rule family, in the order their findings are listed for the same span."""
    from workflows.checks import rules  # noqa: PLC0415 - keeps `import workflows.checks` light

    return rules.ALL


class Checker:
    """The checker the CLI and the bot share: build once, call for each draft."""

    def __init__(
        self,
        settings: CheckSettings | None = None,
        calendar: BusinessCalendar | None = None,
        rules: Sequence[Rule] | None = None,
        lang: Lang = Lang.JA,
    ) -> None:
        self.settings = settings or CheckSettings()
        self.calendar = calendar or BusinessCalendar()
        self.lang = lang
        all_rules = default_rules() if rules is None else tuple(rules)
        self.rules = tuple(r for r in all_rules if self._family_may_run(r.family))

    def _family_may_run(self, family: str) -> bool:
        s = self.settings
        if family in s.disabled_rules:
            return False
        if s.enabled_rules is None:
            return True
        # A module may report several families ("date" reports date-weekday, date-invalid, ...).
        return any(
            (fam := r.split(".", 1)[0]) == family or fam.startswith(family + "-")
            for r in s.enabled_rules
        )

    def check(self, draft: DraftToCheck) -> CheckResult:
        # A long draft makes tens of thousands of short-lived objects (matches, hits), freed as
        # soon as they go: the cycle collector, run meanwhile, would walk the whole heap for
        # nothing (tens of milliseconds), so it waits until the check is done.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._check(draft)
        finally:
            if collecting:
                gc.enable()

    def _check(self, draft: DraftToCheck) -> CheckResult:
        ctx = CheckContext(draft, self.settings, self.calendar, self.lang)
        found: list[Finding] = []
        for rule in self.rules:
            found.extend(self._configured(f for f in rule.check(ctx) if f is not OMITTED))
        found.sort(key=_in_text_order)
        kept, more = _capped(_dedupe(found), ctx.counts)
        kept.extend(
            ctx.whole(rule, Severity.INFO, "checks.more_findings", count=count)
            for rule, count in more.items()
        )
        kept.sort(key=_in_text_order)
        return CheckResult(tuple(kept))

    def _configured(self, findings: Iterable[Finding]) -> Iterable[Finding]:
        for f in findings:
            if not self.settings.is_enabled(f.rule):
                continue
            severity = self.settings.severity_for(f.rule, f.severity)
            if severity is not f.severity:
                f = Finding(f.rule, severity, f.message, f.start, f.end, f.suggestion)  # noqa: PLW2901
            yield f


def _in_text_order(f: Finding) -> tuple[int, int, int, str]:
    return f.start, f.end, f.severity.rank, f.rule


def _capped(
    findings: Iterable[Finding], made: dict[str, int]
) -> tuple[list[Finding], dict[str, int]]:
    """At most MAX_FINDINGS_PER_RULE findings per rule id, and how many more each rule had."""
    kept: list[Finding] = []
    shown: dict[str, int] = {}
    for f in findings:
        shown[f.rule] = shown.get(f.rule, 0) + 1
        if shown[f.rule] <= MAX_FINDINGS_PER_RULE:
            kept.append(f)
    more = {
        rule: max(count, made.get(rule, 0)) - MAX_FINDINGS_PER_RULE
        for rule, count in shown.items()
        if max(count, made.get(rule, 0)) > MAX_FINDINGS_PER_RULE
    }
    return kept, more


def _dedupe(findings: Iterable[Finding]) -> Iterable[Finding]:
    seen: set[tuple[str, int, int, str]] = set()
    for f in findings:
        key = (f.rule, f.start, f.end, f.message)
        if key not in seen:
            seen.add(key)
            yield f
