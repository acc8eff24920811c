"""X's weighted post length (twitter-text v3), with its URL and hashtag extraction, in pure Python.

X counts a post with the twitter-text "v3" configuration: the text is NFC-normalised; code points
U+0000-U+10FF, U+2000-U+200D, U+2010-U+201F and U+2032-U+2037 weigh 1, every other code point 2;
an emoji sequence (skin tones, ZWJ sequences, flags, keycaps) weighs 2 as a whole; every URL X
would autolink - with a scheme, or a bare domain with a known TLD such as ``city.midori.lg.jp`` -
weighs 23. The limit is 280 (the manual's "140 characters").

Why not the reference library ``twitter-text-parser``: 0.28 s to import, ~0.9 ms per post, and it
needs the deprecated ``pkg_resources``. This module follows the same grammar and agrees with it
(``tests/workflows/test_xtext.py`` checks that differentially) except where the reference departs
from X's own twemoji-parser, which X documents as the emoji counter:

- a bare (c) or (R) sign (U+00A9, U+00AE) weighs 1: it is an emoji only with U+FE0F (the
  reference weighs it 2);
- an emoji that is already emoji-style followed by U+FE0F weighs 2 (the reference 4);
- emoji sequences newer than Emoji 12.0 (heart on fire, phoenix, handshake with two skin tones...)
  and other ZWJ chains of emoji weigh 2 (the reference adds up their parts).

Like the reference, a CRLF counts as one newline. Public: :func:`weighted_length`,
:func:`fitting_end` (where a text stops fitting), :func:`url_spans`, :func:`hashtags` and
:func:`hashtag_like` (tags that look meant but X would not link).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from functools import cache, lru_cache
from operator import itemgetter
from typing import NamedTuple


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    """Compile on first use: big Unicode ranges cost milliseconds, kept out of import time."""
    return re.compile(pattern)


MAX_WEIGHTED_LENGTH = 280
URL_WEIGHT = 23
EMOJI_WEIGHT = 2
_MAX_URL_LENGTH = 4096
_MAX_TCO_SLUG_LENGTH = 40

_LIGHT = "[\x00-\u10ff\u2000-\u200d\u2010-\u201f\u2032-\u2037]+"  # code points weighing 1

# --- URLs: twitter-text's extractUrlsWithIndices -------------------------------------------------
_SPACES = (
    "\\x09-\\x0d\\x20\\x85\\xa0\\u1680\\u180e\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
)
_INVALID = "\\ufffe\\ufeff\\uffff"
_DIRECTIONAL = "\\u202a-\\u202e\\u061c\\u200e\\u200f\\u2066-\\u2069"
# twitter-text's character classes, matched case-insensitively. Compiling them with IGNORECASE
# costs ~10 ms, so they are written out case-closed: what re.IGNORECASE adds to [a-z] is A-Z and
# four letters (U+0130, U+0131, U+017F, U+212A); to the accented-Latin and Cyrillic ranges a few
# more (the test suite checks that these equal the IGNORECASE originals).
_AZ = "A-Za-z\\u0130\\u0131\\u017f\\u212a"
_ACCENTS = (
    "\\xc0-\\xd6\\xd8-\\xf6\\xf8-\\u024f\\u0253\\u0254\\u0256\\u0257\\u0259\\u025b\\u0260\\u0263"
    "\\u0268\\u0269\\u026f\\u0272\\u0275\\u0280\\u0283\\u0288-\\u028c\\u0292\\u02bb\\u0300-\\u036f"
    "\\u0399\\u03b9\\u1e00-\\u1eff\\u1fbe\\u212a\\u212b\\u2c65\\u2c66\\u2c7e\\u2c7f"
)
_CYRILLIC = "\\u0400-\\u04ff\\u1c80-\\u1c87"  # with the Cyrillic letters IGNORECASE adds
_PATH_CHAR = f"[{_AZ}{_CYRILLIC}{_ACCENTS}0-9!*';:=+,.$/%#\\[\\]\\-\\u2013_~@|&]"
_PATH_END_CHAR = f"[{_AZ}{_CYRILLIC}{_ACCENTS}0-9+\\-=_#/]"
_QUERY_CHAR = f"[{_AZ}0-9!?*'@();:&=+$/%#\\[\\]\\-_.,~|]"
_QUERY_END_CHAR = f"[{_AZ}0-9\\-_&=#/]"
_ASCII_LABEL_CHAR = f"[{_AZ}{_ACCENTS}0-9\\-]"


class _UrlGrammar:
    """twitter-text's URL pattern, with the domain part emulated in Python.

    twitter-text matches ``preceding-char (https?://)? domain (:port)? (/path)? (?query)?`` with
    one regex whose TLD part alone is a 1,574-way alternation (~0.1 s to compile). The domain is
    instead walked label by label here, trying the same choices in the same order as that regex
    (as many subdomains as possible first, then fewer; the longest TLD), so the matches are the
    same; the other parts stay regexes.
    """

    def __init__(self) -> None:
        words = (*_GTLDS.split(), *_CCTLDS.split())
        self.ascii_tlds = frozenset(w for w in words if w.isascii())
        others = "|".join(re.escape(w) for w in words if not w.isascii())
        self.other_tld = re.compile(f"(?:{others})(?=[^0-9a-zA-Z@+\\-]|$)", re.IGNORECASE)
        self.punycode = re.compile(f"(?i:xn--)[{_AZ}0-9\\-]+")
        self.preceding = re.compile(f"[^{_AZ}0-9@＠$#＃{_INVALID}]")
        self.scheme = re.compile("(?i:https?://)")
        punct = "".join(re.escape(c) for c in "!'#%&()*+,\\/:;<=>?@[]^{|}~$")
        # A domain never crosses these: it lies inside one run of the other characters.
        self.token = re.compile(f"[^{punct}{_SPACES}{_INVALID}{_DIRECTIONAL}]+")
        pc = _PATH_CHAR
        parens = f"\\((?:{pc}+|(?:{pc}*\\({pc}+\\){pc}*))\\)"
        # twitter-text splices its path-ending pattern ("char|(parens)") in without a group, so
        # "(parens)" alone is an alternative of the whole path segment; kept as it is.
        path = f"(?:(?:{pc}*(?:{parens}{pc}*)*{_PATH_END_CHAR}|(?:{parens}))|(?:@{pc}+/))"
        query = f"\\?{_QUERY_CHAR}*{_QUERY_END_CHAR}"
        # Groups: 1 port, 2 path, 3 query.
        self.tail = re.compile(f"(?::([0-9]+))?(/{path}*)?({query})?")
        self.tco = re.compile(f"(?i:https?://t\\.co/)([{_AZ}0-9]+)(?:{query})?")
        self.ascii_label = re.compile(f"{_ASCII_LABEL_CHAR}+\\.")
        self.ascii_label_start = re.compile(_ASCII_LABEL_CHAR)

    def tld_end(self, s: str, r: int) -> int | None:
        """End of the TLD at ``s[r:]`` as twitter-text's TLD alternation would match it.

        An ASCII TLD must fill the whole run of letters and digits (the lookahead after it
        forbids more), so one set lookup decides it. A TLD with other letters (みんな, рф, and
        vermögensberatung, which starts in ASCII) goes through a small regex. Where both fit,
        one extends the other and twitter-text lists the longer first, so the longer wins.
        """
        if not s[r : r + 1].isalpha():
            return None  # every TLD starts with a letter (punycode with "xn--")
        run = _ASCII_RUN.match(s, r)
        end = r
        if run is not None:
            after = s[run.end() : run.end() + 1]
            if after not in _NOT_AFTER_TLD and run.group().translate(_FOLD).lower() in (
                self.ascii_tlds
            ):
                end = run.end()
            if after.isascii():
                return end if end > r else self._punycode_end(s, r)
        other = self.other_tld.match(s, r)
        if other is not None and other.end() > end:
            end = other.end()
        if end > r:
            return end
        return self._punycode_end(s, r) if run is not None else None

    def _punycode_end(self, s: str, r: int) -> int | None:
        punycode = self.punycode.match(s, r)
        return punycode.end() if punycode else None

    def ascii_domains(
        self, domain: str, tld_end: Callable[[str, int], int | None] | None = None
    ) -> Iterator[tuple[int, int]]:
        """twitter-text's ``validAsciiDomain`` matches inside ``domain`` (``tld_end``: this
        grammar's, or one that gives the same answers, remembered)."""
        tld_end = tld_end or self.tld_end
        p = 0
        while True:
            start = self.ascii_label_start.search(domain, p)
            if start is None:
                return
            p = start.start()
            label_ends = []
            q = p
            while (label := self.ascii_label.match(domain, q)) is not None:
                q = label.end()
                label_ends.append(q)
            for e in reversed(label_ends):
                end = tld_end(domain, e)
                if end is not None:
                    yield p, end
                    p = end
                    break
            else:
                p += 1


_ASCII_RUN = re.compile("[0-9A-Za-z\u0130\u0131\u017f\u212a]+")
# Characters a case-insensitive regex takes for ASCII letters (dotted/dotless i, long s, Kelvin).
_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})
_NOT_AFTER_TLD = frozenset("@+-")


