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
    found = [
        f for f in _family(check(text, settings=CITY).findings, "pii") if f.rule == "pii.address"
    ]
    assert any(_overlaps(text, address, f) for f in found), [
        (f.rule, f.start, f.end) for f in found
    ]
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
    found = [
        f
        for f in _family(check(text, settings=CITY).findings, "phone")
        if _overlaps(text, number, f)
    ]
    assert [f.rule for f in found] in (["phone.malformed"], ["phone.area-code"])
    [f] = found
    assert f"「{number}」" in f.message
    assert "桁" in f.message or "区切" in f.message or "0" in f.message
    # What to write instead: a correctly grouped number, other than the one quoted.
    assert re.search(r"「0\d{1,4}-\d{1,4}-\d{3,4}」", f.message.replace(f"「{number}」", ""))


@pytest.mark.parametrize("text", PHONES["look_alikes"], ids=lambda t: t[:30])
def test_a_well_formed_number_is_never_called_broken(check: CheckFn, text: str) -> None:
    found = _family(check(text, settings=CITY).findings, "phone")
    assert [f.rule for f in found if f.rule != "phone.unlisted"] == []


@pytest.mark.parametrize("text", PHONES["not_numbers"], ids=lambda t: t[:30])
def test_digits_that_are_not_a_phone_number_are_left_alone(check: CheckFn, text: str) -> None:
    assert _family(check(text, settings=CITY).findings, "phone") == []
