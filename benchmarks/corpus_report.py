"""Recall per rule family and clean-pass rate of the checker on the labelled draft corpus.

Usage: ``uv run python benchmarks/corpus_report.py [--json] [--corpus DIR] [--split PART]
[--files GLOB] [--summary]``

The corpus (tests/corpus/*.yaml, described in tests/corpus/README.md) holds realistic drafts of
the fictional みどり市, each labelled with the rule families that MUST be reported at warning or
error level (``expect``); clean drafts have ``expect: []`` and must get no warning or error.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import sys
import traceback
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from workflows.checks import (
    Checker,
    CheckSettings,
    DraftToCheck,
    Finding,
    MediaItem,
    PastPost,
    Platform,
    Severity,
)

CORPUS_DIR = Path(__file__).resolve().parent.parent / "tests" / "corpus"

OFFICIAL_DOMAINS = ("city.midori.lg.jp",)
OFFICIAL_PHONE_NUMBERS = ("0277-12-3400", "0277-12-3411", "0277-12-3422", "0277-12-3433")
# The city's name, its sections (as app.yaml would give them) and its facilities.
OFFICIAL_NAMES = (
    "みどり市",
    "シティ・プロモーション課",
    "デジタル推進課",
    "環境推進課",
    "生涯学習・スポーツ課",
    "健康づくり課",
    "障害福祉課",
    "産業振興課",
    "保育課",
    "長寿はつらつ課",
    "まちづくり推進課",
    "みどり市立博物館",
    "みどり市民会館",
    "みどり中央公民館",
    "みどり市役所",
)

FLAME_THEMES = (
    "flame.disaster",
    "flame.discrimination",
    "flame.ideology",
    "flame.religion",
    "flame.spam",
    "flame.sports",
    "flame.scandal",
    "flame.politics",
    "flame.sexual",
    "flame.misfire",
)
FAMILIES = (
    "length",
    "date-weekday",
    "date-invalid",
    "date-past",
    "phone",
    "url",
    "terminology",
    "typo",
    "style",
    "flame",
    "prohibited",
    "pii",
    "hours",
    "duplicate",
    "hashtag",
    "media",
)
# Recall is reported per family, and per theme for flame (DESIGN.md §1: one finding per theme).
RECALL_KEYS = tuple(k for f in FAMILIES for k in (FLAME_THEMES if f == "flame" else (f,)))

REPORTED = frozenset({Severity.ERROR, Severity.WARNING})


class CorpusError(ValueError):
    """A corpus entry that cannot be read; the message names the file and the entry."""


@dataclass(frozen=True)
class Entry:
    """One labelled draft of the corpus."""

    id: str
    text: str
    platforms: tuple[Platform, ...]
    at: datetime
    expect: tuple[str, ...]
    emergency: bool = False
    media: tuple[str, ...] = ()
    history: tuple[tuple[str, datetime], ...] = ()
    note: str | None = None
    source: str = ""

    @property
    def clean(self) -> bool:
        return not self.expect

    def draft(self) -> DraftToCheck:
        return DraftToCheck(
            text=self.text,
            at=self.at,
            platforms=self.platforms,
            emergency=self.emergency,
            media=tuple(MediaItem(m) for m in self.media),
            history=tuple(PastPost(text, at) for text, at in self.history),
        )


def recall_key(rule: str) -> str:
    """The key a rule id is counted under: its family, or ``flame.<theme>`` for flame."""
    parts = rule.split(".")
    if parts[0] == "flame" and len(parts) > 1:
        return f"flame.{parts[1]}"
    return parts[0]


def label_is_known(label: str) -> bool:
    key = recall_key(label)
    return key in RECALL_KEYS or key == "flame"


def meets(label: str, rule: str) -> bool:
    """Whether a finding of ``rule`` satisfies the label (the same id or one below it)."""
    return rule == label or rule.startswith(label + ".")


def _time(value: Any, where: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise CorpusError(f"{where}: 'at' is not ISO-8601: {value!r}") from None
    else:
        raise CorpusError(f"{where}: 'at' must be an ISO-8601 string")
    if moment.tzinfo is None:
        raise CorpusError(f"{where}: 'at' has no UTC offset: {value!r}")
    return moment


def _entry(raw: Any, source: str) -> Entry:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise CorpusError(f"{source}: every entry must be a mapping with an 'id'")
    where = f"{source}: {raw['id']}"
    allowed = {"id", "text", "platforms", "at", "expect", "emergency", "media", "history", "note"}
    if unknown := set(raw) - allowed:
        raise CorpusError(f"{where}: unknown keys {sorted(unknown)}")
    text, expect = raw.get("text"), raw.get("expect")
    if not isinstance(text, str) or not text:
        raise CorpusError(f"{where}: 'text' must be a non-empty string")
    if not isinstance(expect, list) or not all(isinstance(x, str) for x in expect):
        raise CorpusError(f"{where}: 'expect' must be a list of rule ids ([] for clean)")
    if bad := [x for x in expect if not label_is_known(x)]:
        raise CorpusError(f"{where}: unknown rule ids in 'expect': {bad}")
    try:
        platforms = tuple(Platform(p) for p in raw.get("platforms") or ())
    except ValueError as exc:
        raise CorpusError(f"{where}: {exc}") from None
    if not platforms:
        raise CorpusError(f"{where}: 'platforms' must name at least one platform")
    history = []
    for item in raw.get("history") or ():
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise CorpusError(f"{where}: history items need 'text' and 'at'")
        history.append((item["text"], _time(item.get("at"), where)))
    return Entry(
        id=raw["id"],
        text=text,
        platforms=platforms,
        at=_time(raw.get("at"), where),
        expect=tuple(expect),
        emergency=bool(raw.get("emergency", False)),
        media=tuple(str(m) for m in raw.get("media") or ()),
        history=tuple(history),
        note=raw.get("note"),
        source=source,
    )


def load_corpus(directory: Path = CORPUS_DIR) -> list[Entry]:
    """Every entry of every ``*.yaml`` file in ``directory``, in file order."""
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, list):
            raise CorpusError(f"{path.name}: the file must hold a list of entries")
        for raw in data:
            entry = _entry(raw, path.name)
            if entry.id in seen:
                raise CorpusError(f"{path.name}: id {entry.id} already used in {seen[entry.id]}")
            seen[entry.id] = path.name
            entries.append(entry)
    if not entries:
        raise CorpusError(f"no corpus entries under {directory}")
    return entries


def held_out(entry_id: str) -> bool:
    """The held-out split of tests/corpus/meaning: fixed by the id alone, before any tuning."""
    return hashlib.sha256(entry_id.encode()).digest()[0] < 128


def split(entries: Sequence[Entry], part: str) -> list[Entry]:
    """``all``, ``held-out`` (never tuned on) or ``tuning`` (the rest)."""
    if part == "all":
        return list(entries)
    return [e for e in entries if held_out(e.id) == (part == "held-out")]


def corpus_settings() -> CheckSettings:
    """The example city's settings: its domain, its published phone numbers, its names."""
    return CheckSettings(
        official_domains=OFFICIAL_DOMAINS,
        official_phone_numbers=OFFICIAL_PHONE_NUMBERS,
        official_names=OFFICIAL_NAMES,
    )


