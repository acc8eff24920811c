"""The training core shared by the checker's small binary models (workflows/checks/linear_model.py).

benchmarks/train_notes.py (the note model) and benchmarks/train_person.py (the person model)
each gather their own units — a piece of text to learn from, or a flawed draft whose positive
piece is chosen in the second pass — and hand them to a ``Trainer``, which does the rest the same
way for both:

- ``fit``: a binary logistic regression over the character 1-4-grams of each piece (features of
  sentence_model.py), fitted by L-BFGS (scipy) to the minimum of its L2-regularised loss, so it
  depends on the data alone, not on the order it is read in;
- ``train``: two passes — first without the flawed drafts, then also each flawed draft's piece
  that first model scores highest, if it scores ``pick_min`` or more (the corpus does not mark
  which piece is the flaw: train_meaning.py's two-pass trick);
- ``cross_validate`` over drafts and hand-written pieces (``folds`` folds, by a hash of the id)
  and ``choose_threshold``: the lowest that flags at most ``clean_flagged_rate`` of the clean
  drafts out of fold (at least one), plus ``margin``, never under ``min_threshold``;
- ``rounded``, ``render``: the shipped JSON file (integers of 1/``scale``, features under
  ``prune`` units dropped), one feature a line; ``differences``: the comparison with the shipped
  file up to the last unit of rounding; ``leave_one_batch_out`` and ``main`` (--check,
  --leave-out, --threshold, --write).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import optimize, sparse

from benchmarks.corpus_report import CORPUS_DIR, Entry, load_corpus, split
from workflows.checks.data import RULES_DIR
from workflows.checks.sentence_model import features

Weights = dict[str, float]
LOSS_TOLERANCE = 1e-12
GRADIENT_TOLERANCE = 1e-6
MAX_ITERATIONS = 2000


@dataclass(frozen=True)
class Unit:
    """A piece to learn from, or a flawed draft whose positive piece is chosen in the second
    pass (``positive`` with a ``source``: every piece of the draft is in ``lines``)."""

    id: str
    positive: bool
    lines: tuple[str, ...]
    clean_draft: bool = False
    # The file of the corpus draft it comes from ("" for a hand-written piece).
    source: str = ""


def probability(weights: Weights, bias: float, line: str) -> float:
    z = bias + sum(weights.get(f, 0.0) for f in features(line))
    return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0


def draft_of(uid: str) -> str:
    """The draft a unit comes from (a hand-written piece, ``file.yaml:…``, is its own)."""
    return uid if ".yaml:" in uid else uid.split(":", maxsplit=1)[0]


def _main_corpus(source: str) -> bool:
    return source.startswith(("clean_", "flawed_"))


def design(
    samples: Sequence[frozenset[str]], min_count: int
) -> tuple[sparse.csr_matrix, dict[str, int]]:
    """The samples' 0/1 feature matrix over the features seen in at least ``min_count`` of them
    (a one-off n-gram teaches nothing that carries over, and keeps the file small), and each
    such feature's column."""
    counts: dict[str, int] = {}
    for feats in samples:
        for f in feats:
            counts[f] = counts.get(f, 0) + 1
    column = {f: j for j, f in enumerate(sorted(f for f, c in counts.items() if c >= min_count))}
    rows, cols = [], []
    for i, feats in enumerate(samples):
        for f in feats:
            j = column.get(f)
            if j is not None:
                rows.append(i)
                cols.append(j)
    shape = (len(samples), len(column))
    return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape), column


