"""Flaming (炎上, manual §8 (3)): a post drawing far more replies than the account ever does,
or a wave of hostile ones.

For a recent post, the replies and mentions in the latest time bucket are compared with the
account's baseline (replies per bucket over a rolling window of past buckets) by a robust z-score:
``(count - median) / spread``, where ``spread`` is 1.4826 × the median absolute deviation, but never
below ``sqrt(median)`` (counts of rare events vary about that much) nor ``FlameRules.min_spread``
— so on a quiet account 0 → 3 replies is no alarm. Each reply is read with lexicons: hostile words
and threats (replies.yaml, and the checker's insults, slurs and threats from prohibited.yaml) and
friendly words.

An alert is raised when

- the volume surges (z ≥ ``z_threshold`` with at least ``min_replies`` replies) and the replies are
  not plainly friendly (a popular post thanked by many people is not a flame), or
- the share of hostile replies is high (≥ ``hostile_share``) with at least ``min_hostile_volume``
  replies in the bucket.

Key: ``flaming:surge:{account}:{post_id}`` — one incident per post however long it burns.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from workflows import catalogue
from workflows.catalogue import Lang, message
from workflows.checks.lexicon import Lexicon, load_lexicon
from workflows.checks.rules import prohibited
from workflows.checks.text import NormalizedText
from workflows.incidents.model import (
    AccountRef,
    Cause,
    Evidence,
    Signal,
    format_when,
    require_aware,
)
from workflows.org import Account

_REPLIES = Path(__file__).with_name("replies.yaml")
MAD_TO_SIGMA = 1.4826  # makes the MAD estimate the standard deviation of normal data


@dataclass(frozen=True, slots=True)
class Reply:
    """A reply to, or a mention of, a post."""

    text: str
    at: datetime
    reply_id: str = ""


@dataclass(frozen=True, slots=True)
class WatchedPost:
    """A recent post of the account whose replies are watched."""

    post_id: str
    text: str
    published_at: datetime
    permalink: str | None = None


@dataclass(frozen=True, slots=True)
class FlameRules:
    """The tunable parts of the flaming rule."""

    bucket: timedelta = timedelta(hours=1)
    window: int = 14 * 24  # past buckets in the baseline (the most recent are used)
    z_threshold: float = 4.0
    min_replies: int = 20  # a surge needs at least this many replies in the bucket
    min_spread: float = 1.0  # the spread is never below this (replies per bucket)
    hostile_share: float = 0.3  # this share of hostile replies alerts...
    min_hostile_volume: int = 10  # ...if the bucket has at least this many replies
    friendly_share: float = 0.5  # a surge this friendly...
    friendly_max_hostile: float = 0.1  # ...and at most this hostile is a popular post
    samples: int = 5
    # Entries of the checker's prohibited.yaml that count as hostile in a reply, and threats.
    prohibited_hostile: frozenset[str] = frozenset(
        {"insults", "slurs", "exclusion", "lgbt-hostility"}
    )
    prohibited_threats: frozenset[str] = frozenset({"threats"})

    def __post_init__(self) -> None:
        if self.bucket <= timedelta(0) or self.window < 1 or self.samples < 0:
            raise ValueError("bucket must be positive, window at least 1, samples not negative")
        for share in (self.hostile_share, self.friendly_share, self.friendly_max_hostile):
            if not 0 <= share <= 1:
                raise ValueError("shares are fractions from 0 to 1")


# ---------------------------------------------------------------- reading replies


@cache
def reply_lexicon() -> Lexicon:
    """replies.yaml, validated against its specs on first use."""
    return load_lexicon(_REPLIES, "reply", message_keys=catalogue.keys())


@dataclass(frozen=True, slots=True)
class Tone:
    """What the lexicons found in one reply."""

    hostile: bool = False
    threat: bool = False
    friendly: bool = False
    words: tuple[str, ...] = ()  # the hostile or threatening words found


def tone(text: str, rules: FlameRules | None = None) -> Tone:
    """Read one reply: hostile words, threats, friendly words."""
    rules = rules or FlameRules()
    normalized = NormalizedText.of(text).text
    hostile = threat = friendly = False
    words: list[str] = []
    for hit in reply_lexicon().scan(normalized):
        if hit.rule == "reply.friendly":
            friendly = True
            continue
        threat = threat or hit.rule == "reply.threat"
        hostile = True
        words.append(hit.matched)
    for hit in prohibited.lexicon().scan(normalized):
        name = hit.entry.name
        if name in rules.prohibited_threats:
            threat = hostile = True
            words.append(hit.matched)
        elif name in rules.prohibited_hostile:
            hostile = True
            words.append(hit.matched)
    return Tone(hostile, threat, friendly and not hostile, tuple(dict.fromkeys(words)))


# ---------------------------------------------------------------- counting


def bucket_counts(
    times: Iterable[datetime], *, end: datetime, bucket: timedelta, buckets: int
) -> tuple[int, ...]:
    """How many ``times`` fall in each of ``buckets`` buckets ending at ``end``, oldest first."""
    require_aware(end)
    if bucket <= timedelta(0) or buckets < 1:
        raise ValueError("bucket must be positive and buckets at least 1")
    counts = [0] * buckets
    start = end - bucket * buckets
    for at in times:
        require_aware(at)
        if start <= at < end:
            counts[int((at - start) / bucket)] += 1
    return tuple(counts)


@dataclass(frozen=True, slots=True)
class RobustZ:
    z: float
    median: float
    spread: float


def robust_z(count: int, baseline: Sequence[int], *, min_spread: float = 1.0) -> RobustZ:
    """How far ``count`` is above ``baseline``, in robust standard deviations (see module doc)."""
    if not baseline:
        median = 0.0
        mad = 0.0
    else:
        median = float(statistics.median(baseline))
        mad = float(statistics.median(abs(x - median) for x in baseline))
    spread = max(MAD_TO_SIGMA * mad, math.sqrt(median), min_spread)
    return RobustZ((count - median) / spread, median, spread)


# ---------------------------------------------------------------- assessing a post


@dataclass(frozen=True, slots=True)
class Sample:
    text: str
    at: datetime
    hostile: bool
    threat: bool


@dataclass(frozen=True, slots=True)
class Traffic:
    """The replies to one post in the latest bucket, read against the account's baseline."""

    post: WatchedPost
    bucket_start: datetime
    bucket_end: datetime
    bucket: timedelta
    count: int
    baseline_buckets: int
    stats: RobustZ
    hostile: int
    threats: int
    friendly: int
    surge: bool  # far above the baseline, with enough replies
    hostile_wave: bool  # a high hostile share, with enough replies
    friendly_surge: bool  # a surge of plainly friendly replies: a popular post
    samples: tuple[Sample, ...]

    @property
    def hostile_share(self) -> float:
        return self.hostile / self.count if self.count else 0.0

    @property
    def friendly_share(self) -> float:
        return self.friendly / self.count if self.count else 0.0

    @property
    def alert(self) -> bool:
        return self.hostile_wave or (self.surge and not self.friendly_surge)


