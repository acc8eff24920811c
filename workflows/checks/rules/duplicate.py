"""`duplicate`: near-identical posts in a short time look like spam (manual §7 (1))."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta

from workflows.calendar import WEEKDAY_JA
from workflows.checks.context import CheckContext, Rule
from workflows.checks.model import Finding, Platform, Severity
from workflows.checks.text import NormalizedText

# URLs and whitespace differ between otherwise identical notices; they do not make a post new.
_NOISE = re.compile(r"https?://\S+|\s+")


def _comparable(text: str) -> str:
    return _NOISE.sub("", NormalizedText.of(text).text)


def check(ctx: CheckContext) -> Iterable[Finding]:
    history = ctx.draft.history
    if not history:
        return
    at = ctx.draft.at
    window = timedelta(days=ctx.settings.duplicate_window_days)
    mine = _comparable(ctx.draft.text)
    if not mine:
        return
    # Imported here: most one-draft checks have no history, and the import costs start-up time.
    from rapidfuzz import fuzz  # noqa: PLC0415

    threshold = ctx.settings.duplicate_similarity
    best: tuple[float, int] | None = None
    for index, past in enumerate(history):
        if not (at - window <= past.at <= at + window):
            continue
        score = fuzz.ratio(mine, _comparable(past.text), score_cutoff=threshold)
        if score and (best is None or score > best[0]):
            best = (score, index)
    if best is None:
        return
    score, index = best
    past = history[index]
    when = ctx.calendar.local(past.at)
    params = {
        "when": f"{when.month}月{when.day}日({WEEKDAY_JA[when.weekday()]})",
        "score": round(score),
    }
    identical = mine == _comparable(past.text)
    if identical and Platform.X in ctx.draft.platforms:
        # X refuses an identical post with 403 "duplicate content": it cannot go out at all.
        yield ctx.whole("duplicate.identical", Severity.ERROR, "duplicate.identical_x", **params)
    else:
        yield ctx.whole("duplicate", Severity.WARNING, "duplicate.similar", **params)


RULE = Rule("duplicate", check)
