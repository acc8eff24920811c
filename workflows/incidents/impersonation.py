"""Impersonation (なりすまし, manual §8 (2)): accounts made to look like one of the city's.

A candidate account (from an X lookup of generated handle variants, a search, or a member's
report) is scored 0-100 against each managed account's ``watch_names``:

- its **handle** and its **display name** compared with the watched handles and names: the same
  (case, width, spacing and punctuation aside), only the notation differs (hiragana/katakana,
  full/half width), look-alike characters (the same *skeleton*: Cyrillic о for o, l for i, rn for
  m, 巿 for 市, ー for -; confusables.yaml), similar (rapidfuzz ratio of the skeletons), or
  containing a watched name;
- a claim to be official (公式, official, koushiki; impersonation.yaml) on an account that is not
  the city's; the city's name; a verification badge (bought badges make a fake more credible);
- a disclaimer (非公式, fan, parody) lowers the score.

Every point comes with a reason a person can read. The city's own accounts (matched by platform and
handle) and the allow-list (``allowlist`` in app.yaml, any platform) never alert.

``handle_variants`` generates the handles an impostor would register (for X's
``GET /2/users/by?usernames=``, 100 a request); ``lookup_batches`` merges them for every watch.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from workflows.catalogue import Lang, message
from workflows.checks.data import RuleDataError, load_yaml
from workflows.checks.model import Platform
from workflows.incidents.model import AccountRef, Cause, Evidence, Signal, defang, shown_handle
from workflows.org import Account, Organisation

_HERE = Path(__file__).parent
MAX_LOOKUP = 100  # X's GET /2/users/by takes at most 100 usernames
_X_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
_X_FORBIDDEN = ("twitter", "admin")
_HANDLE_LIKE = re.compile(r"^@?[A-Za-z0-9_.\-]+$")
_DROPPED_CATEGORIES = ("P", "Z", "C", "S")  # punctuation, spaces, invisible, symbols

# ---------------------------------------------------------------- folding


@dataclass(frozen=True, slots=True)
class Confusables:
    """Look-alike characters (confusables.yaml), ready to fold with."""

    table: Mapping[int, str]  # look-alike code point -> what it imitates
    sequences: tuple[tuple[str, str], ...]  # (look-alike sequence, what it imitates)
    dashes: frozenset[str]


@cache
def confusables() -> Confusables:
    """The look-alike data, validated and with its specs run on first use."""
    path = _HERE / "confusables.yaml"
    data = load_yaml(path)
    name = path.name
    if not isinstance(data, Mapping) or set(data) != {
        "characters",
        "sequences",
        "dashes",
        "same",
        "different",
    }:
        raise RuleDataError(
            f"{name}: expected characters, sequences, dashes, same and different, nothing else"
        )
    table: dict[int, str] = {}
    for target, alikes in _groups(data["characters"], name, "characters").items():
        for alike in alikes:
            folded = _base_fold(alike)
            if len(folded) != 1 or len(target) != 1:
                raise RuleDataError(f"{name}: characters.{target}: {alike!r} is not one character")
            if folded == target:
                continue  # NFKC or case folding already does it
            if ord(folded) in table:
                raise RuleDataError(
                    f"{name}: {alike!r} is in characters.{table[ord(folded)]} and .{target}"
                )
            table[ord(folded)] = target
    sequences = [
        (_base_fold(alike), target)
        for target, alikes in _groups(data["sequences"], name, "sequences").items()
        for alike in alikes
    ]
    dashes = data["dashes"]
    if not isinstance(dashes, list) or not all(isinstance(d, str) and len(d) == 1 for d in dashes):
        raise RuleDataError(f"{name}: dashes must be a list of single characters")
    result = Confusables(
        table=table,
        sequences=tuple(sorted(sequences, key=lambda s: -len(s[0]))),
        dashes=frozenset(_base_fold(d) for d in dashes),
    )
    failures = [
        f"{name}: same {a!r} / {b!r}: {_skeleton(a, result)!r} != {_skeleton(b, result)!r}"
        for a, b in _pairs(data["same"], name, "same")
        if _skeleton(a, result) != _skeleton(b, result)
    ] + [
        f"{name}: different {a!r} / {b!r}: both {_skeleton(a, result)!r}"
        for a, b in _pairs(data["different"], name, "different")
        if _skeleton(a, result) == _skeleton(b, result)
    ]
    if failures:
        raise RuleDataError("\n".join(failures))
    return result


def _groups(raw: Any, file: str, key: str) -> dict[str, list[str]]:
    if not isinstance(raw, Mapping):
        raise RuleDataError(f"{file}: {key} must map a character to its look-alikes")
    groups: dict[str, list[str]] = {}
    for target, alikes in raw.items():
        if not isinstance(alikes, list) or not all(isinstance(a, str) and a for a in alikes):
            raise RuleDataError(f"{file}: {key}.{target} must be a list of non-empty strings")
        groups[_base_fold(str(target))] = alikes
    return groups


def _pairs(raw: Any, file: str, key: str) -> list[tuple[str, str]]:
    if not isinstance(raw, list) or not all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(s, str) for s in p) for p in raw
    ):
        raise RuleDataError(f"{file}: {key} must be a list of [text, text] pairs")
    return [(p[0], p[1]) for p in raw]


def _base_fold(text: str, *, accents: bool = False) -> str:
    """NFKC, case-folded, hiragana as katakana; without accents on Latin/Greek/Cyrillic letters
    unless ``accents``."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    if folded.isascii():
        return folded
    if not accents:
        kept: list[str] = []
        for ch in unicodedata.normalize("NFD", folded):
            # Only accents on alphabetic letters: a kana's voicing mark (が) makes another word.
            if unicodedata.combining(ch) and kept and ord(kept[-1]) < 0x3000:
                continue
            kept.append(ch)
        folded = unicodedata.normalize("NFC", "".join(kept))
    return folded.translate(_HIRAGANA_TO_KATAKANA)


