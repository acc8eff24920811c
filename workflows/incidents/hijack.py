"""Hijack (乗っ取り, manual §8 (1)): signs that someone else controls a managed account.

Three causes, each one alert however many polls see it:

- **A post postgate never published.** A post on the account whose platform id is not in the
  outbox — unless the account allows native posts. Posts from before postgate started watching
  are history, not evidence. The platform can show a post before the outbox has recorded its id
  (the answer to the publish call is still on its way, or it was ambiguous and is being
  reconciled), so a post is also postgate's when its text matches a publication sent just before
  it (``HijackRules.grace``); each publication accounts for one post at most.
  Key: ``hijack:unknown-post:{account}:{post_id}``.
- **A profile change.** A field of the profile (name, handle, description, URL, image) differs
  from the stored baseline; trivial differences (spacing, the case of a handle, a trailing ``/``,
  an image URL's signed query string) are not changes. The key carries the new value's
  fingerprint: the same change is one alert, a further change is another.
  Key: ``hijack:profile:{account}:{field}:{sha256(new value)[:16]}``.
- **Refused credentials** (401, a revoked token). Key: ``hijack:auth:{account}:{YYYY-MM-DD}``, the
  Tokyo day the current refusal streak began: one alert per streak, at most one per day if the
  monitor does not know when the streak began.

Pure: the monitor reads the platform and the outbox and passes what it saw.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from rapidfuzz import fuzz

from workflows.catalogue import Lang, message
from workflows.incidents.model import (
    TOKYO,
    AccountRef,
    Cause,
    Evidence,
    Signal,
    defang,
    digest,
    format_when,
    require_aware,
)
from workflows.org import Account

# ---------------------------------------------------------------- what the monitor passes


@dataclass(frozen=True, slots=True)
class SeenPost:
    """A post on the account as read from the platform."""

    post_id: str
    text: str
    created_at: datetime
    permalink: str | None = None


@dataclass(frozen=True, slots=True)
class SentPost:
    """A publication postgate sent to the account whose platform id may not be known yet."""

    text: str
    sent_at: datetime
    post_id: str | None = None


@dataclass(frozen=True, slots=True)
class ProfileSnapshot:
    """What the platform shows about the account.

    ``image`` identifies the profile image: a digest of its bytes is best; a URL works if the
    platform keeps it stable while the image is unchanged (its query string is ignored).
    """

    name: str
    handle: str
    description: str = ""
    url: str = ""
    image: str = ""


@dataclass(frozen=True, slots=True)
class AuthRefusal:
    """The platform refused the account's credentials (HTTP 401, a revoked or expired token)."""

    at: datetime  # the latest refusal
    since: datetime | None = None  # the first refusal since the last success, if known
    status: int | None = None
    detail: str = ""  # the platform's message


@dataclass(frozen=True, slots=True)
class HijackRules:
    """The tunable parts of the hijack rules."""

    # A post appearing this long after postgate sent the same text is postgate's.
    grace: timedelta = timedelta(minutes=30)
    # ...or this long before it (the platform's clock and ours differ a little).
    skew: timedelta = timedelta(minutes=2)
    # How alike (rapidfuzz ratio, 0-100) the texts must be once links and spacing are set aside.
    min_similarity: float = 90.0

    def __post_init__(self) -> None:
        if self.grace < timedelta(0) or self.skew < timedelta(0):
            raise ValueError("grace and skew must not be negative")
        if not 0 <= self.min_similarity <= 100:
            raise ValueError("min_similarity is a ratio from 0 to 100")


@dataclass(frozen=True, slots=True)
class Observation:
    """What one poll of one account saw, with what postgate knows about it.

    ``published_ids`` are the platform ids of the account's outbox rows; ``recent_sends`` are
    the account's publications whose id is not recorded yet (sending, needs review) and any sent
    within the grace period.
    """

    watching_since: datetime
    posts: tuple[SeenPost, ...] = ()
    published_ids: frozenset[str] = frozenset()
    recent_sends: tuple[SentPost, ...] = ()
    baseline: ProfileSnapshot | None = None
    profile: ProfileSnapshot | None = None
    auth_refusal: AuthRefusal | None = None


# ---------------------------------------------------------------- evidence