def assess(
    post: WatchedPost,
    replies: Iterable[Reply],
    baseline: Sequence[int],
    *,
    at: datetime,
    rules: FlameRules | None = None,
) -> Traffic:
    """Read the replies to ``post`` in the bucket ending at ``at`` against ``baseline``.

    ``baseline`` is the account's replies per bucket in past buckets, oldest first (see
    :func:`bucket_counts`); the last ``rules.window`` are used.
    """
    rules = rules or FlameRules()
    require_aware(at)
    require_aware(post.published_at)
    start = at - rules.bucket
    current = sorted(
        (r for r in replies if start <= _aware(r.at) < at), key=lambda r: (r.at, r.reply_id)
    )
    tones = [tone(r.text, rules) for r in current]
    count = len(current)
    past = tuple(baseline[-rules.window :])
    stats = robust_z(count, past, min_spread=rules.min_spread)
    hostile = sum(t.hostile for t in tones)
    friendly = sum(t.friendly for t in tones)
    threats = sum(t.threat for t in tones)
    surge = count >= rules.min_replies and stats.z >= rules.z_threshold
    hostile_share = hostile / count if count else 0.0
    friendly_surge = (
        surge
        and friendly / count >= rules.friendly_share
        and hostile_share <= rules.friendly_max_hostile
    )
    return Traffic(
        post=post,
        bucket_start=start,
        bucket_end=at,
        bucket=rules.bucket,
        count=count,
        baseline_buckets=len(past),
        stats=stats,
        hostile=hostile,
        threats=threats,
        friendly=friendly,
        surge=surge,
        hostile_wave=count >= rules.min_hostile_volume and hostile_share >= rules.hostile_share,
        friendly_surge=friendly_surge,
        samples=_samples(current, tones, rules.samples),
    )


def _aware(at: datetime) -> datetime:
    require_aware(at)
    return at


def _samples(replies: Sequence[Reply], tones: Sequence[Tone], limit: int) -> tuple[Sample, ...]:
    """Threats first, then hostile replies, then the rest; each group newest first."""
    ranked = sorted(
        zip(replies, tones, strict=True),
        key=lambda rt: (not rt[1].threat, not rt[1].hostile, -rt[0].at.timestamp()),
    )
    return tuple(Sample(r.text, r.at, t.hostile, t.threat) for r, t in ranked[:limit])


# ---------------------------------------------------------------- the signal


_SAMPLE_CHARS = 140