_HIRAGANA_TO_KATAKANA = {c: c + 0x60 for c in (*range(0x3041, 0x3097), 0x309D, 0x309E)}


def _is_separator(ch: str) -> bool:
    return unicodedata.category(ch)[0] in _DROPPED_CATEGORIES


def _light(text: str) -> str:
    """``text`` with case, width, kana, spaces and punctuation set aside (accents kept)."""
    return "".join(ch for ch in _base_fold(text, accents=True) if not _is_separator(ch))


def _skeleton(text: str, data: Confusables, *, keep_gaps: bool = False) -> str:
    gap = " " if keep_gaps else ""
    folded = "".join(gap if _is_separator(ch) else ch for ch in _base_fold(text))
    for alike, target in data.sequences:
        folded = folded.replace(alike, target)
    folded = folded.translate(data.table)
    return "".join(gap if ch in data.dashes else ch for ch in folded)


def skeleton(text: str) -> str:
    """What ``text`` looks like: texts with the same skeleton are hard to tell apart."""
    return _skeleton(text, confusables())


def _gapped(text: str) -> str:
    """The skeleton with a space wherever a separator was, for word-boundary matches."""
    return " ".join(_skeleton(text, confusables(), keep_gaps=True).split())


# ---------------------------------------------------------------- comparing two strings


class Likeness(StrEnum):
    """How a candidate's name or handle relates to a watched one, closest first."""

    SAME = "same"  # identical, case and surrounding spaces aside
    NOTATION = "notation"  # identical once width, kana, spacing and punctuation are set aside
    CONFUSABLE = "confusable"  # identical once look-alike characters are folded
    SIMILAR = "similar"  # a high rapidfuzz ratio of the skeletons
    CONTAINS = "contains"  # the watched text is inside the candidate's
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Comparison:
    likeness: Likeness
    similarity: int  # rapidfuzz ratio of the skeletons, 0-100
    target: str
    swaps: tuple[tuple[str, str], ...] = ()  # (candidate's, watched) differing parts
    contains: bool = False  # the watched text's skeleton is inside the candidate's

    @property
    def is_identical(self) -> bool:
        return self.likeness in (Likeness.SAME, Likeness.NOTATION, Likeness.CONFUSABLE)