@dataclass(frozen=True, slots=True)
class UnknownPostEvidence(Evidence):
    post_id: str
    text: str
    created_at: datetime
    permalink: str | None = None

    def params(self, lang: Lang = Lang.JA) -> dict[str, str]:
        return {"when": format_when(self.created_at, lang)}

    def rows(self, lang: Lang = Lang.JA) -> tuple[tuple[str, str], ...]:
        none = message("incident.none", lang)
        return (
            (message("incident.field.posted_at", lang), format_when(self.created_at, lang)),
            (message("incident.field.text", lang), defang(self.text) or none),
            (message("incident.field.link", lang), self.permalink or none),
            (message("incident.field.post_id", lang), self.post_id),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "post_id": self.post_id,
            "text": self.text,
            "created_at": self.created_at.isoformat(),
            "permalink": self.permalink,
        }


class ProfileField(StrEnum):
    NAME = "name"
    HANDLE = "handle"
    DESCRIPTION = "description"
    URL = "url"
    IMAGE = "image"

    def label(self, lang: Lang = Lang.JA) -> str:
        return message(f"incident.profile_field.{self.value}", lang)


@dataclass(frozen=True, slots=True)
class ProfileChangeEvidence(Evidence):
    field: ProfileField
    before: str
    after: str

    def params(self, lang: Lang = Lang.JA) -> dict[str, str]:
        return {"field": self.field.label(lang)}

    def rows(self, lang: Lang = Lang.JA) -> tuple[tuple[str, str], ...]:
        empty = message("incident.empty", lang)
        return (
            (message("incident.field.profile_field", lang), self.field.label(lang)),
            (message("incident.field.before", lang), self.before or empty),
            (message("incident.field.after", lang), defang(self.after) or empty),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field.value, "before": self.before, "after": self.after}


@dataclass(frozen=True, slots=True)
class AuthRefusalEvidence(Evidence):
    since: datetime
    last: datetime
    status: int | None = None
    detail: str = ""

    def params(self, lang: Lang = Lang.JA) -> dict[str, str]:
        return {"since": format_when(self.since, lang)}

    def rows(self, lang: Lang = Lang.JA) -> tuple[tuple[str, str], ...]:
        none = message("incident.none", lang)
        status = f"HTTP {self.status}" if self.status is not None else none
        return (
            (message("incident.field.refused_since", lang), format_when(self.since, lang)),
            (message("incident.field.refused_last", lang), format_when(self.last, lang)),
            (message("incident.field.status", lang), status),
            (message("incident.field.detail", lang), self.detail or none),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "last": self.last.isoformat(),
            "status": self.status,
            "detail": self.detail,
        }


# ---------------------------------------------------------------- rules


def detect(
    account: Account, observation: Observation, rules: HijackRules | None = None
) -> list[Signal]:
    """Every hijack signal in one poll: refused credentials, profile changes, unknown posts."""
    signals: list[Signal] = []
    if observation.auth_refusal is not None:
        signals.append(auth_refused(account, observation.auth_refusal))
    if observation.baseline is not None and observation.profile is not None:
        signals += profile_changes(account, observation.baseline, observation.profile)
    signals += unknown_posts(
        account,
        observation.posts,
        published_ids=observation.published_ids,
        recent_sends=observation.recent_sends,
        watching_since=observation.watching_since,
        rules=rules,
    )
    return signals


def unknown_posts(
    account: Account,
    posts: Iterable[SeenPost],
    *,
    published_ids: Iterable[str],
    recent_sends: Sequence[SentPost] = (),
    watching_since: datetime,
    rules: HijackRules | None = None,
) -> list[Signal]:
    """A signal for each post since ``watching_since`` that postgate did not publish.

    None at all when the account allows native posts. Oldest first; a post listed twice (pages
    of a timeline overlap) is reported once.
    """
    rules = rules or HijackRules()
    require_aware(watching_since)
    if account.allow_native_posts:
        return []
    known = set(published_ids) | {s.post_id for s in recent_sends if s.post_id}
    unmatched: list[SeenPost] = []
    seen_ids: set[str] = set()
    for post in sorted(posts, key=lambda p: (p.created_at, p.post_id)):
        require_aware(post.created_at)
        if post.post_id in seen_ids or post.post_id in known:
            continue
        seen_ids.add(post.post_id)
        if post.created_at >= watching_since:
            unmatched.append(post)
    # Sends whose id is known already account for their own post.
    pending = [s for s in recent_sends if not s.post_id]
    for send in pending:
        require_aware(send.sent_at)
    ref = AccountRef.of(account)
    signals: list[Signal] = []
    for post in unmatched:
        match = _matching_send(post, pending, rules)
        if match is not None:
            pending.remove(match)
            continue
        signals.append(
            Signal(
                cause=Cause.UNKNOWN_POST,
                account=ref,
                dedupe_key=f"hijack:{Cause.UNKNOWN_POST}:{account.id}:{post.post_id}",
                evidence=UnknownPostEvidence(
                    post.post_id, post.text, post.created_at, post.permalink
                ),
            )
        )
    return signals