@dataclass(frozen=True)
class Outcome:
    """What the checker said about one entry."""

    entry: Entry
    findings: tuple[Finding, ...]
    crash: str | None = None

    @property
    def reported(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity in REPORTED)

    def met(self, label: str) -> bool:
        return any(meets(label, f.rule) for f in self.reported)

    def missed(self) -> tuple[str, ...]:
        return tuple(label for label in self.entry.expect if not self.met(label))

    def extra_keys(self) -> tuple[str, ...]:
        """Families (flame themes) reported at warning/error that no label asked for."""
        wanted = {recall_key(label) for label in self.entry.expect}
        if "flame" in wanted:
            wanted.update(FLAME_THEMES)
        keys = dict.fromkeys(recall_key(f.rule) for f in self.reported)
        return tuple(k for k in keys if k not in wanted)


@dataclass
class Report:
    outcomes: list[Outcome]
    recall: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def clean(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.entry.clean]

    @property
    def flawed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.entry.clean]

    @property
    def false_alarms(self) -> list[Outcome]:
        return [o for o in self.clean if o.reported or o.crash]

    @property
    def clean_pass_rate(self) -> float:
        clean = self.clean
        return (len(clean) - len(self.false_alarms)) / len(clean) if clean else 1.0

    @property
    def misses(self) -> list[tuple[Outcome, str]]:
        return [(o, label) for o in self.flawed for label in o.missed()]

    @property
    def extras(self) -> list[tuple[Outcome, str]]:
        return [(o, key) for o in self.flawed for key in o.extra_keys()]

    @property
    def crashes(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.crash]

    def recall_of(self, key: str) -> float | None:
        found, total = self.recall.get(key, (0, 0))
        return found / total if total else None

    def overall_recall(self) -> float:
        found = sum(f for f, _ in self.recall.values())
        total = sum(t for _, t in self.recall.values())
        return found / total if total else 1.0

    def below(self, floor: float) -> list[str]:
        """Recall keys with labels whose recall is under ``floor``."""
        return [k for k in self.recall if (r := self.recall_of(k)) is not None and r < floor]

    def to_dict(self) -> dict[str, Any]:
        return {
            "drafts": len(self.outcomes),
            "clean": len(self.clean),
            "flawed": len(self.flawed),
            "recall": {
                k: {"found": f, "labelled": t, "recall": round(f / t, 4) if t else None}
                for k, (f, t) in self.recall.items()
            },
            "overall_recall": round(self.overall_recall(), 4),
            "clean_pass_rate": round(self.clean_pass_rate, 4),
            "false_alarms": [_outcome_dict(o, o.reported) for o in self.false_alarms],
            "misses": [
                {**_outcome_dict(o, o.reported), "label": label} for o, label in self.misses
            ],
            "unexpected_extra_families": len(self.extras),
            "extras": [
                {
                    **_outcome_dict(o, [f for f in o.reported if recall_key(f.rule) == key]),
                    "family": key,
                }
                for o, key in self.extras
            ],
            "crashes": [{"id": o.entry.id, "error": o.crash} for o in self.crashes],
        }