@dataclass(frozen=True, slots=True)
class SurgeEvidence(Evidence):
    traffic: Traffic

    def params(self, lang: Lang = Lang.JA) -> dict[str, str]:
        t = self.traffic
        return {
            "when": format_when(t.post.published_at, lang),
            "count": str(t.count),
            "window": duration(t.bucket, lang),
            "median": _number(t.stats.median),
            "hostile_share": _percent(t.hostile_share),
        }

    def findings(self, lang: Lang = Lang.JA) -> tuple[str, ...]:
        """Why this alerts, one line each."""
        t = self.traffic
        lines = []
        if t.surge:
            lines.append(
                message(
                    "incident.flame.surge",
                    lang,
                    count=t.count,
                    window=duration(t.bucket, lang),
                    median=_number(t.stats.median),
                    z=f"{t.stats.z:.1f}",
                )
            )
        if t.hostile_wave:
            lines.append(
                message(
                    "incident.flame.hostile",
                    lang,
                    share=_percent(t.hostile_share),
                    hostile=t.hostile,
                    count=t.count,
                )
            )
        if t.threats:
            lines.append(message("incident.flame.threats", lang, threats=t.threats))
        return tuple(lines)

    def rows(self, lang: Lang = Lang.JA) -> tuple[tuple[str, str], ...]:
        t = self.traffic
        none = message("incident.none", lang)
        samples = "\n".join(
            f"・{format_when(s.at, lang)} {_clip(s.text)}"
            + (message("incident.flame.sample_threat", lang) if s.threat else "")
            for s in t.samples
        )
        return (
            (message("incident.field.posted_at", lang), format_when(t.post.published_at, lang)),
            (message("incident.field.text", lang), t.post.text or none),
            (message("incident.field.link", lang), t.post.permalink or none),
            (
                message("incident.field.replies", lang),
                message(
                    "incident.flame.count",
                    lang,
                    count=t.count,
                    start=format_when(t.bucket_start, lang),
                    end=format_when(t.bucket_end, lang),
                ),
            ),
            (
                message("incident.field.baseline", lang),
                message(
                    "incident.flame.baseline",
                    lang,
                    median=_number(t.stats.median),
                    spread=_number(t.stats.spread),
                    buckets=t.baseline_buckets,
                    window=duration(t.bucket, lang),
                ),
            ),
            (message("incident.field.zscore", lang), f"{t.stats.z:.1f}"),
            (
                message("incident.field.hostile", lang),
                message(
                    "incident.flame.share",
                    lang,
                    share=_percent(t.hostile_share),
                    part=t.hostile,
                    count=t.count,
                ),
            ),
            (
                message("incident.field.friendly", lang),
                message(
                    "incident.flame.share",
                    lang,
                    share=_percent(t.friendly_share),
                    part=t.friendly,
                    count=t.count,
                ),
            ),
            (message("incident.field.threats", lang), str(t.threats)),
            (message("incident.field.findings", lang), "\n".join(self.findings(lang)) or none),
            (message("incident.field.samples", lang), samples or none),
        )

    def to_dict(self) -> dict[str, Any]:
        t = self.traffic
        return {
            "post_id": t.post.post_id,
            "post_text": t.post.text,
            "permalink": t.post.permalink,
            "published_at": t.post.published_at.isoformat(),
            "bucket_start": t.bucket_start.isoformat(),
            "bucket_end": t.bucket_end.isoformat(),
            "count": t.count,
            "baseline_median": t.stats.median,
            "baseline_spread": t.stats.spread,
            "baseline_buckets": t.baseline_buckets,
            "z": round(t.stats.z, 2),
            "hostile": t.hostile,
            "hostile_share": round(t.hostile_share, 3),
            "friendly": t.friendly,
            "threats": t.threats,
            "surge": t.surge,
            "hostile_wave": t.hostile_wave,
            "samples": [
                {"text": s.text, "at": s.at.isoformat(), "hostile": s.hostile, "threat": s.threat}
                for s in t.samples
            ],
        }


def detect(
    account: Account,
    post: WatchedPost,
    replies: Iterable[Reply],
    baseline: Sequence[int],
    *,
    at: datetime,
    rules: FlameRules | None = None,
) -> Signal | None:
    """A flaming signal for ``post`` if its latest bucket of replies alerts, else None."""
    traffic = assess(post, replies, baseline, at=at, rules=rules)
    if not traffic.alert:
        return None
    return Signal(
        cause=Cause.SURGE,
        account=AccountRef.of(account),
        dedupe_key=f"flaming:{Cause.SURGE}:{account.id}:{post.post_id}",
        evidence=SurgeEvidence(traffic),
    )


def duration(span: timedelta, lang: Lang = Lang.JA) -> str:
    """「1時間」「30分」 / "1 h", "30 min"."""
    minutes = int(span.total_seconds() // 60)
    if minutes % 60 == 0:
        return message("incident.hours", lang, n=minutes // 60)
    return message("incident.minutes", lang, n=minutes)


def _number(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def _clip(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _SAMPLE_CHARS else flat[: _SAMPLE_CHARS - 1] + "…"
