from __future__ import annotations

from datetime import datetime
from string import Formatter

import pytest

from tests.conftest import DEFAULT_AT, JST, CheckFn
from workflows.catalogue import CatalogueError, Lang, keys, message
from workflows.checks import Checker, CheckSettings, DraftToCheck, Severity

NIGHT = datetime(2026, 11, 24, 20, 0, tzinfo=JST)
TEXT = "みどり市民会館で講座を開きます。"


def test_severity_override_by_rule_and_by_family(check: CheckFn) -> None:
    by_rule = CheckSettings(severities={"hours.after-hours": Severity.INFO})
    assert check(TEXT, at=NIGHT, settings=by_rule).findings[0].severity is Severity.INFO
    by_family = CheckSettings(severities={"hours": Severity.ERROR})
    result = check(TEXT, at=NIGHT, settings=by_family)
    assert result.findings[0].severity is Severity.ERROR
    assert not result.ok


def test_disabled_and_enabled_rules(check: CheckFn) -> None:
    assert check(TEXT, at=NIGHT, settings=CheckSettings(disabled_rules=("hours",))).findings == ()
    only_dates = CheckSettings(enabled_rules=("date-weekday",))
    assert check(TEXT, at=NIGHT, settings=only_dates).findings == ()
    only_hours = CheckSettings(enabled_rules=("hours.after-hours",))
    assert [f.rule for f in check(TEXT, at=NIGHT, settings=only_hours).findings] == [
        "hours.after-hours"
    ]


def test_english_catalogue(check: CheckFn) -> None:
    result = Checker(lang=Lang.EN).check(DraftToCheck(TEXT, NIGHT))
    assert "outside business hours" in result.findings[0].message


def test_both_languages_take_the_same_placeholders() -> None:
    from workflows.catalogue import _catalogue

    def fields(template: str) -> set[str]:
        # A parameter may come in both languages (kind_ja / kind_en): one name for the check.
        names = {name for _, name, _, _ in Formatter().parse(template) if name}
        return {n.removesuffix("_ja").removesuffix("_en") for n in names}

    mismatched = [
        key for key, texts in _catalogue().items() if fields(texts["ja"]) != fields(texts["en"])
    ]
    assert mismatched == []
    assert "cli.summary" in keys()


def test_unknown_message_key_is_a_clear_error() -> None:
    with pytest.raises(CatalogueError, match="unknown message key"):
        message("no.such.key")


def test_naive_publish_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        DraftToCheck(TEXT, datetime(2026, 11, 24, 10))  # noqa: DTZ001


def test_a_draft_gets_at_most_50_findings_per_rule_and_a_count_of_the_rest() -> None:
    text = "（" * 200 + "講座を開きます。"
    result = Checker().check(DraftToCheck(text, DEFAULT_AT))
    brackets = [f for f in result.findings if f.rule == "typo.bracket"]
    assert len(brackets) == 51
    note = next(f for f in brackets if f.severity is Severity.INFO)
    assert (note.start, note.end) == (0, 0)
    assert "150件" in note.message
    assert sum(1 for f in brackets if f.severity is Severity.WARNING) == 50