def compare(candidate: str, target: str, *, similar_floor: int = 70) -> Comparison:
    """How alike ``candidate`` is to ``target`` (names or handles)."""
    if unicodedata.normalize("NFKC", candidate).strip().casefold() == (
        unicodedata.normalize("NFKC", target).strip().casefold()
    ):
        return Comparison(Likeness.SAME, 100, target)
    light_c, light_t = _light(candidate), _light(target)
    if not light_c or not light_t:
        return Comparison(Likeness.NONE, 0, target)
    if light_c == light_t:
        return Comparison(Likeness.NOTATION, 100, target)
    skel_c, skel_t = skeleton(candidate), skeleton(target)
    if skel_c == skel_t:
        return Comparison(Likeness.CONFUSABLE, 100, target, _swaps(light_c, light_t))
    similarity = round(fuzz.ratio(skel_c, skel_t))
    contains = len(skel_t) >= 3 and skel_t in skel_c
    if skel_c and skel_t and similarity >= similar_floor:
        return Comparison(Likeness.SIMILAR, similarity, target, contains=contains)
    if contains:
        return Comparison(Likeness.CONTAINS, similarity, target, contains=True)
    return Comparison(Likeness.NONE, similarity, target)


def _swaps(candidate: str, target: str, limit: int = 3) -> tuple[tuple[str, str], ...]:
    matcher = difflib.SequenceMatcher(None, candidate, target, autojunk=False)
    swaps = [
        (candidate[i1:i2], target[j1:j2])
        for op, i1, i2, j1, j2 in matcher.get_opcodes()
        if op != "equal"
    ]
    return tuple(swaps[:limit])


def _shown_chars(text: str) -> str:
    """「о」(U+043E CYRILLIC SMALL LETTER O): look-alikes are told apart by their code points."""
    if not text:
        return "「」"
    if text.isascii():
        return f"「{text}」"
    codes = " ".join(
        f"U+{ord(ch):04X}"
        + (f" {unicodedata.name(ch, '')}" if ch.isalpha() and ord(ch) < 0x3000 else "")
        for ch in text
        if not ch.isascii()
    )
    return f"「{text}」({codes})"


def _shown_swaps(swaps: Sequence[tuple[str, str]]) -> str:
    return "、".join(f"{_shown_chars(a)} ↔ {_shown_chars(b)}" for a, b in swaps)


# ---------------------------------------------------------------- what is watched, the rules


@dataclass(frozen=True, slots=True)
class Watch:
    """One managed account's names to protect (``watch_names`` in app.yaml)."""

    account: AccountRef
    names: tuple[str, ...]  # every watch name: display names and handles alike
    handles: tuple[str, ...]  # the watch names that are handles (without @)

    @classmethod
    def of(cls, account: Account) -> Watch | None:
        """The account's watch, or None if it has no ``watch_names``."""
        names = tuple(dict.fromkeys(n.strip() for n in account.watch_names if n.strip()))
        if not names:
            return None
        handles = tuple(dict.fromkeys(n.lstrip("@") for n in names if _HANDLE_LIKE.match(n)))
        return cls(AccountRef.of(account), names, handles)


def watches(accounts: Iterable[Account]) -> tuple[Watch, ...]:
    return tuple(w for a in accounts if (w := Watch.of(a)) is not None)


def _handle_key(handle: str) -> str:
    return handle.strip().lstrip("@").casefold()


