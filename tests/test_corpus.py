"""The checker on the labelled corpus: recall per family and the clean-pass rate stay above floors.

The corpus itself is checked first (the labels must be right before they can judge the rules).
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from benchmarks.corpus_report import (
    CORPUS_DIR,
    RECALL_KEYS,
    Entry,
    Report,
    evaluate,
    held_out,
    load_corpus,
    recall_key,
    render,
    split,
)
from workflows.calendar import WEEKDAY_JA, BusinessCalendar
from workflows.checks import Platform

RECALL_FLOOR = 0.8
CLEAN_PASS_FLOOR = 0.9
MIN_DRAFTS = 150
MIN_LABELS_PER_KEY = 5

_DATE = re.compile(
    r"(?:(\d{4})年|令和(\d{1,2})年)?(?:(\d{1,2})月)?(\d{1,2})日\s*[(（]([月火水木金土日])"
    r"(?:・(祝|休))?[)）]"
)


@pytest.fixture(scope="module")
def corpus() -> list[Entry]:
    return load_corpus()


@pytest.fixture(scope="module")
def report(corpus: list[Entry]) -> Report:
    return evaluate(corpus)


def _weighted_x_length(text: str) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # twitter_text imports pkg_resources
        from twitter_text import parse_tweet
    return int(parse_tweet(text).weightedLength)


def _resolve(year: int | None, month: int, day: int, at: datetime) -> date:
    """DESIGN.md §4: the next occurrence on or after 30 days before the publish time."""
    if year is not None:
        return date(year, month, day)
    floor = (at - timedelta(days=30)).date()
    candidate = date(floor.year, month, day)
    return candidate if candidate >= floor else date(floor.year + 1, month, day)


def _weekday_errors(entry: Entry) -> list[str]:
    """Wrong weekdays or holiday markers in the common 「M月D日(曜)」 forms of a draft."""
    text = unicodedata.normalize("NFKC", entry.text)
    errors, month, year, last_end = [], None, None, -1
    for m in _DATE.finditer(text):
        explicit = int(m[1]) if m[1] else (2018 + int(m[2]) if m[2] else None)
        if m[3]:
            month = int(m[3])
        if month is None:
            continue
        if explicit is None and (m[3] or m.start() - last_end > 12):
            year = None  # a new month without a year is read against the publish time
        year, last_end = explicit or year, m.end()
        day = _resolve(year, month, int(m[4]), entry.at)
        holiday = BusinessCalendar.holiday_name(day)
        marker_ok = m[6] is None or (
            holiday is not None and (m[6] == "祝" or "振替" in holiday or "休日" in holiday)
        )
        if WEEKDAY_JA[day.weekday()] != m[5] or not marker_ok:
            errors.append(f"{m[0]} is {day} ({WEEKDAY_JA[day.weekday()]}) {holiday or ''}")
    return errors


def test_corpus_is_large_enough(corpus: list[Entry]) -> None:
    clean = [e for e in corpus if e.clean]
    assert len(clean) >= MIN_DRAFTS
    assert len(corpus) - len(clean) >= MIN_DRAFTS


def test_every_family_and_flame_theme_is_labelled_often_enough(corpus: list[Entry]) -> None:
    counts = Counter(recall_key(label) for e in corpus for label in e.expect)
    thin = {k: counts[k] for k in RECALL_KEYS if counts[k] < MIN_LABELS_PER_KEY}
    assert not thin, f"families with fewer than {MIN_LABELS_PER_KEY} labelled drafts: {thin}"


def test_publish_times_are_in_tokyo(corpus: list[Entry]) -> None:
    wrong = [e.id for e in corpus if e.at.utcoffset() != timedelta(hours=9)]
    assert not wrong


def test_clean_drafts_are_clean_by_construction(corpus: list[Entry]) -> None:
    """What can be computed independently of the rules holds for every clean draft."""
    calendar = BusinessCalendar()
    problems: list[str] = []
    for e in (e for e in corpus if e.clean):
        if not e.emergency and not calendar.is_open_at(e.at):
            problems.append(f"{e.id}: published outside business hours")
        if Platform.X in e.platforms:
            if (n := _weighted_x_length(e.text)) > 280:
                problems.append(f"{e.id}: X weighted length {n}")
            if len(re.findall(r"[#＃]\w", e.text)) > 5:
                problems.append(f"{e.id}: more than 5 hashtags on X")
        if Platform.INSTAGRAM in e.platforms and (not e.media or "#" not in e.text):
            problems.append(f"{e.id}: Instagram without an image or a hashtag")
        problems += [f"{e.id}: {err}" for err in _weekday_errors(e)]
    assert not problems, "\n".join(problems)


def test_channel_labels_hold_by_construction(corpus: list[Entry]) -> None:
    """length, hours and duplicate labels describe drafts that really have the flaw."""
    calendar = BusinessCalendar()
    problems: list[str] = []
    for e in corpus:
        if "length" in e.expect:
            too_long = (Platform.X in e.platforms and _weighted_x_length(e.text) > 280) or (
                Platform.INSTAGRAM in e.platforms and len(e.text) > 2200
            )
            if not too_long:
                problems.append(f"{e.id}: labelled length but fits")
        if "hours" in e.expect and (e.emergency or calendar.is_open_at(e.at)):
            problems.append(f"{e.id}: labelled hours but inside business hours or emergency")
        if "duplicate" in e.expect and not any(
            timedelta(0) <= e.at - at <= timedelta(days=14) for _, at in e.history
        ):
            problems.append(f"{e.id}: labelled duplicate without a post in the last 14 days")
        if e.clean:
            continue
        # The other way round: a flawed draft carries no channel flaw it is not labelled with.
        if "hours" not in e.expect and not e.emergency and not calendar.is_open_at(e.at):
            problems.append(f"{e.id}: outside business hours but not labelled hours")
        unlabelled_x = Platform.X in e.platforms and "length" not in e.expect
        if unlabelled_x and _weighted_x_length(e.text) > 280:
            problems.append(f"{e.id}: too long for X but not labelled length")
        if Platform.INSTAGRAM in e.platforms and "media" not in e.expect and not e.media:
            problems.append(f"{e.id}: Instagram without an image but not labelled media")
    assert not problems, "\n".join(problems)


def test_weekday_labels_are_real_mistakes(corpus: list[Entry]) -> None:
    """Drafts labelled only date-weekday whose dates this simple reader parses are really wrong."""
    parsed_ok = [
        e.id
        for e in corpus
        if e.expect == ("date-weekday",)
        and _DATE.search(unicodedata.normalize("NFKC", e.text))
        and not _weekday_errors(e)
        and not re.search(r"[〇一二三四五六七八九十]+月|R\d", e.text)
    ]
    assert not parsed_ok, f"labelled date-weekday but every weekday is right: {parsed_ok}"


def test_the_checker_does_not_crash_on_the_corpus(report: Report) -> None:
    assert not report.crashes, "\n".join(f"{o.entry.id}: {o.crash}" for o in report.crashes)


def test_recall_per_family_is_at_least_the_floor(report: Report) -> None:
    low = report.below(RECALL_FLOOR)
    assert not low, (
        f"recall under {RECALL_FLOOR} for {low}\n\n"
        + render(report).split("\n\nClean-pass")[0]
        + "\n\nMisses:\n"
        + "\n".join(
            f"  {o.entry.id}: wanted {label}, got "
            + (", ".join(sorted({f.rule for f in o.reported})) or "nothing")
            for o, label in report.misses
            if recall_key(label) in low
        )
    )


def test_clean_pass_rate_is_at_least_the_floor(report: Report) -> None:
    details = "\n".join(
        f"  {o.entry.id}: "
        + "; ".join(f"{f.rule} 「{o.entry.text[f.start : f.end]}」" for f in o.reported)
        for o in report.false_alarms
    )
    assert report.clean_pass_rate >= CLEAN_PASS_FLOOR, (
        f"clean-pass rate {report.clean_pass_rate:.2f} < {CLEAN_PASS_FLOOR}; "
        f"false alarms:\n{details}"
    )


def test_the_meaning_corpus_and_its_held_out_split_are_fixed() -> None:
    """The held-out half is chosen by id alone; its figures are reported, never tuned for."""
    meaning = load_corpus(CORPUS_DIR / "meaning")
    held = split(meaning, "held-out")
    tuning = split(meaning, "tuning")
    assert len(meaning) >= 100
    assert {e.id for e in held}.isdisjoint(e.id for e in tuning)
    assert len(held) + len(tuning) == len(meaning)
    assert 0.35 < len(held) / len(meaning) < 0.65
    assert all(held_out(e.id) for e in held)
    assert not evaluate(meaning).crashes


def test_the_report_can_show_one_batch_by_figures_alone(capsys: pytest.CaptureFixture[str]) -> None:
    """``--files`` keeps one batch; ``--summary`` prints figures only, never a draft's id —
    the way the held-out half is looked at."""
    from benchmarks.corpus_report import main

    args = [
        "--corpus",
        str(CORPUS_DIR / "meaning"),
        "--split",
        "tuning",
        "--files",
        "drafts_2.yaml",
    ]
    assert main([*args, "--summary"]) == 0
    summary = capsys.readouterr().out
    batch = [
        e
        for e in split(load_corpus(CORPUS_DIR / "meaning"), "tuning")
        if e.source == "drafts_2.yaml"
    ]
    assert summary.startswith(f"Corpus: {len(batch)} drafts")
    assert "Clean-pass rate" in summary
    assert not any(e.id in summary for e in batch)
    assert main([*args, "--files", "no-such-*.yaml"]) == 2
    assert "no entries in files matching" in capsys.readouterr().err
