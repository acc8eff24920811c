"""The dev lists of `pii.address` and broken phone numbers (tests/workflows/checks/data/).

Broad lists written before the rules were reworked, one entry per shape staff write, so that the
rules are built for the category and not for the corpus drafts: every hit must be reported ON the
address or the number, no look-alike may be reported in that family.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import CheckFn
from workflows.checks import CheckSettings, Finding, Severity

DATA = Path(__file__).parent / "data"

# The settings benchmarks/corpus_report.py passes: the city's four published numbers.
CITY = CheckSettings(
    official_phone_numbers=("0277-12-3400", "0277-12-3411", "0277-12-3422", "0277-12-3433"),
    official_domains=("city.midori.lg.jp",),
)


def _load(name: str) -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
    return raw


ADDRESSES = _load("name_address.yaml")
PHONES = _load("broken_phone_numbers.yaml")


def _family(findings: tuple[Finding, ...] | list[Finding], family: str) -> list[Finding]:
    return [
        f
        for f in findings
        if f.rule.split(".")[0] == family and f.severity in (Severity.WARNING, Severity.ERROR)
    ]


def _overlaps(text: str, part: str, f: Finding) -> bool:
    start = text.index(part)
    return f.start < start + len(part) and start < f.end


def _reported_on(check: CheckFn, text: str, family: str, part: str) -> list[Finding]:
    """The family's warnings and errors on the draft that cover ``part`` of it."""
    found = _family(check(text, settings=CITY).findings, family)
    return [f for f in found if _overlaps(text, part, f)]


def test_the_lists_are_broad() -> None:
    assert len(ADDRESSES["hits"]) >= 100
    assert len(ADDRESSES["look_alikes"]) >= 100
    assert len(PHONES["hits"]) >= 60
    assert len(PHONES["look_alikes"]) + len(PHONES["not_numbers"]) >= 60


@pytest.mark.parametrize("entry", ADDRESSES["hits"], ids=lambda e: e["text"][:30])
def test_a_name_next_to_a_home_address_is_reported_on_the_address(
    check: CheckFn, entry: dict[str, str]
) -> None:
    text, address = entry["text"], entry["address"]
    found = [f for f in _reported_on(check, text, "pii", address) if f.rule == "pii.address"]
    assert found, [(f.rule, f.start, f.end) for f in check(text, settings=CITY).findings]
    assert all("住所" in f.message and "番地" in f.message for f in found)


@pytest.mark.parametrize("text", ADDRESSES["look_alikes"], ids=lambda t: t[:30])
def test_a_look_alike_of_a_home_address_is_left_alone(check: CheckFn, text: str) -> None:
    found = check(text, settings=CITY).findings
    assert [f for f in found if f.rule == "pii.address"] == []


@pytest.mark.parametrize("entry", PHONES["hits"], ids=lambda e: e["text"][:30])
def test_a_broken_fixed_line_is_reported_on_the_number_with_what_to_write(
    check: CheckFn, entry: dict[str, str]
) -> None:
    text, number = entry["text"], entry["number"]
    found = _reported_on(check, text, "phone", number)
    assert [f.rule for f in found] in (["phone.malformed"], ["phone.area-code"])
    [f] = found
    assert f"「{number}」" in f.message
    # What is wrong: the digit count, the grouping (of the area code), or the lost leading 0.
    assert re.search(
        "桁数が正しくありません|区切り方が正しくありません|市外局番の区切りが違う|最初の「0」が抜けて",
        f.message,
    )
    # What to write instead: a correctly grouped number, other than the one quoted.
    assert re.search(r"「0\d{1,4}-\d{1,4}-\d{3,4}」", f.message.replace(f"「{number}」", ""))


@pytest.mark.parametrize("text", PHONES["look_alikes"], ids=lambda t: t[:30])
def test_a_well_formed_number_is_never_called_broken(check: CheckFn, text: str) -> None:
    found = _family(check(text, settings=CITY).findings, "phone")
    assert [f.rule for f in found if f.rule != "phone.unlisted"] == []


@pytest.mark.parametrize("text", PHONES["not_numbers"], ids=lambda t: t[:30])
def test_digits_that_are_not_a_phone_number_are_left_alone(check: CheckFn, text: str) -> None:
    assert _family(check(text, settings=CITY).findings, "phone") == []