@cache
def _grammar() -> _UrlGrammar:
    return _UrlGrammar()


def _is_valid_url(url: str, scheme: str, domain: str) -> bool:
    """twitter-text's check: the domain converts to IDNA and the URL stays within 4,096."""
    ascii_length = _idna_length(domain)
    return ascii_length is not None and (
        len(scheme) + len(url) + ascii_length - len(domain) <= _MAX_URL_LENGTH
    )


_IDNA_DOTS = re.compile("[.\u3002\uff0e\uff61]")


def _idna_length(domain: str) -> int | None:
    """Length of ``domain.encode("idna")`` (Python's IDNA 2003 codec), None where it fails."""
    if domain.isascii():
        labels = domain.split(".")
        # Every label 1 to 63 characters long, but for the last, which may be empty.
        if max(map(len, labels)) < 64 and "" not in labels[:-1]:
            return len(domain)
        return None
    labels = _IDNA_DOTS.split(domain)
    trailing_dot = 0
    if labels and not labels[-1]:
        trailing_dot = 1
        del labels[-1]
    total = len(labels) - 1 + trailing_dot
    for label in labels:
        length = _label_to_ascii_length(label)
        if length is None:
            return None
        total += length
    return total


# Characters whose IDNA nameprep is Unicode 3.2 NFKC plus lower-casing, never an error: ASCII
# letters and digits, kana, CJK ideographs and punctuation, full- and half-width forms.
_NAMEPREP_SIMPLE = (
    "[0-9A-Za-z\\-\u3001\u3005-\u3011\u301c\u3041-\u3096\u309d\u309e\u30a1-\u30fe"
    "\u4e00-\u9fa5\uff01-\uff5e\uff61-\uff9d]*"
)


# Nameprep deletes only these (RFC 3454 table B.1); every other character leaves at least one
# behind. NFKC composes at most four code points into one (the longest canonical decomposition)
# and Punycode writes at least one character per code point, so a label with more than 4 * 63
# other characters has no ToASCII form of 63 or fewer.
_MAPPED_TO_NOTHING = "[\u00ad\u034f\u1806\u180b-\u180d\u200b-\u200d\u2060\ufe00-\ufe0f\ufeff]"
_MAX_NAMEPREP_INPUT = 4 * 63


@lru_cache(maxsize=1024)
def _label_to_ascii_length(label: str) -> int | None:
    """Length of one label after IDNA ToASCII, None where it fails (the codec's rules)."""
    if label.isascii():
        return len(label) if 0 < len(label) < 64 else None
    if len(_compiled(_MAPPED_TO_NOTHING).sub("", label)) > _MAX_NAMEPREP_INPUT:
        return None  # too long for any ToASCII result to fit in 63 (nameprep takes ~3 µs a char)
    if not _compiled(_NAMEPREP_SIMPLE).fullmatch(label):
        from encodings import idna  # noqa: PLC0415 - the slow general case, rarely needed

        try:
            return len(idna.ToASCII(label))
        except UnicodeError:
            return None
    mapped = unicodedata.ucd_3_2_0.normalize("NFKC", label).lower()
    if mapped.isascii():
        return len(mapped) if 0 < len(mapped) < 64 else None
    if mapped.startswith("xn--"):
        return None
    length = 4 + _punycode_length(mapped)
    return length if length < 64 else None


def _punycode_length(text: str) -> int:
    """Length of RFC 3492 Punycode of ``text`` (the encoder, counting instead of writing)."""
    code_points = [ord(c) for c in text]
    smaller = [c < 0x80 for c in code_points]  # code points already handled
    basic = sum(smaller)
    out = basic + 1 if basic else 0
    where: dict[int, list[int]] = {}
    for j, c in enumerate(code_points):
        if c >= 0x80:
            where.setdefault(c, []).append(j)
    n, delta, bias, handled = 0x80, 0, 72, basic
    first = True
    for value in sorted(where):
        delta += (value - n) * (handled + 1)
        previous = 0
        for j in where[value]:
            delta += sum(smaller[previous:j])
            q, k = delta, 36
            while True:
                t = 1 if k <= bias else 26 if k >= bias + 26 else k - bias
                out += 1
                if q < t:
                    break
                q = (q - t) // (36 - t)
                k += 36
            d = delta // 700 if first else delta // 2
            first = False
            handled += 1
            d += d // handled
            k = 0
            while d > 455:
                d //= 35
                k += 36
            bias = k + 36 * d // (d + 38)
            delta = 0
            previous = j + 1
        delta += sum(smaller[previous:]) + 1
        for j in where[value]:
            smaller[j] = True
        n = value + 1
    return out


def _positions(text: str, ch: str) -> list[int]:
    found = []
    i = text.find(ch)
    while i >= 0:
        found.append(i)
        i = text.find(ch, i + 1)
    return found