def profile_changes(
    account: Account, baseline: ProfileSnapshot, current: ProfileSnapshot
) -> list[Signal]:
    """A signal for each profile field that differs from the baseline, in a fixed order."""
    ref = AccountRef.of(account)
    signals: list[Signal] = []
    for name in ProfileField:
        before = getattr(baseline, name.value)
        after = getattr(current, name.value)
        normalised = _NORMALISE[name](after)
        if _NORMALISE[name](before) == normalised:
            continue
        signals.append(
            Signal(
                cause=Cause.PROFILE,
                account=ref,
                dedupe_key=f"hijack:{Cause.PROFILE}:{account.id}:{name}:{digest(normalised)}",
                evidence=ProfileChangeEvidence(name, before, after),
            )
        )
    return signals


def auth_refused(account: Account, refusal: AuthRefusal) -> Signal:
    """The signal for refused credentials: one per refusal streak (per day if its start is lost)."""
    require_aware(refusal.at)
    since = refusal.since or refusal.at
    require_aware(since)
    day = since.astimezone(TOKYO).date().isoformat()
    return Signal(
        cause=Cause.AUTH,
        account=AccountRef.of(account),
        dedupe_key=f"hijack:{Cause.AUTH}:{account.id}:{day}",
        evidence=AuthRefusalEvidence(since, refusal.at, refusal.status, refusal.detail),
    )


# ---------------------------------------------------------------- matching


_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_ELLIPSIS = re.compile(r"(?:…|\.\.\.)$")


def comparable_text(text: str) -> str:
    """A post's text as the match sees it: NFKC, case-folded, without links and spacing.

    Platforms rewrite links (X's t.co), append media links and trim whitespace; none of that
    changes whose post it is.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _SPACE.sub("", _ELLIPSIS.sub("", _URL.sub("", folded).strip()))


def _matching_send(
    post: SeenPost, sends: Sequence[SentPost], rules: HijackRules
) -> SentPost | None:
    """The send that best explains ``post``: sent just before it, with (almost) its text."""
    text = comparable_text(post.text)
    best: tuple[float, timedelta, SentPost] | None = None
    for send in sends:
        if not send.sent_at - rules.skew <= post.created_at <= send.sent_at + rules.grace:
            continue
        score = _similarity(text, comparable_text(send.text))
        if score < rules.min_similarity:
            continue
        gap = abs(post.created_at - send.sent_at)
        if best is None or (score, -gap) > (best[0], -best[1]):
            best = (score, gap, send)
    return best[2] if best else None


_MIN_PREFIX = 20  # a truncated text counts as the same only if this much of it is left


def _similarity(a: str, b: str) -> float:
    if a == b:
        return 100.0
    short, long = sorted((a, b), key=len)
    if len(short) >= _MIN_PREFIX and long.startswith(short):
        return 100.0  # the platform shortened it
    return float(fuzz.ratio(a, b))


def _collapse(value: str) -> str:
    # Spacing alone never tells of a hijack.
    return _SPACE.sub("", unicodedata.normalize("NFKC", value))


def _handle(value: str) -> str:
    return value.strip().lstrip("@").casefold()


def _url(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    parts = urlsplit(value if "://" in value else f"https://{value}")
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def _image(value: str) -> str:
    value = value.strip()
    if "://" not in value:
        return value
    parts = urlsplit(value)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, "", ""))


_NORMALISE = {
    ProfileField.NAME: _collapse,
    ProfileField.HANDLE: _handle,
    ProfileField.DESCRIPTION: _collapse,
    ProfileField.URL: _url,
    ProfileField.IMAGE: _image,
}
