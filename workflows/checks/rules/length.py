"""Length: each platform's limit, counted as that platform counts (X by twitter-text v3).

Manual §3 (2): X allows "140 characters" - X's weighted 280, where a Japanese character or an
emoji weighs 2 and any link 23 - so details belong on the homepage, linked from the post. The
limits and units are in ``length.yaml``; X's counting is :mod:`workflows.xtext`. Everything is
measured on the draft as written (not the NFKC form the other rules read): that is what is posted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from workflows import xtext
from workflows.checks.context import CheckContext, Rule
from workflows.checks.data import RuleDataError, cached_data, load_yaml
from workflows.checks.hits import Hit, findings_in_original
from workflows.checks.model import Finding, Platform, Severity

DATA_FILE = "length.yaml"
UNITS = ("weighted", "chars", "utf16")
PLATFORM_NAMES = {
    Platform.X: "X",
    Platform.FACEBOOK: "Facebook",
    Platform.INSTAGRAM: "Instagram",
    Platform.LINE: "LINE",
}
# twitter-text refuses a post holding these (byte-order marks and non-characters).
_X_INVALID = re.compile("[\ufffe\ufeff\uffff]")
_HEAD = 12  # characters of the overflowing part quoted in the message


@dataclass(frozen=True, slots=True)
class Limit:
    platform: Platform
    rule: str
    limit: int
    unit: str


@dataclass(frozen=True, slots=True)
class LengthData:
    limits: Mapping[Platform, Limit]
    link_hint_rule: str
    link_hint_over: int


def measure(text: str, unit: str) -> int:
    """The length of ``text`` in ``unit`` (see ``length.yaml``)."""
    if unit == "weighted":
        return xtext.weighted_length(text)
    if unit == "utf16":
        return len(text.encode("utf-16-le", "surrogatepass")) // 2
    return len(text)


def overflow_start(text: str, unit: str, limit: int) -> int:
    """Index of the first character of ``text`` beyond ``limit``."""
    if unit == "weighted":
        return xtext.fitting_end(text, limit)
    if unit == "utf16" and not text.isascii():
        used = 0
        for i, ch in enumerate(text):
            used += 2 if ord(ch) > 0xFFFF else 1
            if used > limit:
                return i
        return len(text)
    return min(limit, len(text))


def scan(
    text: str, platforms: Iterable[Platform], data: LengthData, *, emergency: bool = False
) -> Iterator[Hit]:
    """Every length problem of ``text`` on ``platforms``.

    An emergency post (a disaster alert) gets no link hint: it has to say everything itself.
    """
    targets = tuple(dict.fromkeys(platforms))
    weighted: int | None = None
    for platform in targets:
        limit = data.limits.get(platform)
        if limit is None:
            continue
        count = measure(text, limit.unit)
        if limit.unit == "weighted":
            weighted = count
        if count <= limit.limit:
            continue
        start = overflow_start(text, limit.unit, limit.limit)
        excess = count - limit.limit
        key = {"weighted": "length.over_x", "utf16": "length.over_line"}.get(
            limit.unit, "length.over"
        )
        yield Hit(
            limit.rule,
            Severity.ERROR,
            key,
            start,
            len(text),
            {
                "platform": PLATFORM_NAMES[platform],
                "count": count,
                "limit": limit.limit,
                "excess": excess,
                "excess_full": math.ceil(excess / 2),
                "head": _head(text[start:]),
            },
        )
    if Platform.X in targets:
        # Over the limit, the error already says to move details to a linked page.
        over = weighted is not None and weighted > data.limits[Platform.X].limit
        yield from _x_only(text, data, weighted, no_hint=emergency or over)


def _x_only(text: str, data: LengthData, weighted: int | None, *, no_hint: bool) -> Iterator[Hit]:
    for m in _X_INVALID.finditer(text):
        yield Hit(
            "length.invalid-char",
            Severity.ERROR,
            "length.invalid_char",
            m.start(),
            m.end(),
            {"code": f"U+{ord(m.group()):04X}"},
            suggestion="",
        )
    if no_hint:
        return
    if weighted is None:
        weighted = xtext.weighted_length(text)
    if weighted > data.link_hint_over and not xtext.url_spans(text):
        yield Hit(
            data.link_hint_rule,
            Severity.INFO,
            "length.link_hint",
            0,
            0,
            {"count": weighted, "full": math.ceil(weighted / 2)},
        )


def _head(rest: str) -> str:
    head = " ".join(rest[: _HEAD + 1].split())
    return head[:_HEAD] + "…" if len(head) > _HEAD else head


def check(ctx: CheckContext) -> Iterable[Finding]:
    return findings_in_original(
        ctx, scan(ctx.draft.text, ctx.draft.platforms, _data(), emergency=ctx.draft.emergency)
    )


@cache
@cached_data(DATA_FILE)
def _data() -> LengthData:
    return load(DATA_FILE)


def load(path: str = DATA_FILE) -> LengthData:
    """Read ``length.yaml`` (or ``path``), validate it and run its specs."""
    raw = load_yaml(path)
    limits: dict[Platform, Limit] = {}
    try:
        for name, entry in raw["platforms"].items():
            limit = Limit(Platform(name), str(entry["rule"]), int(entry["limit"]), entry["unit"])
            if limit.unit not in UNITS or limit.limit <= 0:
                raise ValueError(f"unit must be one of {UNITS} and limit positive")
            limits[limit.platform] = limit
        hint = raw["link_hint"]
        data = LengthData(limits, str(hint["rule"]), int(hint["over"]))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RuleDataError(f"{path}: malformed: {exc!r}") from exc
    for name, entry in raw["platforms"].items():
        limit = limits[Platform(name)]
        _run_specs(
            path, f"platforms.{name}", entry, rule=limit.rule, platform=limit.platform, data=data
        )
    _run_specs(path, "link_hint", hint, rule=data.link_hint_rule, platform=Platform.X, data=data)
    return data


def _run_specs(
    path: str, name: str, entry: Any, *, rule: str, platform: Platform, data: LengthData
) -> None:
    specs = entry.get("specs") or {}
    if not specs.get("hit") or not specs.get("miss"):
        raise RuleDataError(f"{path}: {name}: every entry needs specs (hit and miss)")
    for want in ("hit", "miss"):
        for spec in specs[want]:
            try:
                text = _spec_text(spec)
            except (RuleDataError, ValueError) as exc:
                raise RuleDataError(f"{path}: {name}: {exc}") from exc
            found = any(h.rule == rule for h in scan(text, (platform,), data))
            if found != (want == "hit"):
                shown = text if len(text) <= 40 else f"{text[:40]}… ({len(text)} chars)"
                raise RuleDataError(
                    f"{path}: {name}: spec {shown!r} should "
                    f"{'report' if want == 'hit' else 'not report'} {rule}"
                )


def _spec_text(spec: Any) -> str:
    if isinstance(spec, str):
        return spec
    if isinstance(spec, dict) and "text" in spec:
        return str(spec["text"]) * int(spec.get("repeat", 1))
    raise RuleDataError(f"a spec is a text or {{text, repeat}}, not {spec!r}")


RULE = Rule("length", check)