class _Tokens:
    """The runs a domain can lie in, and the domains that start in them (memoised).

    A domain is ``subdomain* domain-name TLD``: twitter-text's regex takes as many ``label.``
    subdomains as it can, then gives them back one by one until a domain name and a TLD follow.
    So the domain starting at a label ends after the last label of its run of valid labels that
    is a valid domain name with a TLD after its dot - the same answer for every start within a
    run, which is why it is remembered per label: trying every position of a long token then
    costs linear time, not quadratic.
    """

    def __init__(self, text: str, g: _UrlGrammar) -> None:
        self.text = text
        self.grammar = g
        self.spans = [m.span() for m in g.token.finditer(text)]
        self.starts = [a for a, _ in self.spans]
        self.dots = _positions(text, ".")
        self.underscores = _positions(text, "_")
        self._ends: dict[int, int | None] = {}
        self._tld_ends: dict[int, int | None] = {}
        self._rest_ends: dict[str, int | None] = {}

    def tld_end(self, r: int, token_end: int) -> int | None:
        """``grammar.tld_end(text, r)`` for ``r`` in the token that ends at ``token_end``,
        remembered by place (the same dots are asked about twice) and by the rest of the token.

        What it reads from ``r`` (a run of ASCII letters and digits and the character after it,
        punycode, a TLD in other letters and the character after that) lies in the token or is
        the character right after it: ``text[r : token_end + 1]`` decides, and a draft ends its
        domains with the same few TLDs.
        """
        if r in self._tld_ends:
            return self._tld_ends[r]
        if token_end - r <= _MAX_CONTEXT:
            end = self.rest_tld_end(self.text[r : token_end + 1], 0)
            end = None if end is None else r + end
        else:
            end = self.grammar.tld_end(self.text, r)
        self._tld_ends[r] = end
        return end

    def rest_tld_end(self, s: str, r: int) -> int | None:
        """``grammar.tld_end(s, r)``, remembered by ``s[r:]`` (it reads nothing before ``r``)."""
        rest = s[r:]
        if len(rest) > _MAX_CONTEXT:
            return self.grammar.tld_end(s, r)
        if rest in self._rest_ends:
            found = self._rest_ends[rest]
        else:
            found = self._rest_ends[rest] = self.grammar.tld_end(rest, 0)
        return None if found is None else r + found

    def index_of(self, q: int) -> int | None:
        i = bisect_right(self.starts, q) - 1
        return i if i >= 0 and q < self.spans[i][1] else None

    def domain_end(self, q: int) -> int | None:
        """End of the domain (subdomains, domain name, TLD) starting at ``q``, or None."""
        token = self.index_of(q)
        if token is None:
            return None
        token_end = self.spans[token][1]
        text, dots = self.text, self.dots
        chain: list[tuple[int, int]] = []  # labels (start, dot) not yet known, left to right
        a = q
        while a not in self._ends:
            i = bisect_left(dots, a)
            dot = dots[i] if i < len(dots) and dots[i] < token_end else -1
            if dot <= a or text[a] in "-_" or text[dot - 1] in "-_":
                self._ends[a] = None  # no valid label here: no domain starts here
                break
            chain.append((a, dot))
            a = dot + 1
        later = self._ends[a]
        for a, dot in reversed(chain):
            if later is None and not self._has_underscore(a, dot):
                later = self.tld_end(dot + 1, token_end)
            self._ends[a] = later
        return self._ends[q]

    def _has_underscore(self, a: int, b: int) -> bool:
        i = bisect_left(self.underscores, a)
        return i < len(self.underscores) and self.underscores[i] < b


class _Match(NamedTuple):
    """One match of twitter-text's URL regex."""

    before: str
    start: int
    scheme: str | None
    domain_end: int
    end: int
    has_path: bool


def _match_at(text: str, s: int, g: _UrlGrammar, tokens: _Tokens) -> _Match | None:
    """twitter-text's URL regex anchored at ``s`` (its first alternative first, as regexes do)."""
    attempts = []
    if s < len(text) and g.preceding.match(text, s):
        attempts.append((text[s], s + 1))
    if s == 0:
        attempts.append(("", 0))
    for before, u in attempts:
        scheme = g.scheme.match(text, u)
        options: list[tuple[str | None, int]] = [(scheme.group(), scheme.end())] if scheme else []
        options.append((None, u))
        for scheme_text, q in options:
            domain_end = tokens.domain_end(q)
            if domain_end is not None:
                tail = g.tail.match(text, domain_end)
                assert tail is not None  # every part of the tail is optional
                return _Match(before, u, scheme_text, domain_end, tail.end(), bool(tail.group(2)))
    return None


_DOT_BEFORE_LETTER = re.compile(r"\.(?=[^\W\d_])")


def _candidate_starts(
    text: str, g: _UrlGrammar, tokens: _Tokens
) -> list[tuple[int, int, int | None]]:
    """Ranges of positions where a URL can begin, in order, with the token a range lies before
    and in (None for the position before a scheme).

    Every URL holds a dot followed by a TLD, inside one token; only those tokens (and the scheme
    right before them) need trying. Japanese text without spaces is one long token, so this
    keeps the search from starting at every character.
    """
    last_dots: dict[int, int] = {}  # token index -> its last dot followed by a TLD
    # Every TLD starts with a letter: only the dots before one are asked about, right to left.
    dots = [m.start() for m in _DOT_BEFORE_LETTER.finditer(text)]
    # Whether a TLD follows a dot depends on the rest of its token and the character after it
    # (see _Tokens.tld_end): the same few pieces recur in a draft that repeats its links.
    tlds: dict[str, bool] = {}
    k = len(dots) - 1
    while k >= 0:
        i = dots[k]
        token = tokens.index_of(i)
        if token is None:
            k -= 1
            continue
        token_end = tokens.spans[token][1]
        if token_end - i <= _MAX_CONTEXT:
            rest = text[i + 1 : token_end + 1]
            has_tld = tlds.get(rest)
            if has_tld is None:
                has_tld = tlds[rest] = tokens.tld_end(i + 1, token_end) is not None
        else:
            has_tld = tokens.tld_end(i + 1, token_end) is not None
        if has_tld:
            last_dots[token] = i
            k = bisect_left(dots, tokens.spans[token][0]) - 1  # the rest of the token
        else:
            k -= 1
    ranges: list[tuple[int, int, int | None]] = []
    for token, last_dot in last_dots.items():
        a = tokens.spans[token][0]
        if a >= 7 and text.startswith("://", a - 3):
            for scheme_len in (8, 7):  # "https://", "http://"
                p = a - scheme_len
                if p >= 0 and g.scheme.fullmatch(text, p, a):
                    ranges.append((max(p - 1, 0), max(p - 1, 0) + 1, None))
        ranges.append((max(a - 1, 0), last_dot, token))
    ranges.sort(key=itemgetter(0, 1))
    return ranges


@lru_cache(maxsize=8)
def _url_entities(text: str) -> tuple[tuple[int, int, int], ...]:
    """X's URL entities as ``(start, end, skip)``; ``skip`` is what the counter jumps over.

    ``skip`` equals ``end - start`` except for a bare domain with a path whose domain part holds
    non-ASCII text: twitter-text then counts by the length of the rewritten URL string.
    """
    if "." not in text:
        return ()
    g = _grammar()
    tokens = _Tokens(text, g)
    found: list[tuple[int, int, int]] = []
    # A draft repeats the same few links: the matches of a token's range depend only on the
    # text from the character before the token to the end of what a URL's tail could take after
    # it (the first character after the token decides the TLD), so they are worked out once per
    # such context and shifted to each place it recurs. Where the last link ran into the range
    # (a.jp/死a.jp/…), the search starts later in it: that offset is part of the context.
    # Matches are kept from a context's second time on: a draft of thousands of different links
    # does not pay for keeping each.
    known: dict[tuple[int, str], tuple[tuple[tuple[int, int, int], ...], int | None]] = {}
    seen: set[tuple[int, str]] = set()
    pos = 0
    for lo, hi, token in _candidate_starts(text, g, tokens):
        context = None
        if lo > 0 and token is not None:
            after = tokens.spans[token][1]
            if text[after : after + 1] in _TAIL_STARTS:
                # Read no further than decides whether the context is short enough: a run of
                # tail characters to the end of a long draft would be read at every token.
                tail = _TAIL_RUN.match(text, after, max(after, lo + _MAX_CONTEXT + 1))
                assert tail is not None  # it matches the empty string
                reach = tail.end()
            else:
                reach = after  # no port, path or query: only the character after is read
            if reach - lo <= _MAX_CONTEXT:
                context = (max(pos - lo, 0), text[lo : max(reach, after + 1)])
                memo = known.get(context)
                if memo is not None:
                    entities, last_end = memo
                    found.extend([(lo + a, lo + b, skip) for a, b, skip in entities])
                    if last_end is not None:
                        pos = lo + last_end
                    continue
        first = len(found)
        last = None
        s = max(lo, pos)
        while s < hi:
            m = _match_at(text, s, g, tokens)
            if m is None:
                s += 1
                continue
            pos = s = last = m.end
            found.extend(_accept_url(text, m, g, tokens))
        if context is not None and context not in seen:
            seen.add(context)
        elif context is not None and (last is None or last <= reach):
            known[context] = (
                tuple([(a - lo, b - lo, skip) for a, b, skip in found[first:]]),
                None if last is None else last - lo,
            )
    return tuple(found)