@dataclass(frozen=True, slots=True)
class ImpersonationRules:
    """Who is known, and the tunable weights of the score (points out of 100)."""

    threshold: int = 60  # a score at or above this alerts
    managed: frozenset[tuple[Platform, str]] = frozenset()  # (platform, handle) of our accounts
    allowlist: frozenset[str] = frozenset()  # handles never reported, on any platform
    city_names: tuple[str, ...] = ()
    identical_points: int = 60  # the same name or handle, or only look-alike characters differ
    contains_points: int = 25  # contains a watched name
    similar_floor: int = 70  # below this ratio a name is not "similar"
    claim_points: int = 25
    city_points: int = 10
    verified_points: int = 10
    disclaimer_points: int = 20  # taken off

    def __post_init__(self) -> None:
        if not 0 < self.threshold <= 100:
            raise ValueError("threshold is a score from 1 to 100")
        if not 0 <= self.similar_floor < 100:
            raise ValueError("similar_floor is a ratio from 0 to 99")
        # Stored as lookup keys: case-folded, without @.
        object.__setattr__(self, "managed", frozenset((p, _handle_key(h)) for p, h in self.managed))
        object.__setattr__(self, "allowlist", frozenset(_handle_key(h) for h in self.allowlist))

    @classmethod
    def for_organisation(
        cls,
        organisation: Organisation,
        accounts: Iterable[Account],
        allowlist: Iterable[str] = (),
        *,
        threshold: int = 60,
    ) -> ImpersonationRules:
        """The rules for app.yaml's organisation, accounts and allow-list."""
        city = tuple(n for n in (organisation.name, organisation.name_en) if n)
        return cls(
            threshold=threshold,
            managed=frozenset((a.platform, a.handle) for a in accounts),
            allowlist=frozenset(allowlist),
            city_names=city,
        )

    def is_known(self, platform: Platform, handle: str) -> bool:
        key = _handle_key(handle)
        return key in self.allowlist or (platform, key) in self.managed


# ---------------------------------------------------------------- scoring


@dataclass(frozen=True, slots=True)
class Candidate:
    """An account that may imitate one of ours, as read from a platform or a member's report."""

    handle: str
    name: str
    description: str = ""
    verified: bool = False
    platform: Platform = Platform.X
    user_id: str | None = None
    url: str | None = None  # the profile's link, for the card

    @property
    def shown_handle(self) -> str:
        return shown_handle(self.platform, self.handle)


@dataclass(frozen=True, slots=True)
class Reason:
    """One part of a score, as a catalogue message (``incident.reason.{key}``)."""

    key: str
    points: int
    params: tuple[tuple[str, str], ...] = ()

    def text(self, lang: Lang = Lang.JA) -> str:
        params = dict(self.params)
        if "where" in params:
            params["where"] = message(f"incident.where.{params['where']}", lang)
        return message(f"incident.reason.{self.key}", lang, **params)


@dataclass(frozen=True, slots=True)
class Assessment:
    """A candidate's score against one watch, with the reasons that make it up."""

    candidate: Candidate
    watch: Watch | None
    score: int
    threshold: int
    reasons: tuple[Reason, ...]
    known: bool = False

    @property
    def alert(self) -> bool:
        return not self.known and self.score >= self.threshold

    def reason_texts(self, lang: Lang = Lang.JA) -> tuple[str, ...]:
        return tuple(r.text(lang) for r in self.reasons)


_FIELDS = ("name", "handle", "description")


def assess(candidate: Candidate, watch: Watch, rules: ImpersonationRules) -> Assessment:
    """Score ``candidate`` 0-100 against ``watch``: how much it looks like that account."""
    if rules.is_known(candidate.platform, candidate.handle):
        return Assessment(candidate, watch, 0, rules.threshold, (Reason("known", 0),), known=True)
    reasons: list[Reason] = []
    shown = candidate.shown_handle

    handle_reason = _best_reason(
        "handle",
        (compare(candidate.handle, h, similar_floor=rules.similar_floor) for h in watch.handles)
        if candidate.handle.strip()
        else (),
        rules,
        lambda c: {
            "handle": shown,
            "target": shown_handle(watch.account.platform, c.target),
        },
    )
    name_reason = _best_reason(
        "name",
        (compare(candidate.name, n, similar_floor=rules.similar_floor) for n in watch.names)
        if candidate.name.strip()
        else (),
        rules,
        lambda c: {"name": candidate.name, "target": c.target},
    )
    reasons += [r for r in (handle_reason, name_reason) if r is not None]

    texts = {
        "name": candidate.name,
        "handle": candidate.handle,
        "description": candidate.description,
    }
    if not any(r.points >= rules.contains_points for r in reasons):
        # Only when the name or handle has not already counted a watched name.
        city = _city_name(texts, rules.city_names)
        if city is not None:
            reasons.append(
                Reason("city_name", rules.city_points, (("city", city[0]), ("where", city[1])))
            )
    lists = word_lists()
    claim = _first_word(texts, lists.claims, lists.disclaimers)
    if claim is not None:
        reasons.append(
            Reason("official_claim", rules.claim_points, (("word", claim[0]), ("where", claim[1])))
        )
    disclaimer = _first_word(texts, lists.disclaimers, ())
    if candidate.verified and reasons:
        reasons.append(Reason("verified", rules.verified_points))
    if disclaimer is not None and reasons:
        word, where = disclaimer
        reasons.append(
            Reason("disclaimer", -rules.disclaimer_points, (("word", word), ("where", where)))
        )
    score = max(0, min(100, sum(r.points for r in reasons)))
    return Assessment(candidate, watch, score, rules.threshold, tuple(reasons))


