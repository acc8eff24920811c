"""A small statistical second opinion on sentences, next to the flame and prohibited lexicons.

The lexicons (flame.yaml, prohibited.yaml, meaning.yaml) flag a sentence when it names a topic
and takes a stance in words someone listed. Many problem sentences say the same thing in other
words, so every sentence is also scored by a multinomial logistic regression over the character
1-4-grams of its normalised text. The weights (``rules/sentence_model.json``) are trained by
``benchmarks/train_meaning.py`` from the repository's own labelled data (the tuning half of
tests/corpus/meaning, its ``training/`` sentences and the main corpus) as the minimum of a convex
loss, so they depend on the data alone; a test checks that the shipped file is what the script
builds (up to the last unit of rounding).

Each class has a threshold chosen by cross-validation so that at most one clean draft of that
data is flagged out of fold; a sentence at or above it is reported as a warning of that class's
rule id, unless the lexicon of the family already reported that sentence. The model reads the
stance; the topic words of meaning.yaml keep a class to its subject (a group, a disaster, an
election) and an election verdict also needs a stance word in the sentence, unless the model is
SURE of the class (a judgement of a group must still speak of people); a plain statement of a
rule is never condoning it (TOPIC_OF, STANCE_OF, DRAFT_TOPIC, SURE, SURE_NEEDS, VETO_OF).

Cost: a dictionary look-up per character n-gram, with at most MAX_SENTENCE characters of a
sentence and MAX_SCORED characters of distinct sentences per draft, so it stays linear and small.
"""

from __future__ import annotations

import bisect
import json
import re
import unicodedata
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from math import exp
from typing import NamedTuple

from workflows.checks.context import CheckContext
from workflows.checks.data import LazyPattern, RuleDataError, cached_data, load_yaml, resolve
from workflows.checks.model import Finding, Severity