# A domain (as _Tokens.domain_end finds one) whose ASCII domains are itself: made only of what
# an ASCII label holds, it is one run of labels for ascii_domains, which asks first for the TLD
# after the last dot - the one domain_end found, ending the domain there as it ends the string.
_PLAIN_DOMAIN = re.compile("[A-Za-z0-9.\\-]+")

# What a URL's port, path and query can hold (the tail pattern's characters): a match that
# starts in a token never reads past the run of these that follows the token.
_TAIL_RUN = re.compile(f"[{_AZ}{_CYRILLIC}{_ACCENTS}0-9!*';:=+,.$/%#\\[\\]\\-\u2013_~@|&?()]*")
_MAX_CONTEXT = 80
# How a port, a path and a query start (a scheme's "://" too): after anything else, a match
# that starts in a token reads nothing past the character that ends the token.
_TAIL_STARTS = frozenset(":/?")


def _accept_url(
    text: str, m: _Match, g: _UrlGrammar, tokens: _Tokens
) -> list[tuple[int, int, int]]:
    before, start, scheme, domain_end, end, has_path = m
    url = text[start:end]
    domain = text[start + len(scheme or "") : domain_end]
    if not _is_valid_url(url, scheme or "https://", domain):
        return []
    if scheme is None:
        if before in {"-", "_", ".", "/"}:
            return []
        if _PLAIN_DOMAIN.fullmatch(domain):
            # ASCII labels of letters, digits and hyphens, as validAsciiDomain takes them, and
            # the TLD the domain ends with, the last one it tries: the whole domain, at once.
            found = [(start, domain_end, domain_end - start)]
        else:
            found = [
                (start + a, start + b, b - a)
                for a, b in g.ascii_domains(domain, tokens.rest_tld_end)
            ]
        if found and has_path:
            # The last domain takes the path; twitter-text counts it by the rewritten string.
            a, b, _ = found[-1]
            found[-1] = (a, end, len(url.replace(domain, text[a:b])))
        return found
    tco = g.tco.match(url)
    if tco:
        if len(tco.group(1)) > _MAX_TCO_SLUG_LENGTH:
            return []
        end = start + tco.end()
    return [(start, end, end - start)]


def url_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the URLs X autolinks in ``text`` (with a scheme, or bare domains with a TLD)."""
    return [(s, e) for s, e, _ in _url_entities(text)]


# --- Emoji: twemoji-parser's sequences -----------------------------------------------------------
# Code points that start an emoji: every single-code-point emoji of Emoji 12.0 (as the reference
# lists them) plus the blocks where later versions add emoji; (c) and (R) need U+FE0F.
_EMOJI_BASE = (
    "\u203c\u2049\u2122\u2139\u2194-\u2199\u21a9\u21aa\u231a\u231b\u2328\u23cf\u23e9-\u23f3"
    "\u23f8-\u23fa\u24c2\u25aa\u25ab\u25b6\u25c0\u25fb-\u25fe\u2600-\u2604\u260e\u2611\u2614"
    "\u2615\u2618\u261d\u2620\u2622\u2623\u2626\u262a\u262e\u262f\u2638-\u263a\u2640\u2642"
    "\u2648-\u2653\u265f\u2660\u2663\u2665\u2666\u2668\u267b\u267e\u267f\u2692-\u2697\u2699"
    "\u269b\u269c\u26a0\u26a1\u26a7\u26aa\u26ab\u26b0\u26b1\u26bd\u26be\u26c4\u26c5\u26c8\u26ce"
    "\u26cf\u26d1\u26d3\u26d4\u26e9\u26ea\u26f0-\u26f5\u26f7-\u26fa\u26fd\u2702\u2705"
    "\u2708-\u270d\u270f\u2712\u2714\u2716\u271d\u2721\u2728\u2733\u2734\u2744\u2747\u274c"
    "\u274e\u2753-\u2755\u2757\u2763\u2764\u2795-\u2797\u27a1\u27b0\u27bf\u2934\u2935"
    "\u2b05-\u2b07\u2b1b\u2b1c\u2b50\u2b55\u3030\u303d\u3297\u3299\U0001f004\U0001f0cf"
    "\U0001f170\U0001f171\U0001f17e\U0001f17f\U0001f18e\U0001f191-\U0001f19a\U0001f201"
    "\U0001f202\U0001f21a\U0001f22f\U0001f232-\U0001f23a\U0001f250\U0001f251"
    "\U0001f300-\U0001f3fa\U0001f400-\U0001f64f\U0001f680-\U0001f6ff\U0001f7e0-\U0001f7ff"
    "\U0001f900-\U0001f9af\U0001f9b4-\U0001f9ff\U0001fa70-\U0001faff"
)
# Emoji that take a skin tone (Emoji_Modifier_Base), Emoji 12.0 plus later additions.
_EMOJI_MODIFIER_BASE = (
    "\u261d\u26f9\u270a-\u270d\U0001f385\U0001f3c2-\U0001f3c4\U0001f3c7\U0001f3ca-\U0001f3cc"
    "\U0001f442\U0001f443\U0001f446-\U0001f450\U0001f466-\U0001f469\U0001f46b-\U0001f46e"
    "\U0001f470-\U0001f478\U0001f47c\U0001f481-\U0001f483\U0001f485-\U0001f487\U0001f4aa"
    "\U0001f574\U0001f575\U0001f57a\U0001f590\U0001f595\U0001f596\U0001f645-\U0001f647"
    "\U0001f64b-\U0001f64f\U0001f6a3\U0001f6b4-\U0001f6b6\U0001f6c0\U0001f6cc\U0001f90c"
    "\U0001f90f\U0001f918-\U0001f91f\U0001f926\U0001f930-\U0001f939\U0001f93d\U0001f93e"
    "\U0001f977\U0001f9b5\U0001f9b6\U0001f9b8\U0001f9b9\U0001f9bb\U0001f9cd-\U0001f9cf"
    "\U0001f9d1-\U0001f9dd\U0001fac3-\U0001fac5\U0001faf0-\U0001faf8"
)
# Regional-indicator pairs that are flags (Emoji 12.0).
_FLAGS = (
    "AC AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ"
    " BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CP CR CU CV CW CX CY CZ DE DG DJ"
    " DK DM DO DZ EA EC EE EG EH ER ES ET EU FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN"
    " GP GQ GR GS GT GU GW GY HK HM HN HR HT HU IC ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE"
    " KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML"
    " MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF"
    " PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN"
    " SO SR SS ST SV SX SY SZ TA TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM UN US"
    " UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW"
)


class _EmojiRegexes:
    """Emoji sequences, each found where a character that can start one is."""

    def __init__(self) -> None:
        def ri(letter: str) -> str:
            return chr(0x1F1E6 + ord(letter) - ord("A"))

        seconds: dict[str, list[str]] = {}
        for pair in _FLAGS.split():
            seconds.setdefault(pair[0], []).append(ri(pair[1]))
        flag = "|".join(f"{ri(first)}[{''.join(rest)}]" for first, rest in seconds.items())
        skin = "\U0001f3fb-\U0001f3ff"
        element = f"(?:[{_EMOJI_MODIFIER_BASE}][{skin}]|[{_EMOJI_BASE}]\ufe0f?|[\xa9\xae]\ufe0f)"
        hair = "[\U0001f9b0-\U0001f9b3]"
        sequence = (
            f"{flag}"
            "|[#*0-9]\ufe0f?\u20e3"
            "|\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f"
            f"|{element}(?:\u200d(?:{element}|{hair}))*"
        )
        first = f"\U0001f1e6-\U0001f1ff{_EMOJI_BASE}\xa9\xae"
        # A sequence tried only where one can start (one pass of the regex engine, no Python per
        # character that starts none); with keycaps (compiled when a text has one) digits too.
        self.found = re.compile(f"(?=[{first}])(?:{sequence})")
        self.found_or_keycap = f"(?=[{first}#*0-9])(?:{sequence})"
        # A class alone is skipped through in C: a text without any of these holds no emoji.
        self.start = re.compile(f"[{first}]")


@cache
def _emoji_regexes() -> _EmojiRegexes:
    return _EmojiRegexes()


@lru_cache(maxsize=8)  # the length rule counts a draft, then finds where it overflows
def _emoji_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Spans of emoji sequences (searched from the characters that can start one)."""
    if text.isascii():
        return ()
    rx = _emoji_regexes()
    if "\u20e3" in text:
        found = _compiled(rx.found_or_keycap)
    elif rx.start.search(text) is None:
        return ()
    else:
        found = rx.found
    return tuple(m.span() for m in found.finditer(text))


