"""Hashtags: Instagram needs them (manual §3 (3)), too many look like spam, broken ones do nothing.

Hashtags are recognised as X recognises them (:func:`workflows.xtext.hashtags`, twitter-text's
rules: ``#みどり市`` and ``＃みどり市`` are hashtags, ``市#みどり`` and ``#2026`` are not), on the
draft as written. Besides the counts, the rule catches tags staff clearly meant but that will not
work: glued to the word before (``開催します#みどり市``) or to the next tag, or typed with the
music sharp ``♯`` that a Japanese IME offers for 「しゃーぷ」. Limits and wording are in
``hashtag.yaml``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from workflows import catalogue, xtext
from workflows.checks.context import CheckContext, Rule
from workflows.checks.data import RuleDataError, cached_data, load_yaml
from workflows.checks.hits import Hit, findings_in_original
from workflows.checks.model import Finding, Platform, Severity

DATA_FILE = "hashtag.yaml"
PLATFORM_NAMES = {
    Platform.X: "X",
    Platform.FACEBOOK: "Facebook",
    Platform.INSTAGRAM: "Instagram",
    Platform.LINE: "LINE",
}

# Hiragana particles: a "tag" starting with one is prose (♯が付く音), not a hashtag.
_PARTICLES = frozenset("がのをはにともやで")


@dataclass(frozen=True, slots=True)
class Check:
    """One kind of finding: its rule id, severity and the platforms it applies to."""

    rule: str
    severity: Severity
    platforms: frozenset[Platform]


@dataclass(frozen=True, slots=True)
class Limit:
    rule: str
    severity: Severity
    platform: Platform
    max: int
    message: str


@dataclass(frozen=True, slots=True)
class HashtagData:
    missing: Check
    limits: tuple[Limit, ...]  # strictest (largest) first for each platform
    glued: Check
    sharp: Check
    fullwidth: Check


def scan(text: str, platforms: Iterable[Platform], data: HashtagData) -> Iterator[Hit]:
    """Every hashtag problem of ``text`` on ``platforms``."""
    targets = frozenset(platforms)
    if not targets & (
        data.missing.platforms
        | {limit.platform for limit in data.limits}
        | data.glued.platforms
        | data.sharp.platforms
        | data.fullwidth.platforms
    ):
        return
    tags = xtext.hashtags(text)
    written = xtext.hashtag_like(text)
    urls = xtext.url_spans(text) if written else []
    if urls or "://" in text:
        # "#section" in a link, or "#" before "https://", is no hashtag attempt.
        starts = [a for a, _ in urls]
        written = [
            w
            for w in written
            if not _inside(w[2], urls, starts) and not text.startswith("://", w[3])
        ]
    yield from _counts(tags, written, targets, data)
    yield from _broken(text, tags, written, targets, data)


def _inside(position: int, spans: list[tuple[int, int]], starts: list[int]) -> bool:
    """Whether ``position`` lies in one of ``spans`` (in order, not overlapping)."""
    i = bisect_right(starts, position) - 1
    return i >= 0 and position < spans[i][1]


def _counts(
    tags: list[tuple[str, int, int]],
    written: list[tuple[str, str, int, int]],
    targets: frozenset[Platform],
    data: HashtagData,
) -> Iterator[Hit]:
    if not written:
        for platform in (p for p in Platform if p in targets & data.missing.platforms):
            yield Hit(
                data.missing.rule,
                data.missing.severity,
                "hashtag.missing",
                0,
                0,
                {"platform": PLATFORM_NAMES[platform]},
            )
    reported: set[Platform] = set()
    for limit in data.limits:
        if limit.platform not in targets or limit.platform in reported or len(tags) <= limit.max:
            continue
        reported.add(limit.platform)
        extra = tags[limit.max :]
        yield Hit(
            limit.rule,
            limit.severity,
            limit.message,
            extra[0][1],
            extra[-1][2],
            {
                "platform": PLATFORM_NAMES[limit.platform],
                "count": len(tags),
                "max": limit.max,
                "first_extra": "#" + extra[0][0],
            },
        )


def _broken(
    text: str,
    tags: list[tuple[str, int, int]],
    written: list[tuple[str, str, int, int]],
    targets: frozenset[Platform],
    data: HashtagData,
) -> Iterator[Hit]:
    valid = {start for _, start, _ in tags}
    # A "#" right after a link would join the link (https://a.jp/#みどり), so no fix there.
    url_ends = {end for _, end in xtext.url_spans(text)} if written else set()
    glued_on = bool(targets & data.glued.platforms)
    glued_names = _names_on(targets, data.glued.platforms)
    previous_end = -1
    for sign, tag, start, end in written:
        glued_to_previous = start == previous_end
        previous_end = end
        if start in valid:
            if sign == "＃" and targets & data.fullwidth.platforms:
                yield _hit(
                    data.fullwidth,
                    "hashtag.fullwidth",
                    start,
                    end,
                    suggestion="#" + tag,
                    targets=targets,
                )
            continue
        if sign == "♯":
            # Would it be a hashtag with a real "#" (nothing glued to it)? Not after a note name
            # (ファ♯, C♯), nor when music is being written about (♯1つ, ♯が付く).
            if tag[0].isdigit() or tag[0] in _PARTICLES:
                continue
            free_before = start == 0 or not xtext.is_hashtag_char(text[start - 1])
            free_after = text[end : end + 1] not in ("#", "＃")
            if (
                free_before
                and free_after
                and start not in url_ends
                and targets & data.sharp.platforms
            ):
                yield _hit(
                    data.sharp, "hashtag.sharp", start, end, suggestion="#" + tag, targets=targets
                )
            continue
        # Glued to a word before it. An ASCII letter is left out: "C#言語" is no hashtag attempt.
        # (Right after another tag it is glued anyway: the character before need not be read.)
        attached = not glued_to_previous and start > 0 and xtext.is_hashtag_char(text[start - 1])
        before = glued_to_previous or (attached and not text[start - 1].isascii())
        after = text[end : end + 1] in ("#", "＃")
        if (before or after) and glued_on:
            space = before or attached
            replacement = (" " if space else "") + text[start:end] + (" " if after else "")
            # A draft may glue thousands of tags: the Hit is made here, not through _hit.
            yield Hit(
                data.glued.rule,
                data.glued.severity,
                "hashtag.glued",
                start,
                end,
                {"platforms": glued_names, "fixed": replacement.strip()},
                replacement,
            )


def _hit(
    check: Check, key: str, start: int, end: int, *, suggestion: str, targets: frozenset[Platform]
) -> Hit:
    names = _names_on(targets, check.platforms)
    return Hit(
        check.rule,
        check.severity,
        key,
        start,
        end,
        {"platforms": names, "fixed": suggestion.strip()},
        suggestion,
    )


@cache
def _names_on(targets: frozenset[Platform], platforms: frozenset[Platform]) -> str:
    return _platform_names(targets & platforms)


@cache
def _platform_names(platforms: frozenset[Platform]) -> str:
    return "・".join(PLATFORM_NAMES[p] for p in Platform if p in platforms)


def check(ctx: CheckContext) -> Iterable[Finding]:
    return findings_in_original(ctx, scan(ctx.draft.text, ctx.draft.platforms, _data()))


@cache
@cached_data(DATA_FILE)
def _data() -> HashtagData:
    return load(DATA_FILE)


def load(path: str = DATA_FILE) -> HashtagData:
    """Read ``hashtag.yaml`` (or ``path``), validate it and run its specs."""
    raw = load_yaml(path)
    try:
        limits = tuple(
            sorted(
                (
                    Limit(
                        str(e["rule"]),
                        Severity(e["severity"]),
                        Platform(e["platform"]),
                        int(e["max"]),
                        str(e["message"]),
                    )
                    for e in raw["limits"]
                ),
                key=lambda limit: -limit.max,
            )
        )
        data = HashtagData(
            missing=_check(raw["missing"]),
            limits=limits,
            glued=_check(raw["glued"]),
            sharp=_check(raw["sharp"]),
            fullwidth=_check(raw["fullwidth"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RuleDataError(f"{path}: malformed: {exc!r}") from exc
    unknown = {limit.message for limit in limits} - catalogue.keys()
    if unknown:
        raise RuleDataError(f"{path}: limits: unknown message keys {sorted(unknown)}")
    for name in ("missing", "glued", "sharp", "fullwidth"):
        entry = raw[name]
        _run_specs(
            path, name, entry, rule=str(entry["rule"]), platforms=entry["platforms"], data=data
        )
    for i, entry in enumerate(raw["limits"]):
        label = f"limits[{i}] ({entry['rule']} on {entry['platform']})"
        _run_specs(
            path, label, entry, rule=str(entry["rule"]), platforms=[entry["platform"]], data=data
        )
    return data


def _check(entry: Any) -> Check:
    platforms = frozenset(Platform(p) for p in entry["platforms"])
    return Check(str(entry["rule"]), Severity(entry["severity"]), platforms)


def _run_specs(
    path: str, name: str, entry: Any, *, rule: str, platforms: list[str], data: HashtagData
) -> None:
    specs = entry.get("specs") or {}
    if not specs.get("hit") or not specs.get("miss"):
        raise RuleDataError(f"{path}: {name}: every entry needs specs (hit and miss)")
    for want in ("hit", "miss"):
        for spec in specs[want]:
            try:
                text, targets = _spec(spec, platforms)
            except (KeyError, TypeError, ValueError) as exc:
                raise RuleDataError(f"{path}: {name}: bad spec {spec!r}: {exc}") from exc
            found = any(h.rule == rule for h in scan(text, targets, data))
            if found != (want == "hit"):
                shown = text if len(text) <= 60 else f"{text[:60]}… ({len(text)} chars)"
                raise RuleDataError(
                    f"{path}: {name}: spec {shown!r} should "
                    f"{'report' if want == 'hit' else 'not report'} {rule}"
                )


def _spec(spec: Any, platforms: list[str]) -> tuple[str, tuple[Platform, ...]]:
    if isinstance(spec, str):
        return spec, tuple(Platform(p) for p in platforms)
    text = str(spec["text"]) * int(spec.get("repeat", 1))
    return text, tuple(Platform(p) for p in spec.get("platforms", platforms))


RULE = Rule("hashtag", check)