MODEL_FILE = "sentence_model.json"
# The classes the model tells apart; the last one, "none", is every innocent sentence.
CLASSES = (
    "flame.discrimination",
    "flame.politics",
    "flame.disaster",
    "prohibited.illegal",
    "prohibited.disrespect",
    # The rarer kinds (the manual's 炎上さしすせそ and §5 ③ beyond insults and illegal acts): the
    # city taking a side on a contested national question, favouring or judging a religion,
    # disparaging a rival; hearsay passed on as fact, a staff
    # member's own view, what must stay secret, a notice meant for the staff.
    "flame.ideology",
    "flame.religion",
    "flame.sports",
    "prohibited.rumor",
    "prohibited.opinion",
    "prohibited.confidential",
    "prohibited.internal",
    # Remarks on a person's body or looks, innuendo, the mascot flirting: the 「せ」 of the
    # manual's themes, in words no list holds (「奥さまも夜まで大満足」).
    "flame.sexual",
    "none",
)
# Characters of a sentence the model reads (a longer one is read up to there).
MAX_SENTENCE = 200
# Characters of distinct sentences scored per draft: posts are far shorter; past it a
# 70,000-character draft costs no more.
MAX_SCORED = 12_000
NGRAMS = (1, 2, 3, 4)
# A class whose judgement is about a topic of meaning.yaml is reported only when the sentence
# names that topic too: the model reads the stance, the topic words keep it to its subject.
TOPIC_OF = {
    "flame.discrimination": ("group",),
    "flame.politics": ("election", "politics"),
    "flame.disaster": ("disaster",),
    "flame.ideology": ("ideology",),
    "flame.religion": ("religion",),
    "flame.sports": ("sports",),
}
# A class that also needs the sentence to take a stance (a stance of meaning.yaml): the election
# commission's notices name the same candidates and results as a partisan post ("現職の山田氏が
# 当選しました"), so a politics verdict needs words that urge, judge, compare or make a condition;
# a plain report has none.
STANCE_OF = {"flame.politics": "stance_on_an_election"}
# Classes whose topic may be named in another sentence of the draft: "市長も応援に駆けつけます"
# takes a side only because the sentence before announces a candidate's rally. The stance must
# still be in the sentence itself.
DRAFT_TOPIC = frozenset({"flame.politics"})
# A class a sentence cannot be when it only states a rule (the first stance of meaning.yaml)
# without a word that condones breaking it (the second): "空き地に家電を捨てるのは不法投棄で、
# 犯罪です" names the same acts as the problem sentences, and the model alone confused them.
VETO_OF = {
    "prohibited.illegal": ("rule_stated", "condoning_anyway"),
    # Nor is a sentence saying the city sides with nobody, or asking both sides alike, taking a
    # side: "市役所として、特定の候補者を応援することはありません" and a referendum's question
    # (賛成ですか、反対ですか) scored over 0.9 for politics out of fold.
    "flame.politics": ("neutral_stated", "partisan_anyway"),
    # Nor is sympathy, mourning, support or a lesson told plainly boasting in a disaster
    # ("過去の大きな地震では、避難所のトイレ不足が…教訓を生かした整備です", お見舞い申し上げます).
    "flame.disaster": ("sympathy_stated", "boasting_anyway"),
    # Nor is praise of the other side disparaging it ("決勝の相手チームも最後まで粘り強く、
    # すばらしい試合でした" scored 0.9 for sports), nor speaking against prejudice a judgement of
    # a group (a human-rights week notice naming the groups it protects), unless the sentence
    # runs them down or generalises all the same.
    "flame.sports": ("praise_stated", "disparaging_anyway"),
    "flame.discrimination": ("against_prejudice", "generalisation"),
}
# A probability at or above which a class of TOPIC_OF needs neither its topic nor its stance
# words: the lists can never name every group, disaster or election ("あの団地の人たち",
# "うちは揺れもなく", "次の4年も"), and a sentence the model is this sure of says it in its own
# words. Chosen on out-of-fold scores (benchmarks/train_meaning.py): with the topic words
# required, about one problem sentence in seven of the training data went silent. SURE is the
# lowest probability at which the clean drafts flagged out of fold stay those flagged without it:
# 0.9 for the SGD model, 0.85 for the regularised one (its probabilities are less extreme; at 0.8
# a clean draft is flagged). The vetoes (VETO_OF) and SURE_NEEDS still hold.
SURE = 0.85
# Topics a sentence must name however SURE the model is: a judgement of a group speaks of people,
# named by a group word or any word for people ("あの通りの人たち"); "週末は騒がしいので、図書館の
# 自習室をご利用ください" judges a weekend, and the model alone gave it 0.94 for its 騒がしいので.
SURE_NEEDS = {
    "flame.discrimination": ("group", "people"),
    # The rarer themes always need their own subject: sure of "disparaging" but about no sport,
    # a sentence is about something else (a verdict of sports on 「ライバルの東高校は口ほどにも
    # なかった」 is right, on a neighbour's quarrel it is not).
    "flame.ideology": ("ideology",),
    "flame.religion": ("religion",),
    "flame.sports": ("sports",),
}
# The classes a resident's question in a Q&A cannot be: it asks whether something is allowed, what
# to do or which side the city takes, the city's answer follows (a Q. line, 問：, 質問：).
ASKED_NOT = frozenset(
    {
        "prohibited.illegal",
        "prohibited.disrespect",
        "prohibited.rumor",
        "prohibited.opinion",
        "flame.politics",
        "flame.ideology",
    }
)
_ASKED = re.compile(r"[・\s]*(?:Q[0-9]{0,2}|問[0-9]{0,2}|質問[0-9]{0,2})\s?[.:)、．：）]")
# Nor is a sentence that asks whether something is allowed condoning it: 「コピーして配っても
# いいの？」 (a lecture's topic), 夜なら停めても大丈夫ですか？
_ASKS_LEAVE = re.compile(
    r"(?:いい|よい|良い|大丈夫|構わない|かまわない)(?:の|のか|んですか|ですか|でしょうか)[?？]$"
)
ASKING_NOT = frozenset({"prohibited.illegal"})
# A sentence with fewer letters of Japanese than this (a URL, a heading) is not scored.
MIN_JAPANESE = 6
_JAPANESE = re.compile(r"[\u3041-\u30ff\u3400-\u9fff]")
_SENTENCE = re.compile(r"[^。!?\n]+[。!?]?")
_DIGITS = re.compile(r"[0-9]+")