def _best_reason(
    part: str,
    comparisons: Iterable[Comparison],
    rules: ImpersonationRules,
    params: Callable[[Comparison], Mapping[str, str]],
) -> Reason | None:
    best: tuple[int, Comparison] | None = None
    for comparison in comparisons:
        points = _points(comparison, rules)
        if points > 0 and (best is None or points > best[0]):
            best = (points, comparison)
    if best is None:
        return None
    points, comparison = best
    likeness = comparison.likeness
    if likeness is Likeness.SIMILAR and points == rules.contains_points and comparison.contains:
        likeness = Likeness.CONTAINS  # containing the name is what scored
    extra: dict[str, str] = dict(params(comparison))
    if likeness is Likeness.CONFUSABLE:
        extra["swaps"] = _shown_swaps(comparison.swaps)
    if likeness is Likeness.SIMILAR:
        extra["similarity"] = str(comparison.similarity)
    return Reason(f"{part}_{likeness.value}", points, tuple(extra.items()))


def _points(comparison: Comparison, rules: ImpersonationRules) -> int:
    if comparison.is_identical:
        return rules.identical_points
    contains = rules.contains_points if comparison.contains else 0
    if comparison.likeness is Likeness.SIMILAR:
        span = 100 - rules.similar_floor
        scaled = rules.identical_points * (comparison.similarity - rules.similar_floor) // span
        # Similar but not the same never scores as much as the same.
        return max(contains, min(rules.identical_points - 1, scaled))
    return contains


@dataclass(frozen=True, slots=True)
class WordLists:
    claims: tuple[tuple[str, re.Pattern[str]], ...]
    disclaimers: tuple[tuple[str, re.Pattern[str]], ...]
    substitutions: tuple[tuple[str, str], ...]
    suffixes: tuple[str, ...]
    prefixes: tuple[str, ...]
    stems: tuple[str, ...]


@cache
def word_lists() -> WordLists:
    """impersonation.yaml: claim and disclaimer words, handle-variant data."""
    path = _HERE / "impersonation.yaml"
    data = load_yaml(path)
    name = path.name
    if not isinstance(data, Mapping) or set(data) != {"claims", "disclaimers", "variants"}:
        raise RuleDataError(f"{name}: expected claims, disclaimers and variants")
    variants = data["variants"]
    if not isinstance(variants, Mapping) or set(variants) != {
        "substitutions",
        "suffixes",
        "prefixes",
        "stems",
    }:
        raise RuleDataError(f"{name}: variants needs substitutions, suffixes, prefixes and stems")
    subs = _pairs(variants["substitutions"], name, "variants.substitutions")
    for src, dst in subs:
        if not (src and _X_HANDLE.match(src) and _X_HANDLE.match(dst)):
            raise RuleDataError(f"{name}: substitution {src!r} -> {dst!r} is not handle text")
    affixes = {k: _words(variants[k], name, f"variants.{k}") for k in ("suffixes", "prefixes")}
    stems = _words(variants["stems"], name, "variants.stems")
    for word in (*affixes["suffixes"], *affixes["prefixes"], *stems):
        if not re.fullmatch(r"[A-Za-z0-9_]+", word):
            raise RuleDataError(f"{name}: {word!r} cannot be part of an X handle")
    return WordLists(
        claims=tuple((w, _word_pattern(w)) for w in _words(data["claims"], name, "claims")),
        disclaimers=tuple(
            (w, _word_pattern(w)) for w in _words(data["disclaimers"], name, "disclaimers")
        ),
        substitutions=tuple((s.lower(), d.lower()) for s, d in subs),
        suffixes=affixes["suffixes"],
        prefixes=affixes["prefixes"],
        stems=stems,
    )


