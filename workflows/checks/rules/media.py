"""Images and videos: what each platform needs and accepts, and where images may come from.

Manual §3 (3): Instagram is for images - 「画像は複数枚で投稿」 - and cannot publish a post
without one. Each platform limits how many items and which file types a post carries
(``media.yaml``). Images must come from the city's own servers (app.yaml ``media_hosts``, else
``official_domains``; any https host when neither is set) over https: an image from someone's
post, a photo-sharing site or a staff member's drive is not the city's to publish, and an
http:// link can be tampered with. Media are not in the text, so findings span nothing (0..0).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import unquote, urlsplit

from workflows.checks.context import CheckContext, Rule
from workflows.checks.data import RuleDataError, cached_data, load_yaml
from workflows.checks.model import Finding, MediaItem, Platform, Severity
from workflows.checks.settings import CheckSettings

DATA_FILE = "media.yaml"
PLATFORM_NAMES = {
    Platform.X: "X",
    Platform.FACEBOOK: "Facebook",
    Platform.INSTAGRAM: "Instagram",
    Platform.LINE: "LINE",
}


@dataclass(frozen=True, slots=True)
class PlatformMedia:
    platform: Platform
    required: bool
    max_items: int | None
    images: frozenset[str] | None  # None: any type is accepted
    videos: frozenset[str] | None
    alone: frozenset[str]  # types that must be the only item (X: a GIF or a video)
    several: bool  # suggest several images instead of one


@dataclass(frozen=True, slots=True)
class MediaData:
    platforms: Mapping[Platform, PlatformMedia]
    content_types: Mapping[str, str]
    aliases: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Hit:
    rule: str
    severity: Severity
    key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Item:
    """A media item as the rules see it."""

    name: str  # the file name, for messages
    scheme: str  # "" for a file name or an upload
    host: str
    type: str | None  # extension, as in media.yaml; None when unknown


def describe(item: MediaItem, data: MediaData) -> Item:
    """File name, scheme, host and type of a media item (from its MIME type, else its name)."""
    url = item.url.strip()
    scheme = host = ""
    path = url
    if "://" in url:
        try:
            parts = urlsplit(url)
            scheme, host, path = parts.scheme.lower(), (parts.hostname or ""), parts.path
        except ValueError:  # e.g. a broken [IPv6] host
            scheme = url.split("://", 1)[0].lower()
    name = unquote(posixpath.basename(path.replace("\\", "/"))) or url
    kind: str | None = None
    if item.content_type:
        kind = data.content_types.get(item.content_type.split(";")[0].strip().lower())
    if kind is None and "." in name:
        extension = name.rsplit(".", 1)[1].lower()
        kind = data.aliases.get(extension, extension) if extension.isalnum() else None
    return Item(name, scheme, host, kind)


def allowed_hosts(settings: CheckSettings) -> tuple[str, ...]:
    """Hosts images may come from; empty when any https host will do."""
    return settings.media_hosts or settings.official_domains


def scan(
    media: Iterable[MediaItem],
    platforms: Iterable[Platform],
    settings: CheckSettings,
    data: MediaData,
) -> Iterator[Hit]:
    """Every media problem of a draft for ``platforms``."""
    items = [describe(m, data) for m in media]
    targets = [p for p in dict.fromkeys(platforms) if p in data.platforms]
    yield from _sources(items, settings)
    for platform in targets:
        yield from _for_platform(items, data.platforms[platform])
    yield from _types(items, [data.platforms[p] for p in targets])


def _sources(items: list[Item], settings: CheckSettings) -> Iterator[Hit]:
    hosts = allowed_hosts(settings)
    for item in items:
        if not item.scheme:
            continue  # a file attached to the draft, not a link
        if item.scheme != "https":
            yield Hit(
                "media.insecure",
                Severity.ERROR,
                "media.insecure",
                {"name": item.name, "scheme": item.scheme},
            )
        host = item.host.rstrip(".")
        if hosts and not any(host == h or host.endswith("." + h) for h in hosts):
            yield Hit(
                "media.host",
                Severity.ERROR,
                "media.host",
                {"name": item.name, "host": host or "?", "hosts": "、".join(hosts)},
            )


def _for_platform(items: list[Item], rules: PlatformMedia) -> Iterator[Hit]:
    name = PLATFORM_NAMES[rules.platform]
    if not items:
        if rules.required:
            yield Hit("media.required", Severity.ERROR, "media.required", {"platform": name})
        return
    alone = [i for i in items if i.type in rules.alone]
    if alone and len(items) > 1:
        yield Hit(
            "media.count",
            Severity.ERROR,
            "media.count_alone",
            {"platform": name, "name": alone[0].name, "count": len(items)},
        )
    elif rules.max_items is not None and len(items) > rules.max_items:
        yield Hit(
            "media.count",
            Severity.ERROR,
            "media.count_line" if rules.platform is Platform.LINE else "media.count",
            {"platform": name, "count": len(items), "max": rules.max_items},
        )
    videos = rules.videos or frozenset()
    if rules.several and len(items) == 1 and items[0].type not in videos:
        yield Hit("media.single", Severity.INFO, "media.single", {"platform": name})


def _types(items: list[Item], targets: list[PlatformMedia]) -> Iterator[Hit]:
    """One finding per item some platform cannot take, naming those platforms."""
    for item in items:
        if item.type is None:
            continue
        refusing = [(t, accepted) for t in targets if (accepted := _accepted(t)) is not None]
        refusing = [(t, accepted) for t, accepted in refusing if item.type not in accepted]
        if refusing:
            common = frozenset.intersection(*(accepted for _, accepted in refusing))
            yield Hit(
                "media.type",
                Severity.ERROR,
                "media.type",
                {
                    "name": item.name,
                    "type": item.type.upper(),
                    "platforms": "・".join(PLATFORM_NAMES[t.platform] for t, _ in refusing),
                    "accepted": "・".join(a.upper() for a in sorted(common or refusing[0][1])),
                },
            )


def _accepted(rules: PlatformMedia) -> frozenset[str] | None:
    if rules.images is None and rules.videos is None:
        return None
    return (rules.images or frozenset()) | (rules.videos or frozenset())


def check(ctx: CheckContext) -> Iterable[Finding]:
    for hit in scan(ctx.draft.media, ctx.draft.platforms, ctx.settings, _data()):
        yield Finding(hit.rule, hit.severity, ctx.t(hit.key, **hit.params), 0, 0)


@cache
@cached_data(DATA_FILE)
def _data() -> MediaData:
    return load(DATA_FILE)


def _types_of(entry: Any, key: str) -> frozenset[str] | None:
    values = entry.get(key)
    return None if values is None else frozenset(str(v).lower() for v in values)


def load(path: str = DATA_FILE) -> MediaData:
    """Read ``media.yaml`` (or ``path``), validate it and run its specs."""
    raw = load_yaml(path)
    try:
        platforms = {}
        for name, entry in raw["platforms"].items():
            platform = Platform(name)
            max_items = entry.get("max_items")
            platforms[platform] = PlatformMedia(
                platform=platform,
                required=bool(entry.get("required", False)),
                max_items=None if max_items is None else int(max_items),
                images=_types_of(entry, "images"),
                videos=_types_of(entry, "videos"),
                alone=_types_of(entry, "alone") or frozenset(),
                several=bool(entry.get("several", False)),
            )
        data = MediaData(
            platforms,
            {str(k).lower(): str(v) for k, v in raw["content_types"].items()},
            {str(k).lower(): str(v) for k, v in raw["aliases"].items()},
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RuleDataError(f"{path}: malformed: {exc!r}") from exc
    for name, entry in raw["platforms"].items():
        _run_specs(path, f"platforms.{name}", entry, [name], data)
    _run_specs(path, "hosts", raw.get("hosts") or {}, ["x"], data)
    return data


def _run_specs(path: str, name: str, entry: Any, platforms: list[str], data: MediaData) -> None:
    specs = entry.get("specs") or {}
    if not specs.get("hit") or not specs.get("miss"):
        raise RuleDataError(f"{path}: {name}: every entry needs specs (hit and miss)")
    for want in ("hit", "miss"):
        for spec in specs[want]:
            try:
                rule = str(spec["rule"])
                media = tuple(_item(m) for m in spec.get("media") or ())
                targets = tuple(Platform(p) for p in spec.get("platforms", platforms))
                settings = CheckSettings.of(spec.get("settings") or {})
            except (KeyError, TypeError, ValueError) as exc:
                raise RuleDataError(f"{path}: {name}: bad spec {spec!r}: {exc}") from exc
            found = any(h.rule == rule for h in scan(media, targets, settings, data))
            if found != (want == "hit"):
                shown = [m.url for m in media]
                raise RuleDataError(
                    f"{path}: {name}: spec {shown!r} on {[t.value for t in targets]} should "
                    f"{'report' if want == 'hit' else 'not report'} {rule}"
                )


def _item(value: Any) -> MediaItem:
    if isinstance(value, str):
        return MediaItem(value)
    return MediaItem(str(value["url"]), value.get("type"))


RULE = Rule("media", check)