def normalise(sentence: str) -> str:
    """What the model reads of an NFKC sentence: lower-cased, digits as one 0, no spaces."""
    text = _DIGITS.sub("0", sentence[:MAX_SENTENCE].lower())
    return "".join(text.split())


def features(sentence: str) -> set[str]:
    """The character 1-4-grams of the normalised sentence, with ^ and $ at its edges."""
    text = f"^{normalise(sentence)}$"
    return {text[i : i + n] for n in NGRAMS for i in range(len(text) - n + 1)} - {"^", "$"}


def sentences(text: str) -> Iterator[tuple[int, int]]:
    """The [start, end) of each sentence of an NFKC text, its closing mark included."""
    for m in _SENTENCE.finditer(text):
        yield from trimmed(text, *m.span())


def trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """text[start:end] without the white space at its ends: one span, or none if it is blank."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield start, end


# A topic (or stance) of meaning.yaml as one regular expression, compiled on first use.
Topic = LazyPattern


class Veto:
    """A gate that a sentence fails when it matches ``rule`` and not ``but``."""

    __slots__ = ("but", "rule")

    def __init__(self, rule: Topic, but: Topic) -> None:
        self.rule = rule
        self.but = but

    def __reduce__(self) -> tuple[type[Veto], tuple[Topic, Topic]]:
        return Veto, (self.rule, self.but)

    def search(self, text: str) -> bool:
        return self.rule.search(text) is None or self.but.search(text) is not None


class Still:
    """A topic a sentence must name even when the model is SURE of the class (SURE_NEEDS)."""

    __slots__ = ("topic",)

    def __init__(self, topic: Topic) -> None:
        self.topic = topic

    def __reduce__(self) -> tuple[type[Still], tuple[Topic]]:
        return Still, (self.topic,)

    def search(self, text: str) -> bool:
        return self.topic.search(text) is not None


# What a sentence must pass to be a candidate of a class: its topic (first), a stance, the gates
# that hold however sure the model is (a veto, a topic it still needs).
Gates = dict[str, tuple[Topic | Veto | Still, ...]]


class About(NamedTuple):
    """The classes a sentence may be: ``firm``, all their gates passed; ``loose``, of TOPIC_OF,
    only the gates that hold when the model is SURE (a veto, SURE_NEEDS)."""

    firm: frozenset[str]
    loose: frozenset[str]


NOWHERE = About(frozenset(), frozenset())


def scored(sentence: str) -> bool:
    """Whether the model reads this sentence at all."""
    return len(_JAPANESE.findall(sentence[:MAX_SENTENCE])) >= MIN_JAPANESE


@dataclass(frozen=True)
class Model:
    bias: tuple[float, ...]
    # The weights of a feature (one per class) are table[i : i + len(bias)], i = offsets[feature]:
    # one flat array loads from the rule-data cache, at every `postgate check`, in a quarter of
    # the time that 28,719 tuples of floats take. A feature's weights become a tuple when first
    # read (_rows), so that a process checking many drafts sums them as fast as before.
    offsets: dict[str, int]
    table: array[float]
    # Probability at or above which a sentence is reported, per class (none has none).
    thresholds: dict[str, float]
    topics: Gates
    _rows: dict[str, tuple[float, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def probabilities(self, sentence: str) -> tuple[float, ...]:
        read, offsets, table, width = self._rows, self.offsets, self.table, len(self.bias)
        rows: list[tuple[float, ...]] = []
        for f in features(sentence):
            w = read.get(f)
            if w is None:
                if (i := offsets.get(f)) is None:
                    continue
                w = read[f] = tuple(table[i : i + width])
            rows.append(w)
        logits = (
            [b + sum(col) for b, col in zip(self.bias, zip(*rows, strict=True), strict=True)]
            if rows
            else list(self.bias)
        )
        top = max(logits)
        exps = [exp(z - top) for z in logits]
        total = sum(exps)
        return tuple(e / total for e in exps)

    def flagged(self, text: str) -> list[tuple[int, int, str, float]]:
        """(start, end, class, probability) of each sentence of ``text`` over its threshold."""
        spans: list[tuple[int, int, str]] = []
        distinct: dict[str, tuple[str, float] | None] = {}
        budget = MAX_SCORED
        for start, end in sentences(text):
            key = text[start : min(end, start + MAX_SENTENCE)]
            if key not in distinct:
                if budget <= 0:
                    break
                budget -= len(key)
                distinct[key] = None
            spans.append((start, end, key))
        named = self.named(distinct)
        for key in distinct:
            distinct[key] = self.verdict(key, named)
        return [(start, end, *v) for start, end, key in spans if (v := distinct[key]) is not None]

    def named(self, sentences: Iterable[str]) -> frozenset[str]:
        """The classes of DRAFT_TOPIC whose topic one of the draft's sentences names."""
        return draft_topics(self.topics, sentences)

    def verdict(
        self, sentence: str, named: frozenset[str] = frozenset()
    ) -> tuple[str, float] | None:
        if not scored(sentence):
            return None
        return verdict(
            self.probabilities(sentence), self.thresholds, about(self.topics, sentence, named)
        )