def _words(raw: Any, file: str, key: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(w, str) and w.strip() for w in raw):
        raise RuleDataError(f"{file}: {key} must be a list of non-empty strings")
    return tuple(str(w) for w in raw)


def _word_pattern(word: str) -> re.Pattern[str]:
    folded = re.escape(_gapped(word))
    if word.isascii():
        return re.compile(rf"(?<![a-z0-9]){folded}(?![a-z0-9])")
    return re.compile(folded)


def _first_word(
    texts: Mapping[str, str],
    words: Sequence[tuple[str, re.Pattern[str]]],
    unless: Sequence[tuple[str, re.Pattern[str]]],
) -> tuple[str, str] | None:
    """The first of ``words`` in the name, handle or description, once ``unless`` is removed."""
    for where in _FIELDS:
        text = _gapped(texts[where])
        for _, pattern in unless:
            text = pattern.sub(" ", text)
        for word, pattern in words:
            if pattern.search(text) or (where == "handle" and _in_handle(word, text)):
                return word, where
    return None


def _in_handle(word: str, handle: str) -> bool:
    # Handles run words together (midorikoushiki): a Latin claim counts anywhere in a handle.
    return word.isascii() and len(word) >= 6 and _gapped(word) in handle.replace(" ", "")


def _city_name(texts: Mapping[str, str], city_names: Sequence[str]) -> tuple[str, str] | None:
    for where in _FIELDS:
        folded = skeleton(texts[where])
        for city in city_names:
            target = skeleton(city)
            if len(target) >= 2 and target in folded:
                return city, where
    return None


# ---------------------------------------------------------------- signals