@dataclass(frozen=True)
class Trainer:
    """How one model is trained: its file, the corpus label of its flawed drafts, its knobs."""

    # "note model": how the script's messages name it.
    name: str
    model_file: str
    # The corpus label whose drafts hold a positive piece: typo, pii.
    family: str
    # The threshold's floor (each script says why its value).
    min_threshold: float
    # A flawed draft teaches its highest-scoring piece only when the first pass gives it this.
    pick_min: float
    # The weight of the squared norm of the weights in the loss (the loss sums over samples).
    l2: float = 1.0
    # A feature seen in fewer samples than this is not learnt.
    min_count: int = 3
    # Weights are stored as integers of 1/scale; a feature whose weight is under ``prune`` (in
    # those units) is dropped: it moves no probability noticeably and keeps the file small.
    scale: int = 100
    prune: int = 5
    folds: int = 5
    # Added to the out-of-fold score of the clean draft that sets the threshold.
    margin: float = 0.02
    # Clean drafts the threshold may flag out of fold: about one in a hundred, at least one.
    clean_flagged_rate: float = 0.01

    # ── the model ────────────────────────────────────────────────────────────────────────────

    def fit(self, samples: Sequence[tuple[frozenset[str], bool]]) -> tuple[Weights, float]:
        """The weights that minimise the logistic loss plus l2/2 times their squared norm."""
        x, column = design([feats for feats, _ in samples], self.min_count)
        d = len(column)
        y = np.array([1.0 if positive else 0.0 for _, positive in samples])
        l2 = self.l2

        def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
            w, b = theta[:d], theta[d]
            z = x @ w + b
            # log(1 + e^z) - y z, computed stably
            value = float(np.logaddexp(0.0, z).sum() - (y * z).sum() + l2 / 2 * (w @ w))
            residual = 1.0 / (1.0 + np.exp(-z)) - y
            grad = np.concatenate([x.T @ residual + l2 * w, [residual.sum()]])
            return value, grad

        result = optimize.minimize(
            loss,
            np.zeros(d + 1),
            jac=True,
            method="L-BFGS-B",
            options={
                "maxiter": MAX_ITERATIONS,
                "ftol": LOSS_TOLERANCE,
                "gtol": GRADIENT_TOLERANCE,
            },
        )
        weights = {f: float(result.x[j]) for f, j in column.items()}
        return weights, float(result.x[d])

    def train(self, units: Sequence[Unit]) -> tuple[Weights, float]:
        """Two passes: first the hand-written pieces and the clean drafts' pieces; then also,
        for each flawed draft, its piece that first model scores highest, if it scores pick_min
        or more (a flawed draft whose flaw is elsewhere holds no piece to learn from)."""
        first = [u for u in units if not u.source or u.clean_draft or not u.positive]
        weights, bias = self.fit(_samples(first))
        picked = list(first)
        for u in units:
            if u.positive and u.source:
                best = max(u.lines, key=lambda s: probability(weights, bias, s))
                if probability(weights, bias, best) >= self.pick_min:
                    picked.append(Unit(u.id, True, (best,), source=u.source))
        return self.fit(_samples(picked))

    def rounded(self, weights: Weights, bias: float) -> dict[str, Any]:
        kept = {}
        for f, w in sorted(weights.items()):
            r = round(w * self.scale)
            if abs(r) >= self.prune:
                kept[f] = r
        return {"bias": round(bias * self.scale), "weights": kept}

    def as_model(self, weights: Weights, bias: float) -> tuple[Weights, float]:
        """What the shipped file gives of these weights (rounded and pruned)."""
        r = self.rounded(weights, bias)
        return {f: w / self.scale for f, w in r["weights"].items()}, r["bias"] / self.scale

    # ── cross-validation and the threshold ──────────────────────────────────────────────────

    def fold(self, uid: str) -> int:
        return hashlib.sha256(draft_of(uid).encode()).digest()[0] % self.folds

    def cross_validate(self, units: Sequence[Unit]) -> dict[str, list[float]]:
        """Out-of-fold probabilities of every piece of every unit, by unit id."""
        scores: dict[str, list[float]] = {}
        for fold in range(self.folds):
            weights, bias = self.as_model(
                *self.train([u for u in units if self.fold(u.id) != fold])
            )
            for u in units:
                if self.fold(u.id) == fold:
                    scores[u.id] = [probability(weights, bias, s) for s in u.lines]
        return scores

    def choose_threshold(self, units: Sequence[Unit], scores: dict[str, list[float]]) -> float:
        ranked = sorted(worst_clean(units, scores).values(), reverse=True)
        # At least one: with a few dozen clean drafts to rank (the person model's: those naming
        # somebody), none allowed let one look-alike set the threshold (a centenarian's secret of
        # long life, told with consent, took it to 0.91 and out-of-fold recall to 0.40).
        allowed = max(1, int(len(ranked) * self.clean_flagged_rate))
        h = ranked[allowed] if len(ranked) > allowed else 0.0
        return round(min(0.99, max(self.min_threshold, h + self.margin)), 3)

    def report(
        self, units: Sequence[Unit], scores: dict[str, list[float]], threshold: float
    ) -> str:
        out = [f"threshold: {threshold}"]
        by: dict[str, list[int]] = {}
        for u in units:
            if u.positive and u.source:
                slot = by.setdefault(u.source or "?", [0, 0])
                slot[1] += 1
                slot[0] += max(scores[u.id]) >= threshold
        out.append(f"out-of-fold, {self.family} drafts with a piece flagged (model alone):")
        for source, (hit, total) in sorted(by.items()):
            out.append(f"  {source:24} {hit:3} / {total:<3}")
        hit = sum(h for h, _ in by.values())
        total = sum(t for _, t in by.values())
        out.append(f"  {'all':24} {hit:3} / {total:<3} {hit / max(total, 1):.2f}")
        worst = worst_clean(units, scores)
        sources = {draft_of(u.id): u.source for u in units if u.clean_draft}
        for part in sorted({_main_corpus(s) for s in sources.values()}, reverse=True):
            drafts = [d for d, s in sources.items() if _main_corpus(s) == part]
            n = sum(worst[d] >= threshold for d in drafts)
            name = "main corpus" if part else "meaning"
            out.append(f"  clean drafts flagged, {name}: {n} / {len(drafts)}")
        return "\n".join(out)

    # ── the file ────────────────────────────────────────────────────────────────────────────

    def render(self, model: dict[str, Any], threshold: float) -> str:
        """The JSON file, one feature a line so that a retrained model diffs readably."""
        head = {"scale": self.scale, "threshold": threshold, "bias": model["bias"]}
        out = [json.dumps(head, ensure_ascii=False)[:-1] + ',\n"weights":{']
        items = [f"{json.dumps(f, ensure_ascii=False)}:{w}" for f, w in model["weights"].items()]
        out.append(",\n".join(items))
        out.append("}}\n")
        return "".join(out)

    def differences(self, built: dict[str, Any], shipped: dict[str, Any]) -> list[str]:
        """How a model just built differs from the shipped one, up to the last unit of rounding
        (floating point may differ in the last bits between processors)."""
        found = [
            f"{key}: {built.get(key)!r} != {shipped.get(key)!r}"
            for key in ("scale", "threshold")
            if built.get(key) != shipped.get(key)
        ]
        if abs(built["bias"] - shipped["bias"]) > 1:
            found.append(f"bias: {built['bias']} != {shipped['bias']}")
        mine, theirs = built["weights"], shipped["weights"]
        for f in sorted(mine.keys() | theirs.keys()):
            a, b = mine.get(f), theirs.get(f)
            if a is None or b is None:
                if abs(a if b is None else b) > self.prune:
                    found.append(f"{f!r}: only in the {'built' if b is None else 'shipped'} model")
            elif abs(a - b) > 1:
                found.append(f"{f!r}: {a} != {b}")
        return found

    def shipped_path(self) -> Path:
        return RULES_DIR / self.model_file

    def build(self, units: Sequence[Unit], cv: bool = True) -> tuple[str, str]:
        """The model file's text, and the cross-validation report (without ``cv``, the shipped
        file's threshold is kept and nothing is cross-validated)."""
        if cv:
            scores = self.cross_validate(units)
            threshold = self.choose_threshold(units, scores)
            text = self.report(units, scores, threshold)
        else:
            shipped = self.shipped_path().read_text(encoding="utf-8")
            threshold = float(json.loads(shipped)["threshold"])
            text = ""
        return self.render(self.rounded(*self.train(units)), threshold), text

    # ── measuring on a batch left out ───────────────────────────────────────────────────────

    def leave_one_batch_out(
        self,
        units: Sequence[Unit],
        entries: Sequence[Entry],
        flags: Callable[[str], Callable[[Entry], bool]],
        batch: str,
        threshold: float | None = None,
    ) -> tuple[str, dict[str, Any], float]:
        """Train on ``units`` (gathered without ``batch``) and judge ``entries`` (that batch's
        tuning half) with the checker's model: ``flags(model file text)`` tells whether it
        flags a draft. The threshold, unless given, is chosen without the batch too."""
        cv = ""
        if threshold is None:
            scores = self.cross_validate(units)
            threshold = self.choose_threshold(units, scores)
            cv = self.report(units, scores, threshold) + "\n"
        model = self.rounded(*self.train(units))
        flagged = flags(self.render(model, threshold))
        positive = [e for e in entries if self.family in e.expect]
        clean = [e for e in entries if e.clean]
        hit = sum(map(flagged, positive))
        wrong = sum(map(flagged, clean))
        text = cv + (
            f"trained without {batch}, its tuning half, threshold {threshold} (model alone):\n"
            f"  {self.family} drafts with a piece flagged: {hit} / {len(positive)}\n"
            f"  clean drafts flagged: {wrong} / {len(clean)}"
        )
        return text, model, threshold

    # ── the script ──────────────────────────────────────────────────────────────────────────

    def parser(self, doc: str | None) -> argparse.ArgumentParser:
        parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
        parser.add_argument(
            "--check", action="store_true", help="compare with the shipped file, write nothing"
        )
        parser.add_argument(
            "--leave-out", metavar="FILE", help="train without this batch of tests/corpus/meaning"
        )
        parser.add_argument(
            "--threshold", type=float, help="with --leave-out (default: chosen without the batch)"
        )
        parser.add_argument("--write", metavar="PATH", help="with --leave-out: write that model")
        return parser

    def main(
        self,
        args: argparse.Namespace,
        all_units: Callable[[str | None], list[Unit]],
        batch_entries: Callable[[str], list[Entry]],
        flags: Callable[[str], Callable[[Entry], bool]],
    ) -> int:
        """What the script does with its parsed ``args``: ``all_units(batch left out)`` gathers
        the data, ``batch_entries(batch)`` that batch's tuning half."""
        if args.leave_out:
            text, model, threshold = self.leave_one_batch_out(
                all_units(args.leave_out),
                batch_entries(args.leave_out),
                flags,
                args.leave_out,
                args.threshold,
            )
            print(text)
            if args.write:
                Path(args.write).write_text(self.render(model, threshold), encoding="utf-8")
            return 0
        text, cv_report = self.build(all_units(None), cv=not args.check)
        if args.check:
            shipped = json.loads(self.shipped_path().read_text(encoding="utf-8"))
            found = self.differences(json.loads(text), shipped)
            print(f"{self.name}: up to date" if not found else f"{self.name}: differs; retrain")
            for line in found[:20]:
                print(f"  {line}")
            return 1 if found else 0
        print(cv_report)
        self.shipped_path().write_text(text, encoding="utf-8")
        print(f"wrote {self.shipped_path()} ({len(text.encode()):,} bytes)")
        return 0


def _samples(units: Sequence[Unit]) -> list[tuple[frozenset[str], bool]]:
    return [(frozenset(features(u.lines[0])), u.positive) for u in units]


def worst_clean(units: Sequence[Unit], scores: dict[str, list[float]]) -> dict[str, float]:
    """The highest piece score of each clean draft."""
    worst: dict[str, float] = {}
    for u in units:
        if u.clean_draft:
            draft = draft_of(u.id)
            worst[draft] = max(worst.get(draft, 0.0), *scores[u.id])
    return worst


def corpus_entries() -> list[Entry]:
    """The tuning half of the meaning corpus (the held-out half is never read), then the main
    corpus."""
    return [*split(load_corpus(CORPUS_DIR / "meaning"), "tuning"), *load_corpus(CORPUS_DIR)]


def batch_entries(batch: str) -> list[Entry]:
    """The tuning half of one batch of the meaning corpus."""
    return [e for e in corpus_entries() if e.source == batch]
