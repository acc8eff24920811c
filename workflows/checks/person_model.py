"""A small statistical second opinion on what a draft tells about a private person, next to pii's
rules.

pii's rules report a private person's name next to what they list: a home address, an illness, a
crime, debts (``pii.sensitive``), a birth date, a school class, an age (``pii.identity``)… Each
blind batch brought situations nobody had listed (a named resident's pregnancy, a named pupil's
bullying, a named job seeker's dismissal, a lost-and-found notice with the owner's name and what
they lost), so every sentence of a draft that names a private person (a name with an honorific
that pii's own name tests accept: ``pii.persons``) is also scored by a logistic regression over
the character 1-4-grams of its normalised text, the name written as NAME_MARK (the model learns
what is said of a person, not who): "this sentence tells something about a private person that
identifies them or that they would not want published". The weights (``rules/person_model.json``)
are trained by ``benchmarks/train_person.py`` from the repository's own data (the tuning half of
tests/corpus/meaning, the main corpus and the hand-written sentences of
tests/corpus/meaning/training/person/) with the training core the note model uses; a test checks
that the shipped file is what the script builds (up to the last unit of rounding).

A sentence at or above the threshold (chosen by cross-validation so that about one clean draft in
a hundred is flagged out of fold, never under train_person.MIN_THRESHOLD) is reported as a
``pii.likely_person`` warning naming the person, unless pii's rules already reported something
overlapping that sentence. Sentences without such a name are never scored, and a draft without
one does not load the model.

Cost: pii's name search (one pass over the honorifics), then a dictionary look-up per character
n-gram, with at most MAX_READ characters of a draft, MAX_SENTENCE of a sentence and MAX_SCORED of
distinct sentences, so it stays linear and small.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache

from workflows.checks import linear_model
from workflows.checks.context import CheckContext
from workflows.checks.data import cached_data
from workflows.checks.linear_model import LinearModel, Reported
from workflows.checks.model import Finding, Severity
from workflows.checks.sentence_model import sentences

MODEL_FILE = "person_model.json"
RULE = "pii.likely_person"
# Characters of a sentence the model reads (a longer one is read up to there).
MAX_SENTENCE = 200
# Characters of distinct sentences scored per draft: posts are far shorter.
MAX_SCORED = 12_000
# Characters of a draft read at all (its names and sentences): a 70,000-character draft costs no
# more than this much of it.
MAX_READ = 20_000
# What a private person's name becomes in what the model reads: 「山田花子さんが…」 is
# 「〓さんが…」, so that the model learns what is said of a person, not which names.
NAME_MARK = "〓"

# (start, end, name) of each private person's name with its honorific (pii.persons).
Persons = Callable[[str, int], list[tuple[int, int, str]]]
# A sentence with the people it names: (start, end, [(name start, name end, name)]).
Named = tuple[int, int, list[tuple[int, int, str]]]


def named_sentences(text: str, people: Sequence[tuple[int, int, str]]) -> list[Named]:
    """The sentences of an NFKC text (of its first MAX_READ characters) that name one of
    ``people`` (sorted by start), each with those it names."""
    found: list[Named] = []
    if not people:
        return found
    k = 0
    for start, end in sentences(text[:MAX_READ]):
        while k < len(people) and people[k][0] < start:
            k += 1
        inside = []
        while k < len(people) and people[k][1] <= end:
            inside.append(people[k])
            k += 1
        if inside:
            found.append((start, end, inside))
        if k == len(people):
            break
    return found


def prepared(text: str, start: int, end: int, people: Sequence[tuple[int, int, str]]) -> str:
    """What the model reads of the sentence text[start:end]: its names (not their honorifics)
    written as NAME_MARK, at most MAX_SENTENCE characters."""
    parts: list[str] = []
    at = start
    for nstart, _nend, name in people:
        parts.append(text[at:nstart])
        parts.append(NAME_MARK)
        at = nstart + len(name)
    parts.append(text[at:end])
    return "".join(parts)[:MAX_SENTENCE]


@dataclass(frozen=True)
class Model(LinearModel):
    """The person model: a sentence's probability of telling what a private person would not
    want published, of the sentence as ``prepared`` gives it."""

    def flagged(self, text: str, people: Sequence[tuple[int, int, str]]) -> list[Named]:
        """The named sentences of ``text`` at or over the threshold."""
        pieces = ((n, prepared(text, *n)) for n in named_sentences(text, people))
        return [n for n, _ in self.over_threshold(pieces, MAX_SCORED, lambda _: True)]


def from_json(data: object) -> Model:
    """The model of a parsed person_model.json; RuleDataError if it is not one."""
    return linear_model.from_json(data, MODEL_FILE, Model)


@cache
@cached_data(MODEL_FILE)
def model() -> Model:
    """The shipped model, read on first use and kept in the rule-data cache."""
    return linear_model.load(MODEL_FILE, Model)


def findings(ctx: CheckContext, reported: Sequence[Finding], persons: Persons) -> Iterator[Finding]:
    """``pii.likely_person`` warnings for the sentences the model flags that ``reported`` (pii's
    findings) does not touch; the message names the (first) person of the sentence."""
    text = ctx.text
    people = persons(text, min(len(text), MAX_READ))
    if not people:
        return  # without loading the model
    rules = Reported(reported)
    for start, end, inside in model().flagged(text, people):
        if rules.overlaps(*ctx.norm.span(start, end)):
            continue
        nstart, nend, _name = inside[0]
        yield ctx.finding(RULE, Severity.WARNING, RULE, start, end, name=text[nstart:nend])