# --- Counting ------------------------------------------------------------------------------------
def _units(s: str) -> int:
    """Weight of plain text: 1 per code point in X's light ranges, 2 otherwise."""
    if s.isascii():
        return len(s)
    return len(s) + len(_compiled(_LIGHT).sub("", s))


def _nfc(text: str) -> str:
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def _entities(text: str) -> Iterator[tuple[int, int, int]]:
    """URLs and emoji as X's counter walks over them: ``(start, skip, weight)``.

    The counter visits each position once; an entity that starts inside one already taken is
    never seen, and a URL wins over an emoji starting at the same place.
    """
    urls = _url_entities(text)
    emoji = _emoji_spans(text)
    if not urls:  # emoji spans never overlap
        for start, end in emoji:
            yield start, end - start, EMOJI_WEIGHT
        return
    events = sorted(
        [(s, 0, skip, URL_WEIGHT) for s, _, skip in urls]
        + [(s, 1, e - s, EMOJI_WEIGHT) for s, e in emoji]
    )
    free = 0
    for start, _, skip, weight in events:
        if start >= free:
            yield start, skip, weight
            free = start + skip


def weighted_length(text: str) -> int:
    """X's weighted length of ``text`` (280 is the limit)."""
    t = _nfc(text)
    total = _units(t) - t.count("\r\n")  # twitter-text counts a CRLF as one newline
    if t.isascii() and "." not in t:
        return total
    entities = list(_entities(t))
    # What the entities count for instead of their characters' weight (one join, one count).
    total += sum(weight for _, _, weight in entities)
    return total - _units("".join([t[start : start + skip] for start, skip, _ in entities]))


def fitting_end(text: str, limit: int = MAX_WEIGHTED_LENGTH) -> int:
    """Index in ``text`` of the first character beyond ``limit`` (``len(text)`` if it all fits)."""
    t = _nfc(text)
    total = 0
    pos = 0
    cut = len(t)
    for start, skip, weight in [*_entities(t), (len(t), 0, 0)]:
        for i in range(pos, start):
            if t[i] == "\n" and i > 0 and t[i - 1] == "\r":
                continue
            total += _units(t[i])
            if total > limit:
                cut = i
                break
        else:
            total += weight
            if total > limit:
                cut = start
            else:
                pos = start + skip
                continue
        break
    if cut >= len(t):
        return len(text)
    return _original_index(text, t, cut)


def _original_index(text: str, normalized: str, index: int) -> int:
    """Map an index of the NFC form back to ``text`` (segment by segment)."""
    if normalized is text or normalized == text:
        return index
    done = 0
    i = 0
    while i < len(text):
        j = i + 1
        while j < len(text) and unicodedata.combining(text[j]):
            j += 1
        done += len(unicodedata.normalize("NFC", text[i:j]))
        if done > index:
            return i
        i = j
    return min(index, len(text))


# --- Hashtags: twitter-text's extractHashtagsWithIndices -----------------------------------------
# Characters twitter-text allows inside a hashtag besides letters, marks and digits.
_HASHTAG_SPECIAL = (
    "_\u200c\u200d\ua67e\u05be\u05f3\u05f4\uff5e\u301c\u309b\u309c\u30a0\u30fb\u3003\u0f0b"
    "\u0f0c\u00b7"
)
_END_OF_HASHTAG = re.compile("[#＃]|://")


def _class(ranges: str) -> str:
    out = []
    for item in ranges.split():
        lo, _, hi = item.partition("-")
        out.append(re.escape(chr(int(lo, 16))))
        if hi:
            out.append("-" + re.escape(chr(int(hi, 16))))
    return "".join(out)


def _either(ranges: str, extra: str = "") -> str:
    """A regex for one character of ``ranges`` (or of the class body ``extra``).

    ``re`` tests a character outside the Basic Multilingual Plane's bitmap against every range
    beyond it in turn, and does so for each character the class rejects: hundreds of
    comparisons per character for these lists. The ranges past U+FFFF go in a second class,
    tried only for a character that is there.
    """
    items = ranges.split()
    bmp = [i for i in items if int(i.partition("-")[0], 16) <= 0xFFFF]
    astral = [i for i in items if int(i.partition("-")[0], 16) > 0xFFFF]
    assert all(int(i.rpartition("-")[2], 16) <= 0xFFFF for i in bmp)  # no range crosses it
    return f"[{_class(' '.join(bmp))}{extra}]|{_ASTRAL}[{_class(' '.join(astral))}]"


_ASTRAL = "(?=[\U00010000-\U0010ffff])"


class _HashtagRegexes:
    """Letters, marks and decimal digits as twitter-text defines a hashtag's characters."""

    def __init__(self) -> None:
        # \w also holds No and Nl: twitter-text does not
        not_letters = _either(_NUMBER_LETTERS)
        self.alnum = f"(?:(?!{not_letters})\\w|{_either(_MARKS, _HASHTAG_SPECIAL)})"
        alpha = f"(?:(?![\\d_]|{not_letters})\\w|{_either(_MARKS)})"
        body = f"{self.alnum}*{alpha}{self.alnum}*"
        boundary = f"(?:^|[\ufe0e\ufe0f]|(?!{self.alnum}|&).)"
        self.hashtag = re.compile(f"({boundary})([#＃])(?![\ufe0f\u20e3])({body})", re.DOTALL)
        self.loose = re.compile(f"([#＃♯])(?![\ufe0f\u20e3])({body})")
        self.alnum_char = re.compile(f"{self.alnum}|&")
        self.sign = re.compile("[#＃]")
        self.any_sign = re.compile("[#＃♯]")


@cache
def _hashtag_regexes() -> _HashtagRegexes:
    return _HashtagRegexes()


