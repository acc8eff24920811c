"""Leftover editorial notes: the dev list in data/editorial_notes.yaml, notes and look-alikes.

Every note must get a typo finding at warning or error that covers it; no look-alike may get one.
The list was written for the category (every shape of note staff leave), not from the corpus.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import CheckFn
from workflows.checks import CheckSettings, Finding, Severity

ONLY = CheckSettings(enabled_rules=("typo",))
DATA = Path(__file__).parent / "data" / "editorial_notes.yaml"
LIST: dict[str, Any] = yaml.safe_load(DATA.read_text(encoding="utf-8"))
HITS: list[tuple[str, str]] = [(h["text"], h["note"]) for h in LIST["hits"]]
LOOK_ALIKES: list[str] = list(LIST["look_alikes"])


def reported(findings: tuple[Finding, ...]) -> list[Finding]:
    return [
        f
        for f in findings
        if f.rule.startswith("typo") and f.severity in (Severity.WARNING, Severity.ERROR)
    ]


def test_the_list_is_broad() -> None:
    assert len(HITS) >= 120
    assert len(LOOK_ALIKES) >= 120
    assert all(note in text for text, note in HITS)


@pytest.mark.parametrize(("text", "note"), HITS, ids=[n for _, n in HITS])
def test_a_leftover_note_is_reported_on_the_note(check: CheckFn, text: str, note: str) -> None:
    start = text.index(note)
    end = start + len(note)
    findings = reported(check(text, settings=ONLY).findings)
    assert [f for f in findings if f.start < end and start < f.end], (
        f"{note!r} not reported in {text!r}: {[(f.rule, text[f.start : f.end]) for f in findings]}"
    )


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_a_look_alike_passes(check: CheckFn, text: str) -> None:
    findings = reported(check(text, settings=ONLY).findings)
    assert [(f.rule, text[f.start : f.end]) for f in findings] == []