def draft_topics(gates: Gates, sentences: Iterable[str]) -> frozenset[str]:
    """The classes of DRAFT_TOPIC whose topic (their first gate) one of ``sentences`` names."""
    found: set[str] = set()
    for sentence in sentences:
        found |= {c for c in DRAFT_TOPIC - found if gates[c][0].search(sentence)}
        if found == DRAFT_TOPIC:
            break
    return frozenset(found)


def about(gates: Gates, sentence: str, named: frozenset[str] = frozenset()) -> About:
    """The classes all of whose gates (topic, stance, veto) the sentence passes; a class without
    any is always a candidate, and one whose topic the draft names (``named``) needs only the
    rest. A resident's question of a Q&A (Q. 路上に停めてもいいですか？) is asked, not said by the
    city: it is never one of ASKED_NOT."""
    asked = (
        ASKED_NOT
        if _ASKED.match(sentence)
        else ASKING_NOT
        if _ASKS_LEAVE.search(sentence)
        else frozenset()
    )
    firm, loose = set(), set()
    for c in CLASSES[:-1]:
        if c in asked:
            continue
        mine = gates.get(c, ())
        if all(g.search(sentence) for g in mine[1 if c in named else 0 :]):
            firm.add(c)
        elif c in TOPIC_OF and all(g.search(sentence) for g in mine if isinstance(g, Veto | Still)):
            loose.add(c)
    return About(frozenset(firm), frozenset(loose))


def verdict(
    probs: tuple[float, ...] | list[float], thresholds: dict[str, float], about: About
) -> tuple[str, float] | None:
    """The most likely class of those the sentence is about (or, for a class of TOPIC_OF, is
    loosely about and SURE of), if at or over its threshold."""
    candidates = [
        k
        for k in range(len(CLASSES) - 1)
        if CLASSES[k] in about.firm or (CLASSES[k] in about.loose and probs[k] >= SURE)
    ]
    if not candidates:
        return None
    best = max(candidates, key=probs.__getitem__)
    label = CLASSES[best]
    return (label, probs[best]) if probs[best] >= thresholds[label] else None


def topics() -> Gates:
    """The gates of each class that has any, from meaning.yaml: its topic, its stance, a veto."""
    data = load_yaml("meaning.yaml")

    def one(part: str, *names: str) -> Topic:
        source = "|".join(f"(?:{p})" for name in names for p in data[part][name])
        return Topic(unicodedata.normalize("NFKC", source))

    try:
        gates: Gates = {
            c: (
                one("topics", *TOPIC_OF[c]),
                *((one("stances", STANCE_OF[c]),) if c in STANCE_OF else ()),
            )
            for c in TOPIC_OF
        }
        for c, (rule, but) in VETO_OF.items():
            gates[c] = (*gates.get(c, ()), Veto(one("stances", rule), one("stances", but)))
        for c, needs in SURE_NEEDS.items():
            gates[c] = (*gates.get(c, ()), Still(one("topics", *needs)))
        return gates
    except (KeyError, TypeError) as exc:
        raise RuleDataError(
            f"meaning.yaml: a topic or stance of the sentence model is missing ({exc!r})"
        ) from None