def hashtags(text: str) -> list[tuple[str, int, int]]:
    """Hashtags X recognises: ``(tag without the sign, start of the sign, end)``.

    ``#みどり市`` and ``＃みどり市`` are hashtags; ``市#みどり`` (no boundary before the sign),
    ``#2024`` (no letter) and a ``#`` inside a URL are not.
    """
    if "#" not in text and "＃" not in text:
        return []
    rx = _hashtag_regexes()
    tags: list[tuple[str, int, int]] = []
    pos = 0
    # twitter-text scans with one regex whose match starts at the boundary character before the
    # sign; trying it only just before each sign finds the same matches. No tag holds a sign, so
    # the text from that character to the next sign decides the match: each such piece of a
    # draft that repeats its tags is matched once.
    known: dict[str, tuple[str, int] | None] = {}
    signs = [m.start() for m in rx.sign.finditer(text)]
    signs.append(len(text))
    for i, following in itertools.pairwise(signs):
        s = i - 1 if i > 0 else 0
        if s < pos:
            continue
        if i == 0 or following - s > _MAX_KNOWN_TAG:
            m = rx.hashtag.match(text, s)
            tag = None if m is None or m.start(2) != i else (m.group(3), m.end() - s)
        else:
            piece = text[s:following]
            try:
                tag = known[piece]
            except KeyError:
                m = rx.hashtag.match(piece)
                tag = known[piece] = None if m is None or m.start(2) != 1 else (m.group(3), m.end())
        if tag is None:
            continue
        end = s + tag[1]
        pos = end
        if _END_OF_HASHTAG.match(text, end):
            continue
        tags.append((tag[0], i, end))
    if tags:
        tags = _without_url_overlaps(tags, url_spans(text))
    return tags


def _without_url_overlaps(
    tags: list[tuple[str, int, int]], urls: list[tuple[int, int]]
) -> list[tuple[str, int, int]]:
    if not urls:
        return tags
    entities = sorted(
        [(s, e, i) for i, (_, s, e) in enumerate(tags)] + [(s, e, -1) for s, e in urls]
    )
    keep: list[tuple[str, int, int]] = []
    prev_end = -1
    for start, end, index in entities:
        if prev_end > start:
            continue
        prev_end = end
        if index >= 0:
            keep.append(tags[index])
    return keep


def hashtag_like(text: str) -> list[tuple[str, str, int, int]]:
    """Every ``#``, ``＃`` or ``♯`` followed by hashtag characters, whether X links it or not.

    Returns ``(sign, tag, start, end)``; compare with :func:`hashtags` to find tags that look
    meant but will not work (glued to the text before them, or written with the music sharp).
    """
    if not any(sign in text for sign in "#＃♯"):
        return []
    rx = _hashtag_regexes()
    found: list[tuple[str, str, int, int]] = []
    # No tag holds a sign, so what follows a sign up to the next one decides its tag; a draft
    # repeats the same tags, so each such piece is matched once (what `loose.finditer` finds).
    known: dict[str, tuple[str, str, int] | None] = {}
    signs = [m.start() for m in rx.any_sign.finditer(text)]
    signs.append(len(text))
    for i, following in itertools.pairwise(signs):
        if following - i > _MAX_KNOWN_TAG:
            m = rx.loose.match(text, i)
            if m is not None:
                found.append((m.group(1), m.group(2), i, m.end()))
            continue
        piece = text[i:following]
        try:
            tag = known[piece]
        except KeyError:
            m = rx.loose.match(piece)
            tag = known[piece] = None if m is None else (m.group(1), m.group(2), m.end())
        if tag is not None:
            found.append((tag[0], tag[1], i, i + tag[2]))
    return found


_MAX_KNOWN_TAG = 64


def is_hashtag_char(ch: str) -> bool:
    """Whether ``ch`` continues a hashtag (so a ``#`` right after it starts none)."""
    return _hashtag_regexes().alnum_char.fullmatch(ch) is not None


