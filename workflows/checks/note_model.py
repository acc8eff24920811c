"""A small statistical second opinion on leftover editorial notes, next to typo's rules.

typo's rules (typo.yaml) report a note by what it holds: note vocabulary in a bracket, a ※
remark or a short line, a chat mention, a mail header… Each blind batch of drafts brought notes
in shapes nobody had listed (a chief's remark, a pasted chat line, two versions left side by
side), so every segment of a draft (a line, cut after a full stop and before ※ and ←) is also
scored by a logistic regression over the character 1-4-grams of its normalised text (the
features of sentence_model.py): "this is a note to colleagues, not text for residents". The
weights (``rules/note_model.json``) are trained by ``benchmarks/train_notes.py`` from the
repository's own data (the tuning half of tests/corpus/meaning, the main corpus, typo's dev list
of notes and look-alikes, and the hand-written lines of tests/corpus/meaning/training/notes/) as
the minimum of a convex loss; a test checks that the shipped file is what the script builds (up
to the last unit of rounding).

A segment at or above the threshold (chosen by cross-validation so that about one clean draft
in a hundred is flagged out of fold, and never under 0.75: see train_notes.MIN_THRESHOLD) is
reported as a ``typo.likely_note`` warning naming its line, unless typo's rules already reported
a leftover (a note or a placeholder) on that line. A draft of one segment is never judged: a
note is left among the text for residents, and a one-line post is that text.

Cost: a dictionary look-up per character n-gram, with at most MAX_LINE characters of a segment
and MAX_SCORED characters of distinct segments per draft, so it stays linear and small.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache

from workflows.checks import linear_model
from workflows.checks.context import CheckContext
from workflows.checks.data import cached_data
from workflows.checks.linear_model import LinearModel, Reported
from workflows.checks.model import Finding, Severity
from workflows.checks.sentence_model import trimmed

MODEL_FILE = "note_model.json"
RULE = "typo.likely_note"
# Characters of a segment the model reads (a longer one is read up to there).
MAX_LINE = 200
# Characters of distinct segments scored per draft: posts are far shorter; past it a
# 70,000-character draft costs no more.
MAX_SCORED = 12_000
# Characters of a draft the model reads: a post is far shorter, and a 70,000-character draft
# of one mark a line (※※※…, empty lines) costs no more than this much of it.
MAX_READ = 20_000
# A segment with fewer letters than this (a divider, a time, "案A") is not scored.
MIN_LETTERS = 3


# Where a line is cut: after a full stop (a note pasted after a sentence, "…開いています。［初校］";
# not after 。。。, an ellipsis)
# and before ※ and ← (a remark, or a pointer at what comes before: "…予定です※写真は差し替え",
# "…しましょう←これでいい？"). Not at ! or ?, which also stand inside a heading
# (【知ってた？】みどり市の木は…), where a cut would leave half of it.
_CUT = re.compile(r"(?<=[^。]。)(?!。)|(?=[※←])")
_LINE = re.compile(r"[^\n]+")


def segments(text: str) -> Iterator[tuple[int, int]]:
    """The [start, end) of each segment of an NFKC text (of its first MAX_READ characters): its
    lines, cut further by _CUT, without the spaces around them (and none that is only spaces)."""
    for line in _LINE.finditer(text, 0, MAX_READ):
        start, stop = line.span()
        at = start
        for m in _CUT.finditer(text, start, stop):
            if m.start() > at:
                yield from trimmed(text, at, m.start())
            at = m.end()
        if stop > at:
            yield from trimmed(text, at, stop)


def several(text: str) -> bool:
    """Whether ``text`` has two segments or more (a one-segment draft is never judged)."""
    parts = segments(text)
    return next(parts, None) is not None and next(parts, None) is not None


_LINK = re.compile(r"(?:https?://|www\.)[!-~]+")


def prepared(segment: str) -> str:
    """What the model reads of a segment: at most MAX_LINE characters, a link as the word
    "url" (its letters are nobody's words, and a line that only points at a link is ordinary)."""
    segment = segment[:MAX_LINE]
    return _LINK.sub("url", segment) if "://" in segment or "www." in segment else segment


def scored(segment: str) -> bool:
    """Whether the model reads this segment at all."""
    letters = 0
    for ch in segment[:MAX_LINE]:
        if ch.isalpha():
            letters += 1
            if letters >= MIN_LETTERS:
                return True
    return False


@dataclass(frozen=True)
class Model(LinearModel):
    """The note model: a segment's probability of being a note (of its prepared text)."""

    def probability(self, text: str) -> float:
        return super().probability(prepared(text))

    def flagged(self, text: str) -> list[tuple[int, int, float]]:
        """(start, end, probability) of each segment of ``text`` at or over the threshold; none
        when the draft is one segment: a note is left among text for residents, and a post of
        one line is that text (「ToDoリストの作り方講座」, 「字数：800字以内」)."""
        if not several(text):
            return []
        pieces = (((s, e), text[s : min(e, s + MAX_LINE)]) for s, e in segments(text))
        return [(s, e, p) for (s, e), p in self.over_threshold(pieces, MAX_SCORED, scored)]


def from_json(data: object) -> Model:
    """The model of a parsed note_model.json; RuleDataError if it is not one."""
    return linear_model.from_json(data, MODEL_FILE, Model)


@cache
@cached_data(MODEL_FILE)
def model() -> Model:
    """The shipped model, read on first use and kept in the rule-data cache."""
    return linear_model.load(MODEL_FILE, Model)


def findings(ctx: CheckContext, reported: Sequence[Finding]) -> Iterator[Finding]:
    """``typo.likely_note`` warnings for the segments the model flags on lines that ``reported``
    (typo's leftovers) does not touch; the message names the line by its number."""
    if not several(ctx.text):
        return  # without loading the model: a one-line `postgate check` stays as quick
    found = model().flagged(ctx.text)
    if not found:
        return
    rules = Reported(reported)
    text = ctx.text
    line, counted = 1, 0
    for start, end, _probability in found:
        # The whole line the segment stands on: a leftover the rules found anywhere on it
        # already sends the writer there.
        lstart = text.rfind("\n", 0, start) + 1
        lend = text.find("\n", end)
        if rules.overlaps(*ctx.norm.span(lstart, len(text) if lend < 0 else lend)):
            continue
        line += text.count("\n", counted, start)
        counted = start
        yield ctx.finding(RULE, Severity.WARNING, RULE, start, end, line=line)