def from_json(data: object, topic_patterns: Gates | None = None) -> Model:
    """The model of a parsed sentence_model.json; RuleDataError if it is not one."""

    def bad(why: str) -> RuleDataError:
        return RuleDataError(f"{MODEL_FILE}: not a sentence model ({why})")

    if not isinstance(data, dict) or tuple(data.get("classes") or ()) != CLASSES:
        raise bad(f"expected a mapping with classes {list(CLASSES)}")
    n = len(CLASSES) - 1  # stored relative to "none", whose own column is all zeros
    try:
        scale = float(data["scale"])
        bias = (*(float(b) / scale for b in data["bias"]), 0.0)
        weights = {
            str(f): (*(float(w) / scale for w in ws), 0.0) for f, ws in data["weights"].items()
        }
        thresholds = {str(k): float(v) for k, v in data["thresholds"].items()}
    except (KeyError, TypeError, ValueError, AttributeError, ZeroDivisionError) as exc:
        raise bad(repr(exc)) from None
    if len(bias) != n + 1 or any(len(w) != n + 1 for w in weights.values()):
        raise bad(f"bias and every weight need {n} numbers")
    if set(thresholds) != set(CLASSES[:-1]):
        raise bad(f"thresholds needed for {list(CLASSES[:-1])}")
    offsets = {f: i * (n + 1) for i, f in enumerate(weights)}
    table = array("d", (w for ws in weights.values() for w in ws))
    gates = topics() if topic_patterns is None else topic_patterns
    return Model(bias, offsets, table, thresholds, gates)


@cache
@cached_data(MODEL_FILE, "meaning.yaml")
def model() -> Model:
    """The shipped model, read on first use and kept in the rule-data cache."""
    try:
        data = json.loads(resolve(MODEL_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RuleDataError(f"{MODEL_FILE}: {exc}") from exc
    return from_json(data)


# The last draft's verdicts: flame and prohibited both ask for the same text.
_last: tuple[str, list[tuple[int, int, str, float]]] = ("", [])


def verdicts(text: str) -> list[tuple[int, int, str, float]]:
    """``model().flagged(text)``, computed once for the draft both families check."""
    global _last  # noqa: PLW0603 - a one-entry cache; the tuple is replaced whole
    last = _last
    if last[0] == text and text:
        return last[1]
    found = model().flagged(text)
    _last = (text, found)
    return found


def findings(ctx: CheckContext, family: str, reported: Sequence[Finding]) -> Iterator[Finding]:
    """Warnings of ``family`` ("flame" or "prohibited") for the sentences the model flags.

    A sentence the family's lexicon already reported (a finding of the same flame theme, or any
    prohibited finding, overlapping it) gets no second finding.
    """
    covered = {key: _Covered(reported, key) for key in ("flame.", "prohibited.")}
    for start, end, label, _probability in verdicts(ctx.text):
        if not label.startswith(family + "."):
            continue
        ostart, oend = ctx.norm.span(start, end)
        if family == "flame":
            if covered["flame."].overlaps(ostart, oend, label):
                continue
        elif covered["prohibited."].overlaps(ostart, oend):
            continue
        yield ctx.finding(label, Severity.WARNING, f"{label}.sentence", start, end)


class _Covered:
    """The spans of the findings of one family, asked "does any overlap [start, end)?" in
    O(log n) (a draft of thousands of repeated sentences must stay linear)."""

    def __init__(self, reported: Sequence[Finding], prefix: str) -> None:
        self._by_rule: dict[str, tuple[list[int], list[int]]] = {}
        spans: dict[str, list[tuple[int, int]]] = {}
        for f in reported:
            if f.rule.startswith(prefix):
                rule = ".".join(f.rule.split(".")[:2])
                spans.setdefault(rule, []).append((f.start, f.end))
                spans.setdefault("", []).append((f.start, f.end))
        for rule, found in spans.items():
            found.sort()
            ends: list[int] = []
            for _, end in found:
                ends.append(max(end, ends[-1]) if ends else end)
            self._by_rule[rule] = ([s for s, _ in found], ends)

    def overlaps(self, start: int, end: int, rule: str = "") -> bool:
        """Whether a finding of ``rule`` (a theme such as flame.politics; "" for any) overlaps."""
        starts, ends = self._by_rule.get(rule, ([], []))
        i = bisect.bisect_left(starts, end)  # the findings that start before ``end``
        return i > 0 and ends[i - 1] > start