# --- Data ----------------------------------------------------------------------------------------
# Generic and country-code TLDs of twitter-text (as in twitter-text-parser 3.0.0).
_GTLDS = (
    "삼성 닷컴 닷넷 香格里拉 餐厅 食品 飞利浦 電訊盈科 集团 通販 购物 谷歌 诺基亚 联通 "
    "网络 网站 网店 网址 组织机构 移动 珠宝 点看 游戏 淡马锡 机构 書籍 时尚 新闻 政府 政务 "
    "招聘 手表 手机 我爱你 慈善 微博 广东 工行 家電 娱乐 天主教 大拿 大众汽车 在线 "
    "嘉里大酒店 嘉里 商标 商店 商城 公益 公司 八卦 健康 信息 佛山 企业 中文网 中信 世界 "
    "ポイント ファッション セール ストア コム グーグル クラウド みんな คอม संगठन नेट कॉम "
    "همراه موقع موبايلي كوم كاثوليك عرب شبكة بيتك بازار العليان ارامكو اتصالات ابوظبي קום "
    "сайт рус орг онлайн москва ком католик дети zuerich zone zippo zip zero zara zappos "
    "yun youtube you yokohama yoga yodobashi yandex yamaxun yahoo yachts xyz xxx xperia "
    "xin xihuan xfinity xerox xbox wtf wtc wow world works work woodside wolterskluwer wme "
    "winners wine windows win williamhill wiki wien whoswho weir weibo wedding wed website "
    "weber webcam weatherchannel weather watches watch warman wanggou wang walter walmart "
    "wales vuelos voyage voto voting vote volvo volkswagen vodka vlaanderen vivo viva "
    "vistaprint vista vision visa virgin vip vin villas viking vig video viajes vet "
    "versicherung vermögensberatung vermögensberater verisign ventures vegas vanguard vana "
    "vacations ups uol uno university unicom uconnect ubs ubank tvs tushu tunes tui tube "
    "trv trust travelersinsurance travelers travelchannel travel training trading trade "
    "toys toyota town tours total toshiba toray top tools tokyo today tmall tkmaxx tjx "
    "tjmaxx tirol tires tips tiffany tienda tickets tiaa theatre theater thd teva tennis "
    "temasek telefonica telecity tel technology tech team tdk tci taxi tax tattoo tatar "
    "tatamotors target taobao talk taipei tab systems symantec sydney swiss swiftcover "
    "swatch suzuki surgery surf support supply supplies sucks style study studio stream "
    "store storage stockholm stcgroup stc statoil statefarm statebank starhub star staples "
    "stada srt srl spreadbetting spot sport spiegel space soy sony song solutions solar "
    "sohu software softbank social soccer sncf smile smart sling skype sky skin ski site "
    "singles sina silk shriram showtime show shouji shopping shop shoes shiksha shia shell "
    "shaw sharp shangrila sfr sexy sex sew seven ses services sener select seek security "
    "secure seat search scot scor scjohnson science schwarz schule school scholarships "
    "schmidt schaeffler scb sca sbs sbi saxo save sas sarl sapo sap sanofi sandvikcoromant "
    "sandvik samsung samsclub salon sale sakura safety safe saarland ryukyu rwe run ruhr "
    "rugby rsvp room rogers rodeo rocks rocher rmit rip rio ril rightathome ricoh "
    "richardli rich rexroth reviews review restaurant rest republican report repair "
    "rentals rent ren reliance reit reisen reise rehab redumbrella redstone red recipes "
    "realty realtor realestate read raid radio racing qvc quest quebec qpon pwc pub "
    "prudential pru protection property properties promo progressive prof productions prod "
    "pro prime press praxi pramerica post porn politie poker pohl pnc plus plumbing "
    "playstation play place pizza pioneer pink ping pin pid pictures pictet pics piaget "
    "physio photos photography photo phone philips phd pharmacy pfizer pet pccw pay "
    "passagens party parts partners pars paris panerai panasonic pamperedchef page ovh ott "
    "otsuka osaka origins orientexpress organic org orange oracle open ooo onyourside "
    "online onl ong one omega ollo oldnavy olayangroup olayan okinawa office off observer "
    "obi nyc ntt nrw nra nowtv nowruz now norton northwesternmutual nokia nissay nissan "
    "ninja nikon nike nico nhk ngo nfl nexus nextdirect next news newholland new neustar "
    "network netflix netbank net nec nba navy natura nationwide name nagoya nadex nab "
    "mutuelle mutual museum mtr mtpc mtn msd movistar movie mov motorcycles moto moscow "
    "mortgage mormon mopar montblanc monster money monash mom moi moe moda mobily mobile "
    "mobi mma mls mlb mitsubishi mit mint mini mil microsoft miami metlife merckmsd meo "
    "menu men memorial meme melbourne meet media med mckinsey mcdonalds mcd mba mattel "
    "maserati marshalls marriott markets marketing market map mango management man makeup "
    "maison maif madrid macys luxury luxe lupin lundbeck ltda ltd lplfinancial lpl love "
    "lotto lotte london lol loft locus locker loans loan llp llc lixil living live lipsy "
    "link linde lincoln limo limited lilly like lighting lifestyle lifeinsurance life lidl "
    "liaison lgbt lexus lego legal lefrak leclerc lease lds lawyer law latrobe latino lat "
    "lasalle lanxess landrover land lancome lancia lancaster lamer lamborghini ladbrokes "
    "lacaixa kyoto kuokgroup kred krd kpn kpmg kosher komatsu koeln kiwi kitchen kindle "
    "kinder kim kia kfh kerryproperties kerrylogistics kerryhotels kddi kaufen juniper "
    "juegos jprs jpmorgan joy jot joburg jobs jnj jmp jll jlc jio jewelry jetzt jeep jcp "
    "jcb java jaguar iwc iveco itv itau istanbul ist ismaili iselect irish ipiranga "
    "investments intuit international intel int insure insurance institute ink ing info "
    "infiniti industries inc immobilien immo imdb imamat ikano iinet ifm ieee icu ice icbc "
    "ibm hyundai hyatt hughes htc hsbc how house hotmail hotels hoteles hot hosting host "
    "hospital horse honeywell honda homesense homes homegoods homedepot holiday holdings "
    "hockey hkt hiv hitachi hisamitsu hiphop hgtv hermes here helsinki help healthcare "
    "health hdfcbank hdfc hbo haus hangout hamburg hair guru guitars guide guge gucci "
    "guardian group grocery gripe green gratis graphics grainger gov got gop google goog "
    "goodyear goodhands goo golf goldpoint gold godaddy gmx gmo gmbh gmail globo global "
    "gle glass glade giving gives gifts gift ggee george genting gent gea gdn gbiz gay "
    "garden gap games game gallup gallo gallery gal fyi futbol furniture fund fun "
    "fujixerox fujitsu ftr frontier frontdoor frogans frl fresenius free fox foundation "
    "forum forsale forex ford football foodnetwork food foo fly flsmidth flowers florist "
    "flir flights flickr fitness fit fishing fish firmdale firestone fire financial "
    "finance final film fido fidelity fiat ferrero ferrari feedback fedex fast fashion "
    "farmers farm fans fan family faith fairwinds fail fage extraspace express exposed "
    "expert exchange everbank events eus eurovision etisalat esurance estate esq erni "
    "ericsson equipment epson epost enterprises engineering engineer energy emerck email "
    "education edu edeka eco eat earth dvr dvag durban dupont duns dunlop duck dubai dtv "
    "drive download dot doosan domains doha dog dodge doctor docs dnp diy dish discover "
    "discount directory direct digital diet diamonds dhl dev design desi dentist dental "
    "democrat delta deloitte dell delivery degree deals dealer deal dds dclk day datsun "
    "dating date data dance dad dabur cyou cymru cuisinella csc cruises cruise crs crown "
    "cricket creditunion creditcard credit cpa courses coupons coupon country corsica coop "
    "cool cookingchannel cooking contractors contact consulting construction condos comsec "
    "computer compare company community commbank comcast com cologne college coffee codes "
    "coach clubmed club cloud clothing clinique clinic click cleaning claims cityeats city "
    "citic citi citadel cisco circle cipriani church chrysler chrome christmas chloe "
    "chintai cheap chat chase charity channel chanel cfd cfa cern ceo center ceb cbs cbre "
    "cbn cba catholic catering cat casino cash caseih case casa cartier cars careers "
    "career care cards caravan car capitalone capital capetown canon cancerresearch camp "
    "camera cam calvinklein call cal cafe cab bzh buzz buy business builders build bugatti "
    "budapest brussels brother broker broadway bridgestone bradesco box boutique bot "
    "boston bostik bosch boots booking book boo bond bom bofa boehringer boats bnpparibas "
    "bnl bmw bms blue bloomberg blog blockbuster blanco blackfriday black biz bio bingo "
    "bing bike bid bible bharti bet bestbuy best berlin bentley beer beauty beats bcn bcg "
    "bbva bbt bbc bayern bauhaus basketball baseball bargains barefoot barclays "
    "barclaycard barcelona bar bank band bananarepublic banamex baidu baby azure axa aws "
    "avianca autos auto author auspost audio audible audi auction attorney athleta "
    "associates asia asda arte art arpa army archi aramco arab aquarelle apple app "
    "apartments aol anz anquan android analytics amsterdam amica amfam amex americanfamily "
    "americanexpress alstom alsace ally allstate allfinanz alipay alibaba alfaromeo akdn "
    "airtel airforce airbus aigo aig agency agakhan africa afl afamilycompany aetna aero "
    "aeg adult ads adac actor active aco accountants accountant accenture academy abudhabi "
    "abogado able abc abbvie abbott abb abarth aarp aaa onion"
)

_CCTLDS = (
    "한국 香港 澳門 新加坡 台灣 台湾 中國 中国 გე ລາວ ไทย ලංකා ഭാരതം ಭಾರತ భారత్ "
    "சிங்கப்பூர் இலங்கை இந்தியா ଭାରତ ભારત ਭਾਰਤ ভাৰত ভারত বাংলা भारोत भारतम् भारत ڀارت "
    "پاکستان موريتانيا مليسيا مصر قطر فلسطين عمان عراق سورية سودان تونس بھارت بارت ایران "
    "امارات المغرب السعودية الجزائر البحرين الاردن հայ қаз укр срб рф мон мкд ею бел бг ευ "
    "ελ zw zm za yt ye ws wf vu vn vi vg ve vc va uz uy us um uk ug ua tz tw tv tt tr tp "
    "to tn tm tl tk tj th tg tf td tc sz sy sx sv su st ss sr so sn sm sl sk sj si sh sg "
    "se sd sc sb sa rw ru rs ro re qa py pw pt ps pr pn pm pl pk ph pg pf pe pa om nz nu "
    "nr np no nl ni ng nf ne nc na mz my mx mw mv mu mt ms mr mq mp mo mn mm ml mk mh mg "
    "mf me md mc ma ly lv lu lt ls lr lk li lc lb la kz ky kw kr kp kn km ki kh kg ke jp "
    "jo jm je it is ir iq io in im il ie id hu ht hr hn hm hk gy gw gu gt gs gr gq gp gn "
    "gm gl gi gh gg gf ge gd gb ga fr fo fm fk fj fi eu et es er eh eg ee ec dz do dm dk "
    "dj de cz cy cx cw cv cu cr co cn cm cl ck ci ch cg cf cd cc ca bz by bw bv bt bs br "
    "bq bo bn bm bl bj bi bh bg bf be bd bb ba az ax aw au at as ar aq ao an am al ai ag "
    "af ae ad ac"
)