@dataclass(frozen=True, slots=True)
class LookalikeEvidence(Evidence):
    candidate: Candidate
    score: int
    threshold: int
    reasons: tuple[Reason, ...] = field(default_factory=tuple)

    def params(self, lang: Lang = Lang.JA) -> dict[str, str]:
        return {
            "handle": self.candidate.shown_handle,
            "name": self.candidate.name,
            "score": str(self.score),
        }

    def rows(self, lang: Lang = Lang.JA) -> tuple[tuple[str, str], ...]:
        none = message("incident.none", lang)
        badge = message("incident.yes" if self.candidate.verified else "incident.no", lang)
        return (
            (message("incident.field.suspect", lang), self.candidate.shown_handle),
            (message("incident.field.name", lang), self.candidate.name or none),
            (
                message("incident.field.description", lang),
                defang(self.candidate.description) or none,
            ),
            (message("incident.field.verified", lang), badge),
            (message("incident.field.link", lang), self.candidate.url or none),  # x.com/handle
            (
                message("incident.field.score", lang),
                message("incident.score", lang, score=self.score, threshold=self.threshold),
            ),
            (
                message("incident.field.reasons", lang),
                "\n".join(f"・{r.text(lang)}" for r in self.reasons),
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        c = self.candidate
        return {
            "platform": c.platform.value,
            "handle": c.handle,
            "name": c.name,
            "description": c.description,
            "verified": c.verified,
            "user_id": c.user_id,
            "url": c.url,
            "score": self.score,
            "threshold": self.threshold,
            "reasons": [
                {"key": r.key, "points": r.points, "text": r.text(), **dict(r.params)}
                for r in self.reasons
            ],
        }


def best_match(
    candidate: Candidate, watched: Sequence[Watch], rules: ImpersonationRules
) -> Assessment:
    """The candidate's highest score over every watch.

    Ties (scores are capped at 100) go to the most points before the cap, then to a watch on the
    candidate's platform.
    """
    if not watched:
        return Assessment(candidate, None, 0, rules.threshold, ())
    ranked = sorted(
        (assess(candidate, w, rules) for w in watched),
        key=lambda a: (
            -a.score,
            -sum(r.points for r in a.reasons),
            a.watch is None or a.watch.account.platform != candidate.platform,
        ),
    )
    return ranked[0]


def detect(
    candidates: Iterable[Candidate], watched: Sequence[Watch], rules: ImpersonationRules
) -> list[Signal]:
    """A signal for each candidate at or above the threshold, one per platform and handle.

    Key: ``impersonation:lookalike:{platform}:{handle}`` (case-folded): one incident per impostor.
    """
    signals: list[Signal] = []
    seen: set[tuple[Platform, str]] = set()
    for candidate in candidates:
        key = (candidate.platform, _handle_key(candidate.handle))
        if key in seen:
            continue
        seen.add(key)
        best = best_match(candidate, watched, rules)
        if not best.alert or best.watch is None:
            continue
        signals.append(
            Signal(
                cause=Cause.LOOKALIKE,
                account=best.watch.account,
                dedupe_key=f"impersonation:{Cause.LOOKALIKE}:{key[0].value}:{key[1]}",
                evidence=LookalikeEvidence(candidate, best.score, best.threshold, best.reasons),
            )
        )
    return signals


# ---------------------------------------------------------------- handles to look up


def is_x_handle(handle: str) -> bool:
    lowered = handle.lower()
    return bool(_X_HANDLE.match(handle)) and not any(w in lowered for w in _X_FORBIDDEN)


def handle_variants(handle: str, *, limit: int = MAX_LOOKUP) -> tuple[str, ...]:
    """Valid X handles an impostor of ``handle`` might register, most look-alike first.

    Deterministic, case-insensitively unique, without ``handle`` itself, at most ``limit``.
    A handle that is not a valid X handle has no variants.
    """
    base = handle.strip().lstrip("@")
    if not is_x_handle(base) or limit <= 0:
        return ()
    data = word_lists()
    out: dict[str, str] = {}

    def add(variant: str) -> None:
        key = variant.casefold()
        if key != base.casefold() and key not in out and is_x_handle(variant):
            out[key] = variant

    lower = base.lower()
    joined = lower.replace("_", "")
    for form in (lower, joined):
        for src, dst in data.substitutions:
            for i in _occurrences(form, src):
                add(form[:i] + dst + form[i + len(src) :])
        if form == lower:
            for i in _occurrences(lower, "_"):
                add(lower[:i] + lower[i + 1 :])
                add(lower[:i] + "__" + lower[i + 1 :])
            add(lower + "_")
            add("_" + lower)
    if "_" in lower:
        head, _, tail = lower.rpartition("_")
        for stem in data.stems:
            if stem != tail:
                add(f"{head}_{stem}")
    for suffix in data.suffixes:
        add(lower + suffix)
    for prefix in data.prefixes:
        add(prefix + lower)
    for i, ch in enumerate(lower):  # typing slips: a doubled, a missing, two swapped letters
        if ch != "_":
            add(lower[: i + 1] + ch + lower[i + 1 :])
    for i in range(len(lower)):
        add(lower[:i] + lower[i + 1 :])
    for i in range(len(lower) - 1):
        if lower[i] != lower[i + 1]:
            add(lower[:i] + lower[i + 1] + lower[i] + lower[i + 2 :])
    return tuple(out.values())[:limit]


def _occurrences(text: str, part: str) -> list[int]:
    found, i = [], text.find(part)
    while i >= 0:
        found.append(i)
        i = text.find(part, i + 1)
    return found


def lookup_batches(
    watched: Iterable[Watch], rules: ImpersonationRules, *, size: int = MAX_LOOKUP
) -> tuple[tuple[str, ...], ...]:
    """The X handles to look up for every watch, in batches of at most ``size``.

    The watched handles themselves come first (a handle of our Instagram account registered on X
    by someone else is a look-alike too), then each one's variants; known accounts are left out.
    """
    if not 0 < size <= MAX_LOOKUP:
        raise ValueError(f"a lookup takes 1 to {MAX_LOOKUP} handles")
    handles = list(dict.fromkeys(h for w in watched for h in w.handles))
    ordered: dict[str, str] = {}
    for handle in (*handles, *(v for h in handles for v in handle_variants(h))):
        key = handle.casefold()
        if is_x_handle(handle) and key not in ordered and not rules.is_known(Platform.X, handle):
            ordered[key] = handle
    names = list(ordered.values())
    return tuple(tuple(names[i : i + size]) for i in range(0, len(names), size))