def _outcome_dict(outcome: Outcome, findings: Iterable[Finding]) -> dict[str, Any]:
    return {
        "id": outcome.entry.id,
        "expect": list(outcome.entry.expect),
        "findings": [_finding_dict(outcome.entry, f) for f in findings],
    }


def _finding_dict(entry: Entry, finding: Finding) -> dict[str, Any]:
    return {**finding.to_dict(), "quote": entry.text[finding.start : finding.end]}


def run_checker(entry: Entry, checker: Checker) -> Outcome:
    """Check one entry; a crashing rule is recorded, not raised, so the report still prints."""
    try:
        return Outcome(entry, checker.check(entry.draft()).findings)
    except Exception as exc:  # rules are under construction: show every crash, keep going
        last = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{Path(last.filename).name}:{last.lineno}"
        return Outcome(entry, (), crash=f"{type(exc).__name__}: {exc} ({where})")


def evaluate(entries: Sequence[Entry] | None = None, checker: Checker | None = None) -> Report:
    """Run the checker on every entry and count recall per family and the clean passes."""
    entries = load_corpus() if entries is None else entries
    checker = checker or Checker(corpus_settings())
    report = Report([run_checker(e, checker) for e in entries])
    counts: dict[str, list[int]] = {k: [0, 0] for k in RECALL_KEYS}
    for outcome in report.flawed:
        for label in outcome.entry.expect:
            slot = counts.setdefault(recall_key(label), [0, 0])
            slot[1] += 1
            slot[0] += outcome.met(label)
    report.recall = {k: (f, t) for k, (f, t) in counts.items() if t}
    return report