# Unicode 14 (Python 3.11) general categories: marks (M), and numbers that are not decimal (No, Nl).
_MARKS = (
    "300-36F 483-489 591-5BD 5BF 5C1-5C2 5C4-5C5 5C7 610-61A 64B-65F 670 6D6-6DC 6DF-6E4 "
    "6E7-6E8 6EA-6ED 711 730-74A 7A6-7B0 7EB-7F3 7FD 816-819 81B-823 825-827 829-82D 859-85B "
    "898-89F 8CA-8E1 8E3-903 93A-93C 93E-94F 951-957 962-963 981-983 9BC 9BE-9C4 9C7-9C8 "
    "9CB-9CD 9D7 9E2-9E3 9FE A01-A03 A3C A3E-A42 A47-A48 A4B-A4D A51 A70-A71 A75 A81-A83 ABC "
    "ABE-AC5 AC7-AC9 ACB-ACD AE2-AE3 AFA-AFF B01-B03 B3C B3E-B44 B47-B48 B4B-B4D B55-B57 "
    "B62-B63 B82 BBE-BC2 BC6-BC8 BCA-BCD BD7 C00-C04 C3C C3E-C44 C46-C48 C4A-C4D C55-C56 "
    "C62-C63 C81-C83 CBC CBE-CC4 CC6-CC8 CCA-CCD CD5-CD6 CE2-CE3 D00-D03 D3B-D3C D3E-D44 "
    "D46-D48 D4A-D4D D57 D62-D63 D81-D83 DCA DCF-DD4 DD6 DD8-DDF DF2-DF3 E31 E34-E3A E47-E4E "
    "EB1 EB4-EBC EC8-ECD F18-F19 F35 F37 F39 F3E-F3F F71-F84 F86-F87 F8D-F97 F99-FBC FC6 "
    "102B-103E 1056-1059 105E-1060 1062-1064 1067-106D 1071-1074 1082-108D 108F 109A-109D "
    "135D-135F 1712-1715 1732-1734 1752-1753 1772-1773 17B4-17D3 17DD 180B-180D 180F "
    "1885-1886 18A9 1920-192B 1930-193B 1A17-1A1B 1A55-1A5E 1A60-1A7C 1A7F 1AB0-1ACE "
    "1B00-1B04 1B34-1B44 1B6B-1B73 1B80-1B82 1BA1-1BAD 1BE6-1BF3 1C24-1C37 1CD0-1CD2 "
    "1CD4-1CE8 1CED 1CF4 1CF7-1CF9 1DC0-1DFF 20D0-20F0 2CEF-2CF1 2D7F 2DE0-2DFF 302A-302F "
    "3099-309A A66F-A672 A674-A67D A69E-A69F A6F0-A6F1 A802 A806 A80B A823-A827 A82C "
    "A880-A881 A8B4-A8C5 A8E0-A8F1 A8FF A926-A92D A947-A953 A980-A983 A9B3-A9C0 A9E5 "
    "AA29-AA36 AA43 AA4C-AA4D AA7B-AA7D AAB0 AAB2-AAB4 AAB7-AAB8 AABE-AABF AAC1 AAEB-AAEF "
    "AAF5-AAF6 ABE3-ABEA ABEC-ABED FB1E FE00-FE0F FE20-FE2F 101FD 102E0 10376-1037A "
    "10A01-10A03 10A05-10A06 10A0C-10A0F 10A38-10A3A 10A3F 10AE5-10AE6 10D24-10D27 "
    "10EAB-10EAC 10F46-10F50 10F82-10F85 11000-11002 11038-11046 11070 11073-11074 "
    "1107F-11082 110B0-110BA 110C2 11100-11102 11127-11134 11145-11146 11173 11180-11182 "
    "111B3-111C0 111C9-111CC 111CE-111CF 1122C-11237 1123E 112DF-112EA 11300-11303 "
    "1133B-1133C 1133E-11344 11347-11348 1134B-1134D 11357 11362-11363 11366-1136C "
    "11370-11374 11435-11446 1145E 114B0-114C3 115AF-115B5 115B8-115C0 115DC-115DD "
    "11630-11640 116AB-116B7 1171D-1172B 1182C-1183A 11930-11935 11937-11938 1193B-1193E "
    "11940 11942-11943 119D1-119D7 119DA-119E0 119E4 11A01-11A0A 11A33-11A39 11A3B-11A3E "
    "11A47 11A51-11A5B 11A8A-11A99 11C2F-11C36 11C38-11C3F 11C92-11CA7 11CA9-11CB6 "
    "11D31-11D36 11D3A 11D3C-11D3D 11D3F-11D45 11D47 11D8A-11D8E 11D90-11D91 11D93-11D97 "
    "11EF3-11EF6 16AF0-16AF4 16B30-16B36 16F4F 16F51-16F87 16F8F-16F92 16FE4 16FF0-16FF1 "
    "1BC9D-1BC9E 1CF00-1CF2D 1CF30-1CF46 1D165-1D169 1D16D-1D172 1D17B-1D182 1D185-1D18B "
    "1D1AA-1D1AD 1D242-1D244 1DA00-1DA36 1DA3B-1DA6C 1DA75 1DA84 1DA9B-1DA9F 1DAA1-1DAAF "
    "1E000-1E006 1E008-1E018 1E01B-1E021 1E023-1E024 1E026-1E02A 1E130-1E136 1E2AE "
    "1E2EC-1E2EF 1E8D0-1E8D6 1E944-1E94A E0100-E01EF"
)

_NUMBER_LETTERS = (
    "B2-B3 B9 BC-BE 9F4-9F9 B72-B77 BF0-BF2 C78-C7E D58-D5E D70-D78 F2A-F33 1369-137C "
    "16EE-16F0 17F0-17F9 19DA 2070 2074-2079 2080-2089 2150-2182 2185-2189 2460-249B "
    "24EA-24FF 2776-2793 2CFD 3007 3021-3029 3038-303A 3192-3195 3220-3229 3248-324F "
    "3251-325F 3280-3289 32B1-32BF A6E6-A6EF A830-A835 10107-10133 10140-10178 1018A-1018B "
    "102E1-102FB 10320-10323 10341 1034A 103D1-103D5 10858-1085F 10879-1087F 108A7-108AF "
    "108FB-108FF 10916-1091B 109BC-109BD 109C0-109CF 109D2-109FF 10A40-10A48 10A7D-10A7E "
    "10A9D-10A9F 10AEB-10AEF 10B58-10B5F 10B78-10B7F 10BA9-10BAF 10CFA-10CFF 10E60-10E7E "
    "10F1D-10F26 10F51-10F54 10FC5-10FCB 11052-11065 111E1-111F4 1173A-1173B 118EA-118F2 "
    "11C5A-11C6C 11FC0-11FD4 12400-1246E 16B5B-16B61 16E80-16E96 1D2E0-1D2F3 1D360-1D378 "
    "1E8C7-1E8CF 1EC71-1ECAB 1ECAD-1ECAF 1ECB1-1ECB4 1ED01-1ED2D 1ED2F-1ED3D 1F100-1F10C"
)
