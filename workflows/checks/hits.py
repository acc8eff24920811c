"""What a rule's scanner reports before it becomes a Finding, and the spec runner rule data uses.

Scanners are pure functions of a text and the rule's data (so specs in YAML can run them); a rule's
``check`` turns its hits into findings with the catalogue message in the check's language.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from workflows.checks.context import CheckContext
from workflows.checks.data import RuleDataError
from workflows.checks.model import Finding, Severity
from workflows.checks.settings import CheckSettings
from workflows.checks.text import NormalizedText

_NO_PARAMS: Mapping[str, Any] = MappingProxyType({})


class Hit(NamedTuple):
    """One problem a scanner found: rule id, severity, message key, span, message parameters.

    A tuple: a scanner may make tens of thousands for one draft (the engine shows 50 per rule and
    counts the rest), and a tuple costs a fraction of a frozen dataclass to make.
    """

    rule: str
    severity: Severity
    key: str
    start: int
    end: int
    params: Mapping[str, Any] = _NO_PARAMS
    suggestion: str | None = None


def findings(ctx: CheckContext, hits: Iterable[Hit]) -> Iterator[Finding]:
    """Hits whose spans index the normalised text (``ctx.text``)."""
    for hit in hits:
        if ctx.full(hit.rule):
            ctx.over_limit(hit.rule)  # counted: the engine says how many more there were
            continue
        yield ctx.finding(
            hit.rule,
            hit.severity,
            hit.key,
            hit.start,
            hit.end,
            suggestion=hit.suggestion,
            **hit.params,
        )


def findings_in_original(ctx: CheckContext, hits: Iterable[Hit]) -> Iterator[Finding]:
    """Hits whose spans index the text as written (rules that measure what is posted)."""
    text = ctx.draft.text
    for hit in hits:
        if ctx.over_limit(hit.rule):
            continue  # counted: the engine says how many more there were
        message = ctx.t(hit.key, quote=text[hit.start : hit.end], **hit.params)
        yield Finding(hit.rule, hit.severity, message, hit.start, hit.end, hit.suggestion)


Scanner = Callable[[NormalizedText, CheckSettings], Iterable[Hit]]


def run_specs(path: str, name: str, entry: Any, scanner: Scanner) -> None:
    """Check an entry's ``specs``: ``hit`` texts must report its ``rule``, ``miss`` texts not.

    ``settings`` in the entry configure the run. Raises RuleDataError naming file and entry.
    """
    rule = str(entry.get("rule") or "")
    specs = entry.get("specs") or {}
    hits, misses = specs.get("hit") or [], specs.get("miss") or []
    if not rule or not (hits or misses):
        raise RuleDataError(f"{path}: {name}: every entry needs a rule and specs (hit/miss)")
    try:
        settings = CheckSettings.of(entry.get("settings") or {})
    except ValueError as exc:
        raise RuleDataError(f"{path}: {name}: bad spec settings: {exc}") from exc
    for want, texts in (("hit", hits), ("miss", misses)):
        for spec_text in texts:
            found = [
                h.rule
                for h in scanner(NormalizedText.of(str(spec_text)), settings)
                if h.rule == rule or h.rule.startswith(rule + ".")
            ]
            if (want == "hit") != bool(found):
                raise RuleDataError(
                    f"{path}: {name}: spec {spec_text!r} should "
                    f"{'report' if want == 'hit' else 'not report'} {rule}"
                    + (f" (got {found})" if found else "")
                )