def _line(text: str, limit: int = 60) -> str:
    text = text.replace("\n", "⏎")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _finding_lines(entry: Entry, findings: Iterable[Finding], indent: str) -> list[str]:
    lines = []
    for f in findings:
        quote = entry.text[f.start : f.end]
        shown = f"「{_line(quote, 30)}」 " if quote else ""
        lines.append(f"{indent}{f.severity.value:7} {f.rule:22} {shown}{_line(f.message, 70)}")
    return lines


def render(report: Report, *, details: bool = True) -> str:
    """The human-readable report; without ``details``, the figures alone."""
    out = [
        f"Corpus: {len(report.outcomes)} drafts "
        f"({len(report.clean)} clean, {len(report.flawed)} flawed)",
        "",
        "Recall per family (labelled flaws reported at warning or error level)",
        f"  {'family':22} {'found':>5} / {'labelled':<8} recall",
    ]
    for key, (found, total) in report.recall.items():
        out.append(f"  {key:22} {found:5} / {total:<8} {found / total:.2f}")
    total_found = sum(f for f, _ in report.recall.values())
    total_labels = sum(t for _, t in report.recall.values())
    out.append(
        f"  {'overall':22} {total_found:5} / {total_labels:<8} {report.overall_recall():.2f}"
    )
    passed = len(report.clean) - len(report.false_alarms)
    out += [
        "",
        f"Clean-pass rate: {passed} / {len(report.clean)} = {report.clean_pass_rate:.2f}"
        " (clean drafts with no warning or error)",
    ]
    if not details:
        return "\n".join(out)
    if report.false_alarms:
        out.append("False alarms on clean drafts:")
        for o in report.false_alarms:
            out.append(f"  {o.entry.id}")
            out += _finding_lines(o.entry, o.reported, "    ")
            if o.crash:
                out.append(f"    CRASH {o.crash}")
    if report.misses:
        out += ["", f"Misses ({len(report.misses)}):"]
        for o, label in report.misses:
            got = ", ".join(dict.fromkeys(f.rule for f in o.reported)) or "nothing"
            out.append(f"  {o.entry.id:44} wanted {label:22} got {got}")
    extras = report.extras
    by_key = Counter(key for _, key in extras)
    out += [
        "",
        f"Unexpected extra families on flawed drafts: {len(extras)}"
        + (f" ({', '.join(f'{k} {n}' for k, n in by_key.most_common())})" if extras else ""),
    ]
    for o, key in extras:
        out.append(f"  {o.entry.id}  (labelled {', '.join(o.entry.expect)})")
        out += _finding_lines(o.entry, [f for f in o.reported if recall_key(f.rule) == key], "    ")
    if report.crashes:
        out += ["", f"Crashes ({len(report.crashes)}):"]
        out += [f"  {o.entry.id}: {o.crash}" for o in report.crashes]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--corpus", type=Path, default=CORPUS_DIR, help="corpus directory")
    parser.add_argument(
        "--split",
        choices=("all", "held-out", "tuning"),
        default="all",
        help="part of the corpus (tests/corpus/meaning/README.md)",
    )
    parser.add_argument(
        "--files",
        metavar="GLOB",
        help="only the entries of the corpus files whose name matches, e.g. 'drafts_[56].yaml'",
    )
    parser.add_argument(
        "--summary",
        action="store_true",
        help="only the figures, no draft ids or findings (for the held-out half)",
    )
    args = parser.parse_args(argv)
    try:
        entries = split(load_corpus(args.corpus), args.split)
    except (CorpusError, OSError, yaml.YAMLError) as exc:
        print(f"corpus_report: {exc}", file=sys.stderr)
        return 2
    if args.files is not None:
        entries = [e for e in entries if fnmatch.fnmatchcase(e.source, args.files)]
        if not entries:
            print(f"corpus_report: no entries in files matching {args.files!r}", file=sys.stderr)
            return 2
    report = evaluate(entries)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(render(report, details=not args.summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
