"""Links: broken URLs, http://, short links, blocked sites and links outside the city.

Manual §5 ③ forbids links to obscene sites; a broken or shortened link misleads citizens. A
domain without http(s):// (city.midori.lg.jp/event) is a link too: the platforms turn it into one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, NamedTuple

from workflows.checks.context import CheckContext, Rule
from workflows.checks.data import RuleDataError, cached_data, load_yaml
from workflows.checks.hits import Hit, findings, run_specs
from workflows.checks.model import Finding, Severity
from workflows.checks.settings import CheckSettings
from workflows.checks.text import NormalizedText

DATA_FILE = "url.yaml"

_PATH = r"[/?\#][A-Za-z0-9\-._~:/?\#\[\]@!$&'()*+,;=%]*"
_LINK = re.compile(
    rf"""
    (?<![A-Za-z0-9])
    (?P<scheme>[Hh]?[Tt]{{1,2}}[Pp]{{1,2}}[Ss]?)
    (?P<sep>\ ?(?:[:;]{{1,3}}\ ?/{{0,4}}|/{{1,4}})\ ?)
    (?P<host>[A-Za-z0-9\-]+(?:\.+[A-Za-z0-9\-]+)*)
    (?P<port>:\d{{1,5}})?
    (?P<path>{_PATH})?
  |
    (?<![A-Za-z0-9@._%+\-/:])
    (?P<bhost>(?:[a-z0-9](?:[a-z0-9\-]{{0,61}}[a-z0-9])?\.)+[a-z]{{2,24}})(?![A-Za-z0-9\-@])
    (?P<bport>:\d{{1,5}})?
    (?P<bpath>{_PATH})?
    """,
    re.VERBOSE,
)
# Text right after a link that shows a space was typed inside it ("…lg.jp /event/1.html").
_SPACE_INSIDE = re.compile(r" {1,2}[./][A-Za-z0-9][A-Za-z0-9\-._~/?=&%]*")
_TRAILING = ".,;:!?'\"#*"
# Full-width ASCII and the ideographic space: NFKC hides them, a link breaks on them.
_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]")
_PROSE = frozenset("（）［］｛｝＜＞！？，；＂＇｀")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_COMMA_IN_HOST = re.compile(r",[A-Za-z]{2,6}(?:\.[A-Za-z]{2,6})*(?=[/:?#\s)」]|$)")


@dataclass(frozen=True, slots=True)
class Blocked:
    category: str
    label_ja: str
    label_en: str
    domains: frozenset[str]
    tlds: frozenset[str]


@dataclass(frozen=True, slots=True)
class UrlData:
    bare_tlds: frozenset[str]
    shorteners: frozenset[str]
    shortener_allow: frozenset[str]
    blocked: tuple[Blocked, ...]
    public_suffixes: frozenset[str]
    public_hosts: re.Pattern[str]


class Link(NamedTuple):
    """One link as written: where it is in the normalised text and its parts (a tuple: a
    draft can hold thousands)."""

    start: int
    end: int
    scheme: str | None  # None for a bare domain
    sep: str
    host: str
    port: str
    path: str

    def fixed(self) -> str:
        """The link as it should be written (scheme repaired, nothing else changed)."""
        if self.scheme is None:
            return f"{self.host}{self.port}{self.path}"
        scheme = "https" if self.scheme.lower().endswith("s") else "http"
        return f"{scheme}://{self.host}{self.port}{self.path}"


def host_in(host: str, domains: Iterable[str]) -> bool:
    """Whether ``host`` is one of ``domains`` or a subdomain of one."""
    host = host.lower().rstrip(".")
    wanted, longest = _indexed_any(domains)
    if host in wanted:
        return True
    # The parts after a dot, right to left, while they are no longer than the longest domain:
    # a few look-ups, however many domains and however long the host.
    first = len(host) - longest - 1
    dot = host.rfind(".")
    while dot >= first and dot >= 0:
        if host[dot + 1 :] in wanted:
            return True
        dot = host.rfind(".", 0, dot)
    return False


def _indexed_any(domains: Iterable[str]) -> tuple[frozenset[str], int]:
    return _indexed(domains if isinstance(domains, frozenset | tuple) else tuple(domains))


@lru_cache(maxsize=64)
def _indexed(domains: frozenset[str] | tuple[str, ...]) -> tuple[frozenset[str], int]:
    return frozenset(domains), max(map(len, domains), default=0)


def _names(host: str, longest: int) -> set[str]:
    """``host`` and each part of it after a dot, as long as a domain can be (``longest``): a
    host is in a list of domains if one of these is (see ``host_in``)."""
    host = host.lower().rstrip(".")
    names = {host}
    dot = host.rfind(".")
    while dot >= len(host) - longest - 1 and dot >= 0:
        names.add(host[dot + 1 :])
        dot = host.rfind(".", 0, dot)
    return names


@dataclass(frozen=True, slots=True)
class _Lists:
    """The lists of domains each host is looked up in, as sets, made once per draft: a draft of
    thousands of different hosts then costs a set intersection per list and host."""

    blocked_by_city: frozenset[str]
    official: frozenset[str]
    shorteners: frozenset[str]
    shortener_allow: frozenset[str]
    public_suffixes: frozenset[str]
    blocked: tuple[frozenset[str], ...]  # per category of data.blocked
    longest: int
    # Every blocked domain and TLD of every category: most hosts are in none of them.
    any_blocked: frozenset[str]
    any_blocked_tld: frozenset[str]

    @classmethod
    def of(cls, settings: CheckSettings, data: UrlData) -> _Lists:
        own = (
            settings.blocked_domains,
            settings.official_domains,
            data.shorteners,
            data.shortener_allow,
            data.public_suffixes,
        )
        indexed = [_indexed_any(domains) for domains in (*own, *(b.domains for b in data.blocked))]
        sets = [wanted for wanted, _ in indexed]
        return cls(
            sets[0],
            sets[1],
            sets[2],
            sets[3],
            sets[4],
            tuple(sets[len(own) :]),
            max(longest for _, longest in indexed),
            frozenset().union(*sets[len(own) :]),
            frozenset().union(*(b.tlds for b in data.blocked)),
        )


def links(text: str) -> list[Link]:
    """Every link written in a normalised text, trailing punctuation left out."""
    if "." not in text and "/" not in text:
        return []
    found: list[Link] = []
    # A link's parts follow from what it matched and the few characters after it (where the
    # pattern stopped); a draft repeats the same links, so each is taken apart once.
    known: dict[tuple[str, str], _Parts | None] = {}
    for m in _LINK.finditer(text):
        start, end = m.span()
        written = (m.group(), text[end : end + 3])
        parts = known.get(written, _UNKNOWN)
        if parts is _UNKNOWN:  # not a KeyError: a draft of different links raises none
            parts = known[written] = _parts(m)
        if parts is not None:
            found.append(Link(start, start + parts[0], *parts[1:]))
    return found


# A link without its place: its length, scheme, separator, host, port and path.
_Parts = tuple[int, str | None, str, str, str, str]
_UNKNOWN: Any = object()  # a link not taken apart yet


def _parts(m: re.Match[str]) -> _Parts | None:
    if m.group("scheme"):
        scheme, sep, host = m.group("scheme"), m.group("sep"), m.group("host")
        port, path = m.group("port") or "", m.group("path") or ""
        lower = scheme.lower()
        if "tp" not in lower or not ("h" in lower or lower.startswith("tt")):
            return None  # TPP:12, tp:/ — not a try at http
        if (lower not in ("http", "https") or sep != "://") and "." not in host:
            return None  # a broken scheme before something that is no domain is no link
    else:
        scheme, sep, host = None, "", m.group("bhost")
        port, path = m.group("bport") or "", m.group("bpath") or ""
    raw = m.group()
    trimmed = _trim(raw)
    # Only the path can lose characters: host and port end in a letter or digit.
    cut = len(raw) - len(trimmed)
    return len(trimmed), scheme, sep, host, port, path[: len(path) - cut]


def _trim(url: str) -> str:
    while url:
        last = url[-1]
        unbalanced = last in ")]" and _unbalanced(url, last)
        if last not in _TRAILING and not unbalanced:
            break
        url = url[:-1]
    return url


def _unbalanced(url: str, closing: str) -> bool:
    opening = "(" if closing == ")" else "["
    return url.count(opening) < url.count(closing)


def scan(norm: NormalizedText, settings: CheckSettings, data: UrlData) -> list[Hit]:
    """Every link problem in a normalised text."""
    hits: list[Hit] = []
    text = norm.text
    kinds: dict[str, _HostKind] = {}  # a draft names the same few hosts again and again
    lists = _Lists.of(settings, data)
    full_width = _FULL_WIDTH.search(norm.original) is not None
    for written in links(text):
        link = _cut_at_prose(written, norm) if full_width else written
        host = link.host.lower()
        kind = kinds.get(host)
        if kind is None:
            kind = kinds[host] = _HostKind.of(host, lists, data)
        if link.scheme is None and not kind.bare_link:
            continue
        if kind.blocked_by_city:
            hits.append(
                Hit(
                    "url.blocked",
                    Severity.ERROR,
                    "url.blocked_by_city",
                    link.start,
                    link.end,
                    params={"host": host},
                )
            )
            continue
        blocked = kind.blocked
        if blocked is not None:
            hits.append(
                Hit(
                    "url.blocked",
                    Severity.ERROR,
                    "url.blocked",
                    link.start,
                    link.end,
                    params={"host": host, "category_ja": blocked[0], "category_en": blocked[1]},
                )
            )
            continue
        malformed = _malformed(link, norm, full_width)
        if malformed is not None:
            hits.append(malformed)
        if kind.shortener:
            hits.append(
                Hit(
                    "url.shortener",
                    Severity.WARNING,
                    "url.shortener",
                    link.start,
                    link.end,
                    params={"host": host},
                )
            )
            continue
        if malformed is not None:
            continue
        if link.scheme is not None and link.scheme.lower() == "http":
            https = "https" + link.fixed()[4:]
            hits.append(
                Hit(
                    "url.insecure",
                    Severity.WARNING,
                    "url.insecure",
                    link.start,
                    link.end,
                    suggestion=https,
                )
            )
        if settings.official_domains and not kind.official:
            public = kind.public
            hits.append(
                Hit(
                    "url.external",
                    Severity.INFO,
                    "url.external_public" if public else "url.external",
                    link.start,
                    link.end,
                    params={"host": host},
                )
            )
    return hits


class _HostKind(NamedTuple):
    """What the rules say of one host (lower-cased); a tuple: a draft of thousands of different
    hosts makes one for each."""

    bare_link: bool  # written without a scheme, still a link to check
    blocked_by_city: bool
    blocked: tuple[str, str] | None
    shortener: bool
    official: bool
    public: bool

    @classmethod
    def of(cls, host: str, lists: _Lists, data: UrlData) -> _HostKind:
        names = _names(host, lists.longest)
        tld = host.rsplit(".", 1)[-1]
        city_blocked = not lists.blocked_by_city.isdisjoint(names)
        official = not lists.official.isdisjoint(names)
        blocked = (
            None
            if tld not in lists.any_blocked_tld and lists.any_blocked.isdisjoint(names)
            else _blocked(host, names, lists, data)
        )
        # Positional: a named tuple is made several times faster so, once per host.
        return cls(
            tld in data.bare_tlds or city_blocked or official,  # bare_link
            city_blocked,  # blocked_by_city
            blocked,
            not lists.shorteners.isdisjoint(names)
            and lists.shortener_allow.isdisjoint(names),  # shortener
            official,
            not lists.public_suffixes.isdisjoint(names)
            or bool(data.public_hosts.search(host)),  # public
        )


def _cut_at_prose(link: Link, norm: NormalizedText) -> Link:
    """The link up to the first full-width bracket or mark the drafter wrote: that is prose.

    "https://…/a.pdf（ＰＤＦ）" normalises to "…/a.pdf(PDF)", but the link ends before "（".
    """
    ostart, oend = norm.span(link.start, link.end)
    if not _FULL_WIDTH.search(norm.original, ostart, oend):
        return link
    path_start = link.end - len(link.path)
    for i in range(path_start, link.end):
        o, _ = norm.span(i, i + 1)
        if norm.original[o] in _PROSE:
            path = _trim(link.path[: i - path_start])
            return Link(
                link.start,
                path_start + len(path),
                link.scheme,
                link.sep,
                link.host,
                link.port,
                path,
            )
    return link


def _blocked(host: str, names: set[str], lists: _Lists, data: UrlData) -> tuple[str, str] | None:
    """The category (ja, en) of a blocked host (``names``: see _names), or None."""
    tld = host.rsplit(".", 1)[-1]
    for b, domains in zip(data.blocked, lists.blocked, strict=True):
        if tld in b.tlds or not domains.isdisjoint(names):
            return b.label_ja, b.label_en
    return None


def _malformed(link: Link, norm: NormalizedText, full_width: bool = True) -> Hit | None:
    """Why a link cannot work as written, or None (``full_width``: whether the draft has any
    full-width character at all)."""
    text = norm.text
    if full_width and _FULL_WIDTH.search(norm.original, *norm.span(link.start, link.end)):
        return Hit(
            "url.malformed",
            Severity.ERROR,
            "url.malformed_full_width",
            link.start,
            link.end,
            suggestion=link.fixed(),
        )
    if link.scheme is not None and (
        link.scheme.lower() not in ("http", "https") or link.sep != "://"
    ):
        return Hit(
            "url.malformed",
            Severity.ERROR,
            "url.malformed_scheme",
            link.start,
            link.end,
            suggestion=link.fixed(),
            params={"written": link.scheme + link.sep},
        )
    if link.scheme is not None:
        after = _SPACE_INSIDE.match(text, link.end)
        if after is not None:
            joined = text[link.start : after.end()].replace(" ", "")
            return Hit(
                "url.malformed",
                Severity.ERROR,
                "url.malformed_space",
                link.start,
                after.end(),
                suggestion=joined,
            )
    comma = _COMMA_IN_HOST.match(text, link.end) if link.scheme and not link.path else None
    if comma is not None:
        # 「lg,jp」: a comma typed for a dot cuts the host short.
        joined = text[link.start : comma.end()].replace(",", ".")
        return Hit(
            "url.malformed",
            Severity.ERROR,
            "url.malformed_host",
            link.start,
            comma.end(),
            suggestion=joined,
        )
    if _bad_host(link.host):
        return Hit("url.malformed", Severity.ERROR, "url.malformed_host", link.start, link.end)
    return None


@lru_cache(maxsize=256)  # a draft names the same few hosts again and again
def _bad_host(host: str) -> bool:
    if _IPV4.fullmatch(host) or host.lower() == "localhost":
        return False
    return _GOOD_HOST.fullmatch(host) is None


# Two labels or more, none empty or starting or ending with a hyphen, the last one a TLD
# (letters, or punycode): one pass of C per host, so a draft of thousands of different hosts
# costs no Python for each.
_GOOD_HOST = re.compile(r"(?:(?!-)[^.]+(?<!-)\.)+(?:[A-Za-z]{2,63}|xn--[a-z0-9\-]+(?<!-))")


def check(ctx: CheckContext) -> Iterable[Finding]:
    """Findings of the url family for one draft."""
    return findings(ctx, scan(ctx.norm, ctx.settings, data()))


@cache
@cached_data(DATA_FILE)
def data() -> UrlData:
    """The url data, loaded, compiled and validated against its specs once."""
    return load(DATA_FILE)


def _domains(values: Any) -> frozenset[str]:
    return frozenset(str(v).strip().lower().lstrip(".") for v in values or ())


def load(path: str) -> UrlData:
    """Load url data from ``path`` and run every entry's specs (RuleDataError on failure)."""
    raw = load_yaml(path)
    try:
        blocked = tuple(
            Blocked(
                category=str(b["category"]),
                label_ja=str(b["label"]["ja"]),
                label_en=str(b["label"]["en"]),
                domains=_domains(b.get("domains")),
                tlds=_domains(b.get("tlds")),
            )
            for b in raw["blocked"]
        )
        public = raw["public_bodies"]
        compiled = UrlData(
            bare_tlds=_domains(raw["bare_tlds"]["words"]),
            shorteners=_domains(raw["shorteners"]["domains"]),
            shortener_allow=_domains(raw["shorteners"].get("allow")),
            blocked=blocked,
            public_suffixes=_domains(public["suffixes"]),
            public_hosts=re.compile("|".join(f"(?:{p})" for p in public["host_patterns"])),
        )
    except (KeyError, TypeError, AttributeError, re.error) as exc:
        raise RuleDataError(f"{path}: malformed url data: {exc!r}") from exc
    entries: list[tuple[str, Any]] = [
        (name, raw[name])
        for name in (
            "bare_tlds",
            "shorteners",
            "blocked_by_city",
            "public_bodies",
            "clean",
            "malformed",
            "insecure",
        )
        if name in raw
    ]
    entries += [(f"blocked[{b['category']}]", b) for b in raw["blocked"]]
    for name, entry in entries:
        run_specs(path, name, entry, lambda n, s: scan(n, s, compiled))
    return compiled


RULE = Rule("url", check)
