"""What the small binary models of the checker share: a logistic regression over the character
1-4-grams of a piece of text (the features of sentence_model.py), its file and its loading.

The note model (note_model.py, ``typo.likely_note``) and the person model (person_model.py,
``pii.likely_person``) each cut a draft their own way and decide what a flagged piece means; the
weights, the threshold, the probability and the file format are this module's. Their files are
written by the shared training core (benchmarks/linear_training.py): ``scale``, ``threshold``,
``bias`` and ``weights`` (integers of 1/scale).
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from math import exp
from typing import TypeVar

from workflows.checks.data import RuleDataError, resolve
from workflows.checks.model import Finding
from workflows.checks.sentence_model import features

# What a model's caller cuts a draft into (a span, a span with the name inside it).
P = TypeVar("P")


@dataclass(frozen=True)
class LinearModel:
    bias: float
    weights: dict[str, float]
    # Probability at or above which a piece is reported.
    threshold: float

    def probability(self, text: str) -> float:
        """The probability of the positive class for a piece of text already prepared."""
        weights = self.weights
        z = self.bias + sum(weights.get(f, 0.0) for f in features(text))
        return 1.0 / (1.0 + exp(-z)) if z > -700 else 0.0

    def over_threshold(
        self, pieces: Iterable[tuple[P, str]], budget: int, read: Callable[[str], bool]
    ) -> list[tuple[P, float]]:
        """Each piece whose text (prepared) ``read`` accepts and scores at or over the threshold,
        with its score. A text is scored once however often it repeats, and only until
        ``budget`` characters of distinct texts were read: a huge draft costs no more."""
        verdicts: dict[str, float | None] = {}
        found: list[tuple[P, float]] = []
        for piece, key in pieces:
            if key not in verdicts:
                if budget <= 0:
                    break
                budget -= len(key)
                score = self.probability(key) if read(key) else 0.0
                verdicts[key] = score if score >= self.threshold else None
            if (verdict := verdicts[key]) is not None:
                found.append((piece, verdict))
        return found


M = TypeVar("M", bound=LinearModel)


def from_json(data: object, file: str, kind: type[M]) -> M:
    """The model of a parsed model file; RuleDataError (naming ``file``) if it is not one."""

    def bad(why: str) -> RuleDataError:
        return RuleDataError(f"{file}: not a model file ({why})")

    if not isinstance(data, dict):
        raise bad("expected a mapping")
    try:
        scale = float(data["scale"])
        bias = float(data["bias"]) / scale
        weights = {str(f): float(w) / scale for f, w in data["weights"].items()}
        threshold = float(data["threshold"])
    except (KeyError, TypeError, ValueError, AttributeError, ZeroDivisionError) as exc:
        raise bad(repr(exc)) from None
    if not 0.0 < threshold <= 1.0:
        raise bad(f"threshold {threshold} is not a probability")
    return kind(bias, weights, threshold)


def load(file: str, kind: type[M]) -> M:
    """The model shipped in ``file`` (of the rules directory); RuleDataError if unreadable."""
    try:
        data = json.loads(resolve(file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RuleDataError(f"{file}: {exc}") from exc
    return from_json(data, file, kind)


class Reported:
    """The spans of the findings a family's rules reported, asked whether any overlaps a span
    (offsets of the original text, as findings have): a bisection each time."""

    def __init__(self, reported: Iterable[Finding]) -> None:
        spans = sorted((f.start, f.end) for f in reported)
        self.starts = [s for s, _ in spans]
        # The furthest end of the findings up to each one.
        self.ends: list[int] = []
        for _, end in spans:
            self.ends.append(max(end, self.ends[-1]) if self.ends else end)

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect.bisect_left(self.starts, end)  # the findings that start before ``end``
        return i > 0 and self.ends[i - 1] > start
