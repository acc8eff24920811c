"""Personal information (manual §5 ③): private e-mail, mobile numbers, My Number, payment
cards, a private person's name next to a home address or the town they live in, and a private
person's name with an illness, a crime, debts or an office's number about them (要配慮個人情報).

Every finding points at the personal datum itself (the address, the number), so the drafter sees
exactly what to remove.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields, replace
from functools import cache
from itertools import accumulate
from typing import Any

from workflows.checks import person_model
from workflows.checks.context import CheckContext, Rule
from workflows.checks.data import LazyPattern as Lazy
from workflows.checks.data import RuleDataError, cached_data, load_yaml
from workflows.checks.hits import Hit, findings, run_specs
from workflows.checks.lexicon import Sweep, reach
from workflows.checks.model import Finding, Severity
from workflows.checks.rules import phone
from workflows.checks.rules.phone import HYPHENS, official_digits
from workflows.checks.rules.url import host_in
from workflows.checks.settings import CheckSettings
from workflows.checks.text import NormalizedText

DATA_FILE = "pii.yaml"

_H = re.escape(HYPHENS)
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24})"
    r"(?![A-Za-z0-9\-])"
)
# A number that does not go on from another (1.5, 10:30, a code): tested after its first digit,
# looking back over it, so that the expression starts with a digit and re skips to the next
# digit in C instead of trying every place of the draft.
_FRESH = rf"(?<![0-9A-Za-z/#=@_%+{_H}]\d)(?<![0-9][.,: ]\d)"
# 12 digits as one run or 4-4-4 with one kind of separator; never part of a longer number.
_TWELVE = re.compile(
    rf"\d{_FRESH}\d{{3}}(?P<sep>[ {_H}]?)\d{{4}}(?P=sep)\d{{4}}(?![0-9])(?![ {_H}.,]\d)(?!円)"
)
_CARD = re.compile(rf"\d{_FRESH}(?:[ {_H}]?\d){{12,18}}(?![0-9])(?![ {_H}]\d)")
_NOT_DIGIT = re.compile(r"\D")
# A filled-in example of a form, however many fields come before its address: nobody's home.
_EXAMPLE = re.compile(r"記入例|記載例|入力例|書き方の例|架空の")
_EXAMPLE_BEFORE = 48


@dataclass(frozen=True, slots=True)
class Brand:
    name: str
    ranges: tuple[tuple[str, str], ...]  # inclusive prefix ranges of equal length
    lengths: frozenset[int]

    def issued(self, digits: str) -> bool:
        return len(digits) in self.lengths and any(
            lo <= digits[: len(lo)] <= hi for lo, hi in self.ranges
        )


@dataclass(frozen=True, slots=True)
class PiiData:
    private_mail: frozenset[str]
    mobile: re.Pattern[str]
    mynumber_keywords: re.Pattern[str]
    mynumber_window: int
    other_numbers: re.Pattern[str]
    brands: tuple[Brand, ...]
    address: AddressPatterns
    sensitive: SensitivePatterns
    identity: SensitivePatterns
    residence: ResidencePatterns
    consent: Lazy  # ご本人の了解を得て掲載しています
    consented: frozenset[str]  # the rules that become information with it


@dataclass(frozen=True, slots=True)
class SensitivePatterns:
    """What must never stand next to a private person's name (pii.yaml ``sensitive``), or what
    identifies them beyond their name (``identity``)."""

    rule: str  # pii.sensitive, pii.identity
    words: Lazy  # 脳梗塞, だまし取られ, 差し押さえ, 被保険者番号…
    honorific: Lazy  # さん, ちゃん, 容疑者: where a private person's name ends
    speaking: Lazy  # 講演, 講師, 保健師: the person speaks of it, or is the expert
    window: int  # characters between the name and the word, at most
    # What counts only right after the honorific (its group ``word``): 松田茂さん（82）, where
    # （2） anywhere near would be a list's number.
    right_after: Lazy | None = None


@dataclass(frozen=True, slots=True)
class ResidencePatterns:
    """Where a private person lives at town level (pii.yaml ``residence``): a town, its 丁目, a
    district, joined to their name in one sentence (桜台3丁目の川口弘子様, 田中一郎さん（緑町）)."""

    rule: str  # pii.residence
    honorific: Lazy  # さん, 様, 氏: where a private person's name ends
    hint: Lazy  # 町, 丁目, 地区, 台…: a draft without one has no place to read
    before: Lazy  # 桜台3丁目の, 中央町在住の, 桜台にお住まいで…している: ending at the name
    # What ``before`` needs: one of these right before the name, or ``lives_then`` in its reach
    # (cheap tests that spare it at most honorifics).
    joins: frozenset[str]
    lives_then: Lazy
    after: Lazy  # （緑町）, （82、東町）, ご夫妻（中央町在住）: right after the honorific
    tag: Lazy  # #大間々町塩原: a hashtag of a place (its end checked: the tag ends there)
    generic: Lazy  # 城下町, 舞台, 工業団地, 各地区: ends like a place, names none
    starts: Lazy  # この地区, その町
    not_place_ending: Lazy  # of what follows a town: 町民, 町長, 商工会, 出身
    speaking: Lazy  # 講師, 講演: the sentence makes the person a speaker or the expert
    in_role: Lazy  # 区長, 作家: in what is reported
    in_role_before: Lazy  # 画家の: right before the name
    anonymised: Lazy  # 仮名: in what is reported or just after it
    awards: Lazy  # 市長賞, 優勝: a prize list, where the town in brackets is published with consent


@dataclass(frozen=True, slots=True)
class AddressPatterns:
    """How a home address shows next to a person.

    Only ``address``, ``name_before``, ``name_after`` and the proximity pass's name patterns hold
    the large kanji/kana classes (each costs milliseconds to compile); the others are cheap anchors
    matched where those end or start. All compile on first use (``Lazy``): most drafts never need
    them, and start-up stays short.
    """

    hint: Lazy
    hint_number: Lazy
    honorific: Lazy
    addressee_honorifics: frozenset[str]
    name_before: Lazy  # a name that ends where an honorific starts
    name_after: Lazy  # 住所：… 佐藤花子
    address: Lazy
    bracket_open: Lazy  # 山田太郎さん（
    bracket_close: Lazy
    home_of: Lazy  # 鈴木一郎様方
    at_home: Lazy  # 自宅（
    label: Lazy  # 住所：
    honorific_before_label: Lazy  # 佐藤花子様の住所
    label_prefix: Lazy
    not_name: Lazy
    not_place: Lazy
    roles: Lazy
    venue: Lazy
    of_person: Lazy  # 緑町1-2-3の / にお住まいの, right after a house number
    owner_before: Lazy  # 林幸子|が所有する建物, right before a bracket
    person_after: Lazy  # 鈴木次郎が, 高橋美咲さん
    # The proximity pass: any house number, then a person within a short gap before or after it.
    number: Lazy  # 1-2-3, 三丁目5番8号, 1234番地 (found anywhere, the place read back)
    room: Lazy  # ハイツ201号室, found at the building word
    person_hint: Lazy  # anything that can mark a person, searched near an address
    lives_after: Lazy  # で暮らし, に住んで: right after a home, someone lives there
    district: Lazy  # 旭町4丁目 (no house number), only in brackets right after a named person
    # A given name in kana after a kanji surname, as the elderly and children have (西田ヨシ子,
    # 森 ゆい), tried where name_before finds none; it must read as a person's (_is_person).
    kana_given: Lazy
    person_marker: Lazy  # さん, 宅, （72）: where a name after the address ends
    person_marker_reach: int  # how far past where it is tried it reads (lexicon.reach)
    name_tail: Lazy  # a name in any script that ends where the search ends
    english: Lazy  # Ms. Yuko Aoki of 2-8-4 Midorimachi
    reading_tail: Lazy  # （きくち しょうた）: a name's reading before its honorific
    gap_stop: Lazy  # a sentence or line ends: no person after the address
    kind_tail: Lazy  # さん宅, 様: an honorific right before the address's gap
    plain_tail: Lazy  # 松井健 right before （北町3-3-3）
    gap_tail: Lazy  # （72）, のご住所は: between a name and the address
    facility_tail: Lazy  # 〇〇商店（: a facility word that ends right before an address
    facility_longest: int
    facility_ends: frozenset[str]  # the last characters of the facility words
    label_longest: int  # what label_prefix matches, at most
    facility_after: Lazy  # の東町集会所
    blocker: Lazy  # a facility or a role between the address and the person
    role_before: Lazy  # 市長 , 市民課 (right before a name)
    role: Lazy  # 企画課 佐藤: a role inside what reads as a name
    name_field: Lazy  # 氏名：佐藤花子
    # A name without an honorific beside a house number: a listed surname (found by look-up),
    # then what may follow it.
    surnames: frozenset[str]  # of two or three characters
    plain_rest: Lazy  # 一郎 of 佐藤一郎・, 宅 of 佐藤宅（ (up to the gap before the address)
    plain_rest_after: Lazy  # 一郎 of 田中一郎が, 家 of の山田家で, nothing at the end of the line
    not_kana_name: Lazy
    not_single_names: frozenset[str]


def scan(norm: NormalizedText, settings: CheckSettings, data: PiiData) -> list[Hit]:
    """Every piece of personal information in a normalised text."""
    text = norm.text
    hits: list[Hit] = []
    if data.sensitive.words.search(text):
        hits.extend(_sensitive(text, data.sensitive, data.address))
    if "@" in text:
        hits.extend(_emails(text, settings, data))
    if any(ch.isdigit() for ch in text) or "丁目" in text or "番地" in text:
        hits.extend(_mobiles(text, settings, data))
        hits.extend(_home_phones(text, settings, data))
        hits.extend(_my_numbers(text, data))
        hits.extend(_cards(text, data))
        p = data.address
        if (
            p.hint.search(text)
            or p.hint_number.search(text)
            or p.of_person.search(text)
            or (_ENGLISH_PLACE.search(text) and p.english.search(text))
        ):
            hits.extend(_addresses(text, p))
    # What identifies a person is reported alone only when nothing else of theirs is:
    # 山田太郎さん（75歳、大間々町1234） is one finding. The town they live in first (it says
    # where to find them), then their age, class or a child's full name.
    reach = data.identity.window
    if data.residence.hint.search(text):
        hits.extend(_unless_near(hits, _residences(text, data.residence, data.address), reach))
    extra: list[Hit] = []
    identity = data.identity
    if identity.words.search(text) or (identity.right_after and identity.right_after.search(text)):
        extra.extend(_sensitive(text, identity, data.address))
    if "ちゃん" in text or "くん" in text:
        extra.extend(_children(text, data.address))
    hits.extend(_unless_near(hits, extra, reach))
    return hits


def _unless_near(hits: list[Hit], extra: Iterable[Hit], reach: int) -> list[Hit]:
    """The hits of ``extra`` with none of ``hits`` within ``reach`` characters.

    (The spans of ``hits`` sorted, with the furthest end so far: a bisection per hit.)"""
    kept: list[Hit] = []
    spans = sorted((h.start, h.end) for h in hits)
    starts = [start for start, _ in spans]
    furthest = list(accumulate((end for _, end in spans), max))
    for h in extra:
        k = bisect_left(starts, h.end + reach)
        if not (k and furthest[k - 1] > h.start - reach):
            kept.append(h)
    return kept


def _emails(text: str, settings: CheckSettings, data: PiiData) -> Iterable[Hit]:
    for m in _EMAIL.finditer(text):
        domain = m.group("domain").lower()
        if settings.official_domains and host_in(domain, settings.official_domains):
            continue
        if host_in(domain, data.private_mail):
            key = "pii.email_private"
        elif settings.official_domains:
            key = "pii.email_other"
        else:
            continue
        yield Hit("pii.email", Severity.WARNING, key, *m.span(), params={"domain": domain})


def _mobiles(text: str, settings: CheckSettings, data: PiiData) -> Iterable[Hit]:
    official = official_digits(settings)
    for m in data.mobile.finditer(text):
        if phone.digits_of(m.group(0)) in official:
            continue
        yield Hit("pii.mobile", Severity.ERROR, "pii.mobile", *m.span())


# What may stand between a name and the number after it on one line: 「小林 和夫さん 0277-…」
# 「野口さん（自宅 0277-…）」.
_TO_NUMBER = re.compile(
    r"(?:さん|様|さま)[ \t]*+(?:[(:、,]|電話|TEL|Tel|tel|自宅|連絡先)*+[ \t:]*+\Z"
)
_TO_NUMBER_LONGEST = 16


def _home_phones(text: str, settings: CheckSettings, data: PiiData) -> Iterable[Hit]:
    """A private person's phone number just after their name: 「小林 和夫さん 0277-45-1183」
    (a number as the phone rules read it, written with its 0; a mobile one is pii.mobile)."""
    official, p = official_digits(settings), data.address
    for m in phone.candidates(text):
        number = m.group(0)
        if not number.startswith(("0", "(0")) or phone.digits_of(number) in official:
            continue
        if data.mobile.match(text, m.start()):
            continue
        gap = _TO_NUMBER.search(text, max(0, m.start() - _TO_NUMBER_LONGEST), m.start())
        if gap is None:
            continue
        name = _name_or_kana_before(text, gap.start(), p)
        if name is None or not (
            _is_name(name.group(0), p) and _is_person(text, name.group(0), name.start(), p)
        ):
            continue
        yield Hit(
            "pii.home_phone",
            Severity.WARNING,
            "pii.home_phone",
            *m.span(),
            params={"name": text[name.start() : gap.start() + 2].strip()},
        )


_CHILD = re.compile("ちゃん|くん")


def _children(text: str, p: AddressPatterns) -> Iterable[Hit]:
    """A child's full name, family name and given name: 「野村 結衣ちゃん、安藤 大和くん」."""
    for m in _CHILD.finditer(text):
        name = _name_or_kana_before(text, m.start(), p)
        if name is None:
            continue
        written = name.group(0).strip()
        full = " " in written or 0 < _surname_at(text, name.start(), p) < len(written) - 1
        if not (full and _is_name(written, p) and _is_person(text, written, name.start(), p)):
            continue
        yield Hit("pii.child", Severity.WARNING, "pii.child", name.start(), m.end())


def check_digit(first11: str) -> int:
    """The My Number check digit of the first 11 digits (the official algorithm)."""
    total = sum(
        int(d) * (n + 1 if n <= 6 else n - 5) for n, d in enumerate(reversed(first11), start=1)
    )
    rest = total % 11
    return 0 if rest <= 1 else 11 - rest


def _my_numbers(text: str, data: PiiData) -> Iterable[Hit]:
    for m in _TWELVE.finditer(text):
        start, end = m.span()
        w = data.mynumber_window
        named = bool(
            data.mynumber_keywords.search(text, max(0, start - w), start)
            or data.mynumber_keywords.search(text, end, end + w)
        )
        if not named and data.other_numbers.search(text, max(0, start - 12), start):
            continue
        digits = _NOT_DIGIT.sub("", m.group(0))
        valid = check_digit(digits[:11]) == int(digits[11])
        if named or valid:
            yield Hit("pii.mynumber", Severity.ERROR, "pii.mynumber", start, end)
        else:
            yield Hit("pii.mynumber", Severity.WARNING, "pii.mynumber_maybe", start, end)


def luhn_valid(digits: str) -> bool:
    """Whether ``digits`` pass the Luhn check that every payment card number passes."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _cards(text: str, data: PiiData) -> Iterable[Hit]:
    for m in _CARD.finditer(text):
        if data.other_numbers.search(text, max(0, m.start() - 12), m.start()):
            continue
        written = m.group(0)
        separators = {ch for ch in written if not ch.isdigit()}
        if len(separators) > 1:
            continue
        digits = _NOT_DIGIT.sub("", written)
        if not luhn_valid(digits):
            continue
        brand = next((b for b in data.brands if b.issued(digits)), None)
        if brand is not None:
            yield Hit(
                "pii.card", Severity.ERROR, "pii.card", *m.span(), params={"brand": brand.name}
            )


# Where a sentence ends: what a name and a word must not have between them.
_SENTENCE_END = re.compile(r"[。!?\n]")
# What the decision "a private person's name ends here" reads before the honorific: the name
# (_NAME_LONGEST) and a role before it (_ROLE_BEFORE), with room to spare.
_DECIDED_BEFORE = 32


def _private_names(
    text: str, honorific: Lazy, p: AddressPatterns
) -> Iterator[tuple[re.Match[str], tuple[int, int], int]]:
    """Each honorific that ends a private person's name, the [lo, hi) of its sentence, and where
    the name starts. Whether a name ends at an honorific (and where it starts) is kept per the
    text it is decided on: a draft of one name a thousand times decides it once."""
    stops = [m.start() for m in _SENTENCE_END.finditer(text)]
    decided: dict[tuple[str, int], int | None] = {}
    for hm in honorific.finditer(text):
        at = hm.start()
        k = bisect_left(stops, at)
        lo = stops[k - 1] + 1 if k else 0
        hi = stops[k] if k < len(stops) else len(text)
        key = (text[max(0, at - _DECIDED_BEFORE) : at], min(at - lo, _DECIDED_BEFORE + 1))
        if key in decided:
            back = decided[key]
        else:
            begin = _private_name_start(text, at, lo, p)
            back = decided[key] = None if begin is None else at - begin
        if back is not None:
            yield hm, (lo, hi), at - back


def _sensitive(text: str, s: SensitivePatterns, p: AddressPatterns) -> Iterable[Hit]:
    """A private person's name and, in the same sentence a short way off, an illness, a crime,
    a debt or an office's number about them: 西田ヨシ子さん（86）は、昨年脳梗塞で倒れ… (or, for
    ``identity``, their birth date, school class or age: 5年2組の佐伯 陽菜さん).

    Each honorific is looked at once, the words and sentence ends found once and bisected, so a
    draft of thousands of names and words stays linear (but for a log factor).
    """
    words = [m.span() for m in s.words.finditer(text)]
    word_starts = [start for start, _ in words]
    speaking: dict[int, bool] = {}
    for hm, (lo, hi), start in _private_names(text, s.honorific, p):
        a, b = max(lo, start - s.window), min(hi, hm.end() + s.window)
        j = bisect_left(word_starts, a)
        right = s.right_after.match(text, hm.end(), hi) if s.right_after else None
        if (j == len(words) or words[j][1] > b) and right is None:
            continue  # no word of the list near this name
        if lo not in speaking:
            speaking[lo] = s.speaking.search(text, lo, hi) is not None
        if speaking[lo]:
            continue
        if right is not None:
            word = right.group("word")
            yield Hit(s.rule, Severity.WARNING, s.rule, start, hm.end(), params={"word": word})
        else:
            # The word named: the first after the name, else the last before it (not 容疑者 of
            # the name itself unless it is the only one).
            k = bisect_left(word_starts, hm.end(), lo=j)
            if k == len(words) or words[k][1] > b:
                k -= 1
                if k > j and words[k][1] > start:
                    k -= 1
            word = text[words[k][0] : words[k][1]]
            yield Hit(s.rule, Severity.WARNING, s.rule, start, hm.end(), params={"word": word})


def _private_name_start(text: str, at: int, lo: int, p: AddressPatterns) -> int | None:
    """Where the private person's name that ends at ``at`` (an honorific) starts, not before
    ``lo`` (its sentence); None when none does (a role, a group, a place, a word)."""
    name = _name_or_kana_before(text, at, p)
    if (
        name is None
        or name.start() < lo
        or not _is_name(name.group(0), p)
        or not _is_person(text, name.group(0), name.start(), p)
    ):
        return None
    return name.start()


# How far before a name its town and the words joining them (にお住まいで…している) are read.
_RESIDENCE_BEFORE = 56
# Characters on each side of a name that all of its residence tests read (the town before it,
# the brackets after it, a hashtag, a role): more than any of them reaches.
_LOCAL = 80
# How far from a name in a hashtag a hashtag of its place is looked for, on its line.
_TAG_WINDOW = 40
# How far before a name a prize (市長賞：) is read.
_AWARD_BEFORE = 30
# How far after what is reported 仮名 is read: 東町の山田さん（仮名）.
_ANONYMISED_AFTER = 6
# What ends a hashtag.
_TAG_ENDS = frozenset(" \t\n#")


def _residences(text: str, r: ResidencePatterns, p: AddressPatterns) -> Iterable[Hit]:
    """A private person's name and the town, 丁目 or district they live in, in one sentence:
    桜台3丁目の川口弘子様, 中央町在住の宮崎隆さん, 田中一郎さん（緑町）,
    #小池トヨさん #大間々町塩原.

    Each honorific is looked at once and reads a bounded stretch around it (whether its
    sentence makes the person a speaker is decided once per sentence), so the cost stays linear.
    """
    speaking: dict[int, bool] = {}
    lived: dict[tuple[str, int, int, bool, bool, bool], tuple[str, int, int] | None] = {}
    for hm, (lo, hi), start in _private_names(text, r.honorific, p):
        end = hm.end()
        # What follows reads only _LOCAL characters around the name: the same stretch (a name
        # repeated thousands of times) is judged once.
        a, b = max(lo, start - _LOCAL), min(hi, end + _LOCAL)
        local = (text[max(0, a - 1) : b + 1], start - a, end - a, a == lo, b == hi, a == 0)
        if local in lived:
            known = lived[local]
            found = None if known is None else (known[0], known[1] + a, known[2] + a)
        else:
            found = _lives_at(text, r, p, (lo, hi), (start, end))
            if found is not None and _not_as_a_resident(text, r, (lo, hi), start, found[1:]):
                found = None
            lived[local] = None if found is None else (found[0], found[1] - a, found[2] - a)
        if found is None:
            continue
        if lo not in speaking:
            speaking[lo] = r.speaking.search(text, lo, hi) is not None
        if speaking[lo]:
            continue  # 講師は、笠懸町在住の料理研究家 山田花子さんです
        place, first, last = found
        yield Hit(
            r.rule,
            Severity.WARNING,
            r.rule,
            first,
            last,
            params={"name": text[start:end], "place": place},
        )


def _not_as_a_resident(
    text: str, r: ResidencePatterns, sentence: tuple[int, int], start: int, span: tuple[int, int]
) -> bool:
    """Whether the person whose name starts at ``start`` and whose place and name take ``span``
    is given in a role or anonymised (東町の区長 山田さん, 画家の山田さん（東町）,
    山田さん（仮名・東町）)."""
    lo, hi = sentence
    first, last = span
    return bool(
        r.in_role.search(text, first, last)
        or r.in_role_before.search(text, max(lo, start - _ROLE_BEFORE), start)
        or r.anonymised.search(text, first, min(hi, last + _ANONYMISED_AFTER))
    )


def _lives_at(
    text: str,
    r: ResidencePatterns,
    p: AddressPatterns,
    sentence: tuple[int, int],
    name: tuple[int, int],
) -> tuple[str, int, int] | None:
    """The place where the person named at text[start:end] (``name``, with its honorific)
    lives, and the span of both, in the sentence text[lo:hi]."""
    lo, hi = sentence
    start, end = name
    reach = max(lo, start - _RESIDENCE_BEFORE)
    if text[start - 1 : start] in r.joins or r.lives_then.search(text, reach, start):
        before = r.before.search(text, reach, start)
        if before is not None and _is_town(before, r, p):
            return before.group("place"), before.start(), end
    after = r.after.match(text, end, hi)
    if (
        after is not None
        and _is_town(after, r, p)
        and not r.awards.search(text, max(lo, start - _AWARD_BEFORE), start)
    ):
        return after.group("place"), start, after.end()
    if text[start - 1 : start] != "#":
        return None
    # A hashtag of the name and one of the place on its line: #小池トヨさん83歳 #大間々町塩原.
    for tag in (
        r.tag.search(text, end, min(hi, end + _TAG_WINDOW)),
        r.tag.search(text, max(lo, start - _TAG_WINDOW), start - 1),
    ):
        if (
            tag is not None
            and (tag.end() == len(text) or text[tag.end()] in _TAG_ENDS)
            and _is_town(tag, r, p)
        ):
            return tag.group("place"), min(start, tag.start("place")), max(end, tag.end())
    return None


def _is_town(m: re.Match[str], r: ResidencePatterns, p: AddressPatterns) -> bool:
    """Whether the place matched names a town or district someone lives in: not 舞台, この地区,
    nor what follows a town's name but is no one's home (町民, 町長, 商工会, 商店街, 出身)."""
    place = m.group("place")
    if r.generic.search(place) or r.starts.match(place):
        return False
    oaza = m.group("oaza")
    return not oaza or not (
        r.not_place_ending.search(oaza) or p.not_place.search(oaza) or p.facility_tail.search(oaza)
    )


def _addresses(text: str, p: AddressPatterns) -> Iterable[Hit]:
    found: dict[tuple[int, int], None] = {}
    for hm in p.honorific.finditer(text):
        in_brackets = _in_brackets(text, hm.end(), p, district_ok=True)
        home_of = _after(p.home_of.match(text, hm.end()), text, p)
        if (
            in_brackets is None
            and home_of is None
            and not _ADDRESSEE_GAP.search(text, max(0, hm.start() - _NAME_LONGEST - 1), hm.start())
        ):
            continue  # no address, whoever the name (the dearer test) turns out to be
        name = _name_or_kana_before(text, hm.start(), p)
        if name is None or not _is_name(name.group(0), p):
            continue
        for address in (in_brackets, home_of, _addressee(text, name.start(), p)):
            if address is not None:
                found[address.span("addr")] = None
    # A name without an honorific, its home address in brackets: 高橋美咲（本町1-1-1）, also
    # the owner of a building: 林幸子が所有する建物（本町5-1-8）.
    pos = 0
    while (bracket := text.find("(", pos)) >= 0:
        pos = bracket + 1
        owner = p.owner_before.search(text, max(0, bracket - 30), bracket)
        before = owner.start("rest") if owner is not None else bracket
        name = _name_before(text, before, p)
        if (
            name is not None
            and (owner is not None or name.start() == 0 or text[name.start() - 1] in _NAME_BOUNDARY)
            and _is_name(name.group(0), p)
            and (address := _in_brackets(text, bracket, p)) is not None
        ):
            found[address.span("addr")] = None
    for m in p.at_home.finditer(text):
        address = _after(m, text, p)
        if address is not None:
            found[address.span("addr")] = None
    for m in p.label.finditer(text):
        if p.venue.search(text, max(0, m.start() - 8), m.start()) or _EXAMPLE.search(
            text, max(0, m.start() - _EXAMPLE_BEFORE), m.start()
        ):
            continue  # 記入例：住所 …, 送付先住所：…, 記入例：氏名「緑 太郎」、住所「…」
        address = _after(m, text, p)
        if address is not None and (
            _named_after(text, address.end(), p) or _named_before(text, m.start(), p)
        ):
            found[address.span("addr")] = None
    for m in p.of_person.finditer(text):
        person = p.person_after.match(text, m.end())
        if person is None or not _is_name(person.group("name"), p):
            continue  # the cheaper test first: most の are not followed by a name
        # Where someone lives (にお住まいの) makes even a bare number (大間々2210) a home.
        lives = m.group(0) != "の"
        address = _address_ending(text, m.start(), p, bare_ok=lives)
        if address is not None and not p.facility_after.match(text, address.end()):
            found[address.span("addr")] = None  # not のカフェで, の交差点付近で
    for span in _near(text, p):
        found[span] = None
    if _ENGLISH_PLACE.search(text):
        for m in p.english.finditer(text):
            if m.group("who") or m.group("to"):
                found[m.span("addr")] = None
    for first, end in _merged(found):
        start = first
        while text[start] in _PARTICLES:  # の家は本町1-2-3: the address starts after は
            start += 1
        yield Hit("pii.address", Severity.WARNING, "pii.address", start, end)


_PARTICLES = frozenset("はがをにでと")
# What every address in English has (2-8-4 Midorimachi): the long pattern runs only then.
_ENGLISH_PLACE = re.compile(r"\d,? [A-Z][a-z]")
_HIRAGANA = re.compile("[ぁ-ゖ]")


def _merged(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping spans found by several passes, reported once."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


# What a building's name before its room number is made of, read backwards.
_PLACE_CHARS = re.compile(r"[一-鿿々〆ヶァ-ヺー]")
# A place is an address only with an administrative unit in it (笠懸町阿左美, 北区, 大字).
_ADMIN = re.compile(r"[町村市区郡字]")
_TOWN = re.compile(r"[町村字][一-鿿々ヶ]{1,4}$")


def _with_kana_city(text: str, start: int) -> int:
    """Where an address that starts at ``start`` starts with its city: みどり市東町1-2-3."""
    at = start
    if text[start] == "市":
        while at > 0 and start - at < 8 and "ぁ" <= text[at - 1] <= "ゖ":
            at -= 1
    return at


def _home_spans(text: str, p: AddressPatterns) -> Iterable[tuple[int, int, bool]]:
    """Every place + house number (and building + room): start, end, whether the number is bare."""
    # Whether a place can be a home's, kept per place: a draft's places repeat (本町, 緑町).
    homely: dict[str, bool] = {}
    for m in p.number.finditer(text):
        place = m.group("place")
        if (home := homely.get(place)) is None:
            home = homely[place] = bool(_ADMIN.search(place)) and not p.not_place.search(place)
        if not home:
            continue
        bare = m.group("bare") is not None
        # A bare number is a house number after 町/村/字 (大間々町桐原1234), never a count.
        if bare and not (place.endswith(("町", "村", "字")) or _TOWN.search(place)):
            continue
        yield _with_kana_city(text, m.start()), m.end(), bare
    for m in p.room.finditer(text):
        start = m.start()
        while start > 0 and m.start() - start < 12 and _PLACE_CHARS.match(text, start - 1):
            start -= 1
        yield start, m.end(), False


def _near(text: str, p: AddressPatterns) -> Iterable[tuple[int, int]]:
    """A house number with a private person written just before or just after it."""
    near = _Near(text, p)
    for start, end, bare in _home_spans(text, p):
        if near(start, end, bare):
            yield start, end


class _Near:
    """Whether a house number of one draft has a private person just before or after it.

    The answer depends only on the text from ``_NEAR_BEFORE`` characters before the number to
    ``_NEAR_AFTER`` after it, on whether the draft leaves out honorifics (敬称略) and on whether a
    name field is near (``_NameFields`` reads the whole draft: it is asked first and its answer
    is part of the key). Before the number, _person_before reads the most: up to 28 characters
    of gap, 6 of honorific, 30 of name and the one before it, then 10 for a role before the name
    (_is_person), and _person_earlier reads _LIVES_WINDOW characters and 10 more; after it, the
    hint and the person's marker are looked for 40 characters on.
    Only the end of a plain name reads further, over spaces and tabs to the end of its line
    (plain_rest_after): a run of them at the end of the stretch is taken in whole, with the
    character after it. A draft that repeats an address (or its surroundings) decides it once.
    """

    __slots__ = ("_dropped", "_fields", "_known", "_p", "_person_after", "_text")

    def __init__(self, text: str, p: AddressPatterns) -> None:
        self._text, self._p = text, p
        self._fields = _NameFields(text, p)
        self._person_after = _PeopleAfter(text, p)
        self._dropped = "敬称略" in text
        self._known: dict[tuple[str, int, int, bool, bool], bool] = {}

    def __call__(self, start: int, end: int, bare: bool) -> bool:
        text = self._text
        lo, hi = max(0, start - _NEAR_BEFORE), end + _NEAR_AFTER
        if hi < len(text) and text[hi - 1] in " \t":
            blanks = _BLANKS.match(text, hi)
            assert blanks is not None  # it matches the empty string
            hi = blanks.end() + 1
        fields = self._fields.near(start, end)
        key = (text[lo:hi], start - lo, end - lo, bare, fields)
        if (known := self._known.get(key)) is None:
            known = self._known[key] = self._decide(start, end, bare, fields)
        return known

    def _decide(self, start: int, end: int, bare: bool, fields: bool) -> bool:
        text, p, person_after, dropped = self._text, self._p, self._person_after, self._dropped
        if _EXAMPLE.search(text, max(0, start - _EXAMPLE_BEFORE), start):
            return False  # 記入例：氏名「緑 太郎」、住所「みどり市中央町1丁目1番1号」
        if _plain_name_beside(text, start, end, bare, p):
            return True  # no honorific to hint at it: 本町1-2-3 田中一郎
        if p.lives_after.match(text, end) and _person_earlier(text, start, p):
            return True  # 山田さんは…、みどり国際寮204号室で暮らしながら
        if not dropped and not p.person_hint.search(text, max(0, start - 40), end + 40):
            return False  # no honorific, 宅, bracket or name field near: cheap to rule out
        if (venue := p.venue.search(text, max(0, start - 14), start)) or _facility_before(
            text, start, p
        ):
            # A place to go that is someone's home: 集合場所は、北町3-2-6の川口様方の前; but an
            # example (記入例：…) is nobody's.
            return (venue is None or "例" not in venue.group(0)) and person_after(
                end, adjacent=True
            )
        # A bare number (塩原333) is a house number before a name only in brackets after it;
        # the cheapest tests first.
        return (
            (not bare or text[end : end + 1] == ")")
            and (
                fields
                or (
                    _person_before(text, start, p, dropped=dropped)
                    and not p.facility_after.match(text, end)
                )
            )
        ) or person_after(end)


# How far before and after a house number _Near's decision reads (see there).
_NEAR_BEFORE = 80
_NEAR_AFTER = 40
_BLANKS = re.compile("[ \t]*")


# How far before a home that someone lives in (…で暮らしています) their name's honorific may
# be written; with the 10 characters _is_person reads before the name, within _NEAR_BEFORE.
_LIVES_WINDOW = 70


def _person_earlier(text: str, start: int, p: AddressPatterns) -> bool:
    """A private person named with an honorific in the ``_LIVES_WINDOW`` characters before."""
    lo = max(0, start - _LIVES_WINDOW)
    for hm in p.honorific.finditer(text, lo, start):
        name = _name_ending(text, lo, hm.start(), p)  # also before its reading: An（アン）さん
        if (
            name is not None
            and _is_name(name.group(0), p)
            and _is_person(text, name.group(0), name.start(), p)
        ):
            return True
    return False


def _plain_name_beside(text: str, start: int, end: int, bare: bool, p: AddressPatterns) -> bool:
    """A name without an honorific right beside the address, starting with a listed surname:
    佐藤一郎・本町1-2-3, 佐藤宅（本町1-2-3）, 本町1-2-3 田中一郎が, 本町1-2-3の山田家で, and a
    surname alone at the end of the line (飼い主：東町1-1-1 佐々木)."""
    beside = _plain_name_before(text, start, end, bare, p) or _plain_name_after(text, end, p)
    return beside and "例" not in text[max(0, start - 14) : start]  # 記入例：… is nobody's


# What may stand between a plain name and the address, before or after it.
_PLAIN_GAP_BEFORE = frozenset(" \t・/=、,(")
_PLAIN_GAP_AFTER = frozenset(" \t、,")
_PLAIN_NAME_RUN = re.compile(r"[一-鿿々ヶぁ-ゖァ-ヺー ]{2,8}\Z")


def _plain_name_before(text: str, start: int, end: int, bare: bool, p: AddressPatterns) -> bool:
    if start == 0 or text[start - 1] not in _PLAIN_GAP_BEFORE:
        return False  # the common case, decided at once
    gap = start - 1
    while gap > max(0, start - 3) and text[gap - 1] in _PLAIN_GAP_BEFORE:
        gap -= 1
    if (
        gap < 2
        or not _PLAIN_NAME_RUN.match(text, gap - 2, gap)  # no name of two characters ends here
        or (bare and text[end : end + 1] not in ("", "\n", ")", " "))
    ):
        return False
    run = _PLAIN_NAME_RUN.search(text, max(0, gap - 8), gap)  # the name's characters
    for at in range(run.start() if run else gap, gap - 1):
        length = _surname_at(text, at, p)
        rest = p.plain_rest.fullmatch(text, at + length, gap) if length else None
        if rest is not None:
            name = text[at : at + length] + (rest.group("given") or "")
            # 佐藤一郎 本町1-2-3 中央公民館: the address of the facility after it
            return _is_person(text, name, at, p) and not p.facility_after.match(text, end)
    return False


def _plain_name_after(text: str, end: int, p: AddressPatterns) -> bool:
    if text[end : end + 1] not in _PLAIN_GAP_AFTER and text[end : end + 1] not in ("の", "\n"):
        return False  # the common case, decided at once
    at = end
    while at < min(len(text), end + 3) and text[at] in _PLAIN_GAP_AFTER:
        at += 1
    if at == end and text[end : end + 1] in ("の", "\n"):
        at += 1
    gap = text[end:at]
    length = _surname_at(text, at, p) if gap else 0
    rest = p.plain_rest_after.match(text, at + length) if length else None
    if rest is None:
        return False
    if not _is_person(text, text[at : at + length] + (rest.group("given") or ""), at, p):
        return False
    if gap == "\n" or not (rest.group("given") or rest.group("house")):
        return rest.group("eol") is not None  # 本町1-2-3 佐藤 ends its line (or its quote)
    # 本町1-2-3の田中一郎 is the of_person pass's: after の only a household (の山田家).
    return gap != "の" or rest.group("house") is not None


def _surname_at(text: str, at: int, p: AddressPatterns) -> int:
    """The length of the listed surname starting at ``at`` and not inside a longer word, or 0."""
    if at > 0 and ("一" <= text[at - 1] <= "鿿" or text[at - 1] in "々ヶ"):
        return 0
    if text[at : at + 3] in p.surnames:
        return 3
    return 2 if text[at : at + 2] in p.surnames else 0


def _facility_before(text: str, start: int, p: AddressPatterns) -> bool:
    """〇〇商店（東町2-3）, 「そば処 やまだ」（…）: a facility or a named thing owns the address."""
    end = start
    while end > 0 and start - end < 3 and text[end - 1] in " (:":
        end -= 1
    if text[end - 1 : end] == "」":
        return True
    if text[end - 1 : end] not in p.facility_ends:
        return False  # no facility word ends here: the common case, decided at once
    tail = p.facility_tail.search(text, max(0, end - p.facility_longest), end)
    return tail is not None and text[tail.start() - 1 : end] != "住所"


class _PeopleAfter:
    """``_person_after`` for the house numbers of one draft.

    The numbers come left to right (then the rooms, left to right), and so do the stretches after
    them where a person's marker is looked for: a Sweep reads each character about once, however
    many numbers look at it. And the answer depends only on the text from ``_ROLE_BEFORE``
    characters before the number's end (what ``_is_person`` reads before a name, which starts at
    or after that end; the other patterns look back one character at most) to ``_PERSON_AFTER``
    after it (every search stops there): a draft that repeats an address works it out once.
    """

    __slots__ = ("_known", "_markers", "_p", "_text")

    def __init__(self, text: str, p: AddressPatterns) -> None:
        self._text, self._p = text, p
        marker = p.person_marker.compiled or p.person_marker.compile()
        self._markers = Sweep(marker, text, p.person_marker_reach)
        self._known: dict[tuple[str, int, bool], bool] = {}

    def __call__(self, end: int, *, adjacent: bool = False) -> bool:
        lo = max(0, end - _ROLE_BEFORE)
        key = (self._text[lo : end + _PERSON_AFTER], end - lo, adjacent)
        if (known := self._known.get(key)) is None:
            known = self._known[key] = _person_after(
                self._text, end, self._p, self._markers, adjacent=adjacent
            )
        return known


# How far after a house number a person's marker (さん, 宅, （72）) is looked for, and how far
# before a name a role (市長, 市民課) is.
_PERSON_AFTER = 40
_ROLE_BEFORE = 10


def _person_after(
    text: str, end: int, p: AddressPatterns, markers: Sweep, *, adjacent: bool = False
) -> bool:
    """の会社員 松田亮さん, にお住まいの加藤トメさん, 前川家の: a person a short gap after.

    ``adjacent``: only a person right after the address, の or a bracket (北町3-2-6の川口様方,
    南町5-5-5（鈴木さん宅の東側）).
    """
    # p.person_marker.search(text, end, …), the same
    marker = markers.search(end, min(len(text), end + _PERSON_AFTER))
    if marker is None:
        return False
    name = _name_ending(text, max(end, marker.start() - 30), marker.start(), p)
    if name is None:
        return False
    gap = text[end : name.start()]
    if adjacent and gap.strip() not in ("", "の", "("):
        return False
    if adjacent and p.role.search(name.group(0)):
        return False  # 整骨院 本町2-1-1（院長 長野さん）: staff of the place, not its resident
    if marker.group(0).startswith("(") and _HIRAGANA.search(name.group(0)):
        return False  # の子どもたち（12）: an age after a word, not after a name
    return (
        len(gap) <= 24
        # A sentence or line ends in between, unless the name is alone on the next line.
        and not (gap.strip() and p.gap_stop.search(gap))
        and not p.blocker.search(gap)
        and _is_person(text, name.group(0), name.start(), p)
    )


def _person_before(text: str, start: int, p: AddressPatterns, *, dropped: bool = False) -> bool:
    """鈴木一郎さん（72）、 / 松井健（ / 橋本様のご住所は: a person right before the address.

    ``dropped``: the draft says it leaves out honorifics (敬称略), so a bare full name counts.
    """
    at = start
    while at > max(0, start - 20):
        if text[at - 1] in _GAP_CHARS:
            at -= 1
        elif text[at - 1] in _GAP_TAIL_ENDS and (
            tail := p.gap_tail.search(text, max(0, at - 8), at)
        ):
            at = tail.start()
        else:
            break
    kind = p.kind_tail.search(text, max(0, at - 6), at) if text[at - 1 : at] in _KIND_ENDS else None
    if kind is not None:
        name = _name_ending(text, max(0, kind.start() - 30), kind.start(), p)
    elif text[at : at + 1] == "(" or (dropped and at < start):
        # 松井健（北町3-3-3）; in a list "（敬称略）" also 池田 勇 北町2-2-1.
        ends_well = at > 0 and _PLAIN_TAIL_ENDS.match(text, at - 1)
        name = p.plain_tail.search(text, max(0, at - 20), at) if ends_well else None
    else:
        return False
    return name is not None and _is_person(text, name.group(0), name.start(), p)


def _name_ending(text: str, lo: int, end: int, p: AddressPatterns) -> re.Match[str] | None:
    """The name that ends at ``end``, also before its reading: 菊地翔太（きくち しょうた）さん."""
    if text[end - 1 : end] == ")":
        reading = p.reading_tail.search(text, max(lo, end - 20), end)
        if reading is not None:
            end = reading.start()
    run = _NAME_RUN.search(text, max(lo, end - 16), end)
    if run is None:
        return None  # fast: no name can end here
    begin = run.start()
    # Most names start where the run of name characters starts; else (東町の鈴木) search.
    return p.name_tail.match(text, begin, end) or p.name_tail.search(text, begin, end)


# The run of name characters (any script) that ends where a name must end.
_NAME_RUN = re.compile(r"[一-鿿々ヶぁ-ゖァ-ヺーA-Za-z ・]++\Z")


# How what kind_tail matches can end: さん, 様, さま, 氏, 君, くん, ちゃん, 殿, and 宅, 方, 邸.
_KIND_ENDS = frozenset("ん様ま氏君殿宅方邸")


# How what plain_tail matches can end: a kanji of a name (a class narrower than this one) or a
# Latin letter; searched only where one ends, it does not try twenty places for nothing.
_PLAIN_TAIL_ENDS = re.compile(r"[一-鿿々ヶA-Za-z]")


# How what gap_tail matches can end: （72）, 72歳, のご住所は, 住所:, が住む, 住んでいる, 暮らす.
_GAP_TAIL_ENDS = frozenset(")歳才は:所むるす")


# What may stand between a name and the address after it: 鈴木一郎さん、本町…, 様／南町…
_GAP_CHARS = frozenset(" \t\n、,・/:([【=")


def _is_person(text: str, name: str, at: int, p: AddressPatterns) -> bool:
    """Whether the name matched reads as a private person's, not a role, group or thing."""
    name = name.strip()
    if name.startswith("の"):
        name = name[1:]
    if not name or p.roles.match(name) or p.role_before.search(text, max(0, at - _ROLE_BEFORE), at):
        return False
    if name in p.not_single_names:
        return False
    if "ぁ" <= name[-1] <= "ゖ" and (
        "の" in name
        or p.not_kana_name.search(name)
        or not ("一" <= name[0] <= "鿿" or len(name) >= 2)
    ):
        return False
    return not p.not_name.search(name)


class _NameFields:
    """Where the draft's name fields (氏名：佐藤花子) are, found once and only when asked."""

    def __init__(self, text: str, p: AddressPatterns) -> None:
        self.text, self.p = text, p
        self.starts: list[int] | None = None

    def near(self, start: int, end: int) -> bool:
        """住所：… and 氏名：… on neighbouring lines (either order)."""
        text, p = self.text, self.p
        if p.label_prefix.search(text, max(0, start - 8), start) is None:
            return False
        if self.starts is None:
            self.starts = [
                m.start()
                for m in p.name_field.finditer(text)
                if _is_person(text, m.group("name"), m.start("name"), p)
            ]
        i = bisect_left(self.starts, start - 40)
        return i < len(self.starts) and self.starts[i] <= end + 40


# What may stand right before a name written on its own (受賞者：高橋美咲, 「高橋美咲).
_NAME_BOUNDARY = frozenset(" \n\t:、,。「・")


def _after(anchor: re.Match[str] | None, text: str, p: AddressPatterns) -> re.Match[str] | None:
    """The home address that starts where ``anchor`` ends."""
    if anchor is None:
        return None
    address = p.address.match(text, anchor.end())
    return address if address is not None and _is_home(address, p) else None


def _in_brackets(
    text: str, start: int, p: AddressPatterns, *, district_ok: bool = False
) -> re.Match[str] | None:
    """山田太郎さん（緑町1-2-3）, also after a short note: （75歳、緑町1-2-3）, （住所：…）.

    ``district_ok``: also a town with its 丁目 and no house number (井上さくらさん（旭町4丁目）),
    after a name with an honorific: that narrows a person's home down to a few streets."""
    opening = p.bracket_open.match(text, start)
    if opening is None:
        return None
    first = opening.end()
    starts = [first]
    for i in range(first, min(first + 13, len(text))):
        if text[i] in "()":
            break
        if text[i] in ":、,・/ ":
            starts.append(i + 1)
    for at in starts:
        if at > first and p.blocker.search(text, first, at):
            break  # （田中医院・本町1-2-3）: the address of what is named first
        address = p.address.match(text, at)
        if (
            address is not None
            and p.bracket_close.match(text, address.end())
            and _is_home(address, p)
            and not p.facility_after.match(text, address.end())  # （東町2-2 東町集会所）
        ):
            return address
        district = p.district.match(text, at) if district_ok else None
        if district is not None and not p.not_place.search(district.group("place")):
            return district
    return None


# What stands between an addressee's address and name (one right before a name that starts
# at most _NAME_LONGEST characters before its honorific).
_ADDRESSEE_GAP = re.compile("[ 、,]")
_NAME_LONGEST = 16


def _addressee(text: str, name_start: int, p: AddressPatterns) -> re.Match[str] | None:
    """みどり市大間々町1234-5 佐藤花子様: the address right before a person's name."""
    end = name_start
    while end > 0 and text[end - 1] in " 、,":
        end -= 1
    if end == name_start:
        return None
    return _address_ending(text, end, p)


# How a house number (``number`` in _address_patterns) can end, but for a digit.
_NUMBER_ENDS = frozenset("番地号")


# What an address written on its own starts after (or it starts the text); but for a space,
# none of these is inside one.
_ADDRESS_AFTER = re.compile("[ \n\t:、,。「(]")
_NOT_IN_ADDRESS = "\n\t:、,。「("


def _address_starts(text: str, end: int, p: AddressPatterns) -> list[int]:
    """Where, in the 40 characters before ``end``, an address ending there may start.

    A label (住所：) is at most ``label_longest`` characters; after it, the address (postal code,
    place, house number) holds none of the characters it starts after, but for one space after
    the postal code. A start with more of them before ``end`` is not tried: a draft of many short
    pieces (1の 1の 1の …) costs a few tries at each の, not one per piece.
    """
    lo = max(0, end - 40)
    # The last character an address cannot hold: one it starts after (not a space), or the
    # space before the last.
    last_space = text.rfind(" ", lo, end - 1)
    before_last_space = text.rfind(" ", lo, last_space) if last_space > lo else -1
    cut = max(before_last_space, *(text.rfind(ch, lo, end - 1) for ch in _NOT_IN_ADDRESS))
    # Any start this far before it would hold it after its label.
    first = lo if cut < 0 else max(lo, cut - p.label_longest + 1)
    starts = [0] if first == 0 < end else []
    starts += [m.end() for m in _ADDRESS_AFTER.finditer(text, max(0, first - 1), end - 1)]
    return starts


def _address_ending(
    text: str, end: int, p: AddressPatterns, *, bare_ok: bool = False
) -> re.Match[str] | None:
    """A home address (not a venue's) that ends at ``end``; at most 40 tries, so linear."""
    last = text[end - 1 : end]
    if not (last.isdecimal() or last in _NUMBER_ENDS):
        return None  # every house number ends with a digit, 番, 地 or 号
    for at in _address_starts(text, end, p):
        label = p.label_prefix.match(text, at, end)
        address = p.address.fullmatch(text, label.end() if label else at, end)
        if address is None or not _is_home(address, p, bare_ok=bare_ok):
            continue
        begin = address.start("addr")
        return None if p.venue.search(text, max(0, begin - 10), begin) else address
    return None


def _named_after(text: str, end: int, p: AddressPatterns) -> bool:
    name = p.name_after.match(text, end)
    return name is not None and _is_name(name.group("name"), p)


def _named_before(text: str, label_start: int, p: AddressPatterns) -> bool:
    honorific = p.honorific_before_label.search(text, max(0, label_start - 6), label_start)
    if honorific is None:
        return False
    name = _name_before(text, honorific.start(), p)
    return name is not None and _is_name(name.group(0), p)


# The characters of what name_before matches (``name`` in _address_patterns), and of its
# katakana names; a name in kanji is at most 8 characters (3, a space, 4).
_NAME_BEFORE_RUN = re.compile(r"[一-鿿々ヶァ-ヺー ・]++\Z")
_KATAKANA_NAME_RUN = re.compile(r"[ァ-ヺー ・]++\Z")
_KANJI_NAME_LONGEST = 8


def _name_before(text: str, end: int, p: AddressPatterns) -> re.Match[str] | None:
    """The name that ends at ``end`` (16 characters at most).

    It can start only inside the run of name characters that ends there, and more than 8
    characters back only inside a run of katakana: searched from there, a draft of kanji and
    honorifics (町様町様…, 丁目様丁目様…) tries a few places per honorific, not sixteen.
    """
    if end == 0 or not _NAME_BEFORE_RUN.match(text, end - 1, end):
        return None  # no name character ends here (a bracket after a number): decided at once
    run = _NAME_BEFORE_RUN.search(text, max(0, end - _NAME_LONGEST), end)
    if run is None:
        return None
    lo = run.start()
    if lo < end - _KANJI_NAME_LONGEST:
        katakana = _KATAKANA_NAME_RUN.search(text, lo, end)
        lo = min(end - _KANJI_NAME_LONGEST, end if katakana is None else katakana.start())
    return p.name_before.search(text, lo, end)


def _name_or_kana_before(text: str, end: int, p: AddressPatterns) -> re.Match[str] | None:
    """The name that ends at ``end``, also one with a given name in kana (森 ゆい, 西田ヨシ子)
    when it reads as a person's."""
    name = _name_before(text, end, p)
    if name is None and (name := p.kana_given.search(text, max(0, end - 10), end)):
        return name if _is_person(text, name.group(0), name.start(), p) else None
    return name


def _is_home(m: re.Match[str], p: AddressPatterns, *, bare_ok: bool = False) -> bool:
    """Whether the matched place and number read like a home address."""
    place = m.group("place")
    if p.not_place.search(place):
        return False
    bare = m.group("bare")
    if bare_ok and bare and len(bare) >= 3:
        return True
    return not bare or place.endswith(("町", "村", "字", "丁目"))


def _is_name(name: str, p: AddressPatterns) -> bool:
    """Whether ``name`` reads like a private person's name, not a role, group or place."""
    name = p.roles.sub("", name)
    return len(name) >= 2 and not p.not_name.search(name) and not p.role.search(name)


def persons(text: str, end: int | None = None) -> list[tuple[int, int, str]]:
    """The private persons named in an NFKC text (up to ``end``): (start, end, name) of each
    name with its honorific, as pii's name tests accept it (a name that reads as a person's,
    not a role, a group or a place, with さん, 様, くん, ちゃん, 容疑者… after it; not 氏 or 殿,
    which the city writes of public figures and on certificates)."""
    d = data()
    p = d.address
    found: list[tuple[int, int, str]] = []
    for hm in d.sensitive.honorific.finditer(text, 0, len(text) if end is None else end):
        name = _name_or_kana_before(text, hm.start(), p)
        if name is None:
            continue
        written = name.group(0)
        if _is_name(written, p) and _is_person(text, written, name.start(), p):
            start = name.start() + len(written) - len(written.lstrip())
            found.append((start, hm.end(), written.strip()))
    return found


def check(ctx: CheckContext) -> Iterable[Finding]:
    """Findings of the pii family for one draft, then the person model's second opinion on
    the sentences that name a private person where the rules found nothing. When the draft says
    the people named agreed to it (pii.yaml ``consent``), what is said of a named person is
    information only."""
    d = data()
    found = list(findings(ctx, scan(ctx.norm, ctx.settings, d)))
    if not d.consent.search(ctx.norm.text):
        found.extend(person_model.findings(ctx, found, persons))
        return found
    return [replace(f, severity=Severity.INFO) if f.rule in d.consented else f for f in found]


@cache
@cached_data(DATA_FILE)
def data() -> PiiData:
    """The pii data, loaded, compiled and validated against its specs once."""
    return load(DATA_FILE)


def _reach(pattern: str) -> int:
    """How far past where it is tried ``pattern`` reads (for a Sweep): it must be bounded."""
    found = reach(re.compile(pattern))
    if found is None:
        raise ValueError(f"a pattern searched by Sweep must read a bounded stretch: {pattern!r}")
    return found


def _alternation(words: Iterable[Any]) -> str:
    return "|".join(re.escape(str(w)) for w in sorted(words, key=lambda w: -len(str(w))))


def _honorifics(words: Iterable[Any]) -> str:
    """The honorifics as one alternation, not where they end a word of their own: たくさん (read as
    the name たく), 様式, 様子, 様々 (新しい様式 read as the name 新しい)."""
    return rf"(?:{_alternation(words)})(?<!たくさん)(?!(?<=様)[式子々相態])"


def _words_or_patterns(items: Iterable[Any]) -> str:
    """An alternation of words (matched as written) and of ``{regex: …}`` entries."""
    words = [w for w in items if not isinstance(w, dict)]
    patterns = [str(w["regex"]) for w in items if isinstance(w, dict)]
    return "|".join([*(f"(?:{p})" for p in patterns), *([_alternation(words)] if words else [])])


# What a regular expression may start with that is not a plain character.
_REGEX_OPENERS = frozenset("[(.\\^$*+?{|")


def _sensitive_patterns(raw: dict[str, Any]) -> SensitivePatterns:
    """The ``sensitive`` entry: its words are regular expressions (NFKC, as drafts are read),
    each starting with a plain character, so that the alternation is scanned for by its first
    characters in C (one class or group first makes `re` try every place of the draft)."""
    words = [str(w) for kind in raw["words"].values() for w in kind]
    if bad := [w for w in words if not w or w[0] in _REGEX_OPENERS]:
        raise ValueError(f"sensitive words must start with a plain character: {bad}")
    return SensitivePatterns(
        rule=str(raw["rule"]),
        words=Lazy(unicodedata.normalize("NFKC", "|".join(f"(?:{w})" for w in words))),
        honorific=Lazy(_honorifics(raw["honorifics"])),
        speaking=Lazy(_words_or_patterns(raw["speaking"])),
        window=int(raw["window"]),
        right_after=Lazy(str(raw["right_after"])) if "right_after" in raw else None,
    )


def _brand(raw: dict[str, Any]) -> Brand:
    ranges = []
    for prefix in raw["prefixes"]:
        lo, _, hi = str(prefix).partition("-")
        ranges.append((lo, hi or lo))
    return Brand(str(raw["name"]), tuple(ranges), frozenset(int(n) for n in raw["lengths"]))


def _mobile_pattern(prefixes: Iterable[Any]) -> re.Pattern[str]:
    national = _alternation(prefixes)
    international = _alternation(str(p)[1:] for p in prefixes)
    sep = f"[ {_H}]?"
    intl = rf"\+ ?81[ {_H}]?(?:\(0\)[ {_H}]?)?(?:{international})"
    return re.compile(
        rf"(?<![0-9A-Za-z/#=@_%+{_H}])(?<![0-9][.,: ])"
        rf"(?:{intl}|\((?:{national})\)|(?:{national}))"
        rf"{sep}\d{{4}}{sep}\d{{4}}(?![0-9])(?![{_H}]\d)"
    )


def _class_without(first: str, last: str, excluded: str, *, extra: str = "") -> str:
    """A character class of ``first``–``last`` without ``excluded`` (one class: fast to match)."""
    ranges: list[str] = []
    lo = ord(first)
    for cut in sorted(ord(ch) for ch in excluded):
        if lo < cut:
            ranges.append(f"{chr(lo)}-{chr(cut - 1)}" if cut - 1 > lo else chr(lo))
        lo = cut + 1
    ranges.append(f"{chr(lo)}-{last}")
    return "[" + "".join(ranges) + extra + "]"


def _surnames(listed: Iterable[Any]) -> frozenset[str]:
    names = frozenset(str(n) for n in listed)
    if any(not 2 <= len(n) <= 3 for n in names):
        raise ValueError("address.surnames: every surname has two or three characters")
    return names


# What someone does, written between their address or town and their name:
# 1540-8の会社員、荒井隆さん, 南町の自営業、宮本 孝さん.
_OCCUPATIONS = (
    "会社員|公務員|団体職員|主婦|主夫|農業|自営業|無職|学生|大学生|高校生|中学生|小学生"
    "|パート|アルバイト|年金生活者|方"
)
_OCCUPATION = rf"(?:{_OCCUPATIONS})、?"

# The characters of a place's name (but a first run in hiragana: みどり台).
_PLACE_CHARS_CLASS = "一-鿿々〆ヶァ-ヺー"


def _residence_patterns(raw: dict[str, Any], address: dict[str, Any]) -> ResidencePatterns:
    k = f"[{_PLACE_CHARS_CLASS}]"
    numeral = "[一二三四五六七八九十]"
    # A place's name starts after what is no part of it (a particle, a bracket, #); one starting
    # in hiragana (みどり台) after what is no hiragana either. Its last part is the unit: a 丁目,
    # 地区, 台, 団地, 丘, or 町/村 with the 大字 after it (笠懸町鹿, 大間々町塩原); or 大字 first.
    head = (
        rf"(?:(?<![ぁ-ゖ{_PLACE_CHARS_CLASS}])[ぁ-ゖ]{{2,4}}{k}{{0,8}}"
        rf"|(?<![{_PLACE_CHARS_CLASS}]){k}{{1,8}})"
    )
    place = (
        rf"(?P<place>{head}(?:(?:[1-9][0-9]?|{numeral}{{1,3}})丁目|地区|台|団地|[ヶケが]丘"
        rf"|[町村](?P<oaza>(?!在住)[一-鿿々ヶ]{{1,4}})?)"
        rf"|(?<![{_PLACE_CHARS_CLASS}])大字[一-鿿々ヶ]{{1,6}})"
    )
    lives = _alternation(raw["lives"])
    lives_then = _alternation(raw["lives_then"])
    family = _alternation(address["family_words"])
    note = r"[^()\n]{1,12}"  # 82, 82歳, 会社員: beside the town in the brackets
    return ResidencePatterns(
        rule=str(raw["rule"]),
        honorific=Lazy(_honorifics(raw["honorifics"])),
        hint=Lazy("[町村台丘]|地区|丁目|団地|大字"),
        joins=frozenset(
            [str(w)[-1] for w in raw["lives"]]
            + [w[-1] for w in _OCCUPATIONS.split("|")]
            + ["の", "、"]
        ),
        lives_then=Lazy(lives_then),
        before=Lazy(
            # (what comes between: no other clause, nor 方 of 東町にお住まいでお困りの方は)
            rf"{place}(?:(?:{lives_then})[^。!?\n、,方]{{0,24}}|(?:{lives})|の(?:{_OCCUPATION})?)\Z"
        ),
        after=Lazy(
            rf"(?:{family})?\s?\((?:{note}?[、,・/ ])?{place}(?:在住|にお住まい)?"
            rf"(?:[、,・/ ]{note})?\)"
        ),
        tag=Lazy(rf"#{place}"),
        generic=Lazy(rf"(?:{_alternation(raw['generic_places'])})\Z"),
        starts=Lazy(rf"(?:{_alternation(raw['not_place_starts'])})"),
        not_place_ending=Lazy(rf"(?:{_alternation(raw['not_place_endings'])})\Z"),
        speaking=Lazy(_words_or_patterns(raw["speaking"])),
        in_role=Lazy(_alternation(raw["in_role"])),
        in_role_before=Lazy(rf"(?:{_alternation(raw['in_role'])})[\s:・の、]*\Z"),
        anonymised=Lazy(_alternation(raw["anonymised"])),
        awards=Lazy(_alternation(raw["awards"])),
    )


def _address_patterns(raw: dict[str, Any]) -> AddressPatterns:
    h = _H
    # The house number: 1-2-3, 1234-5, 3丁目4番5号, 1234番地, 12番地の3, or a bare 1234 (checked).
    number = (
        rf"(?:(?:[1-9]\d{{0,2}}|[一二三四五六七八九十]{{1,3}})丁目[1-9]\d{{0,3}}(?:番地?(?:[1-9]\d{{0,3}}号?)?"
        rf"|[{h}][1-9]\d{{0,3}}(?:[{h}]\d{{1,4}})?)?"
        rf"|[1-9]\d{{0,4}}番地?(?:の?[1-9]\d{{0,3}}号?|[{h}][1-9]\d{{0,3}})?"
        rf"|[1-9]\d{{0,4}}(?:[{h}]\d{{1,5}}){{1,3}}"
        rf"|[1-9]\d{{0,4}}の[1-9]\d{{0,3}}"
        rf"|(?P<bare>[1-9]\d{{0,4}}))"
        rf"(?![0-9])(?![{h}]\d)(?![年月日時分人名円回歳才%])"
    )
    place = r"(?P<place>[一-鿿々〆ヶぁ-ゖァ-ヺー]{0,19}[一-鿿々ヶァ-ヺ])"
    postal = rf"(?:〒?\d{{3}}[{h}]\d{{4}} ?)?"
    honorific = _honorifics(raw["honorifics"])
    # 山田太郎, 加藤トメ (a given name in katakana), スミス・ジョン.
    katakana_name = r"[ァ-ヺー]{2,10}(?:[・ ][ァ-ヺー]{2,10})?"
    name = rf"[一-鿿々ヶ]{{1,3}} ?(?:[一-鿿々ヶ]{{1,4}}|[ァ-ヺ]{{2,3}})|{katakana_name}"
    # Also a given name in hiragana, but only before an honorific: 山田ゆいちゃん.
    lazy_name = (
        rf"[一-鿿々ヶ]{{1,3}}? ?(?:[一-鿿々ヶ]{{1,4}}?|[ァ-ヺ]{{2,3}})|{katakana_name}"
        r"|[一-鿿々ヶ]{1,3}[ぁ-ゖ]{2,4}(?=さん|ちゃん|くん|君|様)"
    )
    occupation = _OCCUPATION
    labels = _alternation(raw["labels"])
    home = _alternation(raw["home_words"])
    home_of = "宅|方|邸|のお宅|の家"
    # A person after an address and の: 緑町1-2-3の鈴木次郎が, 緑町1-2-3にお住まいの田中花子さん.
    of_person = r"(?<=[0-9号番地目])(?:にお住まいの|に住む|在住の|在住、|在住 |の)"
    person_end = r"さん|様|氏|君|くん|ちゃん|宅|方|邸|の家|が|は|で|です|から|に|を|[\s、,。)]|\Z"
    # The proximity pass. Numbers in kanji too (三丁目五番); a bare number only after 町/村/字.
    numeral = "[一二三四五六七八九十百千〇]"
    kd = f"{numeral}{{1,6}}"
    d = rf"(?:[1-9]\d{{0,4}}|{kd})"
    place_char = "[一-鿿々〆ヶァ-ヺー]"
    house = (
        # Every house number starts with a digit, or is in numerals with 丁目 and a number after
        # it, or 番地. Cheap tests of that spare the full one (a place of up to 16 characters
        # tried at each length) at most places of a long run of kanji: a 1-9, 丁 or 番 within
        # the 23 characters a place, a space and numerals can take, read once (possessive).
        rf"(?={place_char}[^1-9丁番]{{0,22}}+[1-9丁番])"
        rf"(?={place_char}{{1,16}} ?(?:[1-9]|{numeral}{{1,6}}+(?:丁目(?:[1-9]|{numeral})|番地)))"
        rf"(?P<place>{place_char}{{1,16}}) ?"
        rf"(?P<num>(?:{d}丁目{d}(?:番地?(?:の?{d}号?)?|[{h}][1-9]\d{{0,3}}(?:[{h}]\d{{1,4}})?)?"
        # In kanji only with 番地: 一番 is "the best", 千二百三十四番地 a house number.
        rf"|(?:[1-9]\d{{0,4}}番地?|{kd}番地)(?:の?{d}号?|[{h}][1-9]\d{{0,3}})?"
        rf"|[1-9]\d{{0,4}}(?:[{h}]\d{{1,5}}){{1,3}}"
        rf"|[1-9]\d{{0,4}}の[1-9]\d{{0,3}}"
        rf"|(?P<bare>[1-9]\d{{1,4}})))"
        rf"(?![0-9])(?![{h}]\d)(?![年月日時分人名円回歳才%号棟階線位点件台本枚個冊匹頭軒世kmgm])"
    )
    residence = _alternation(raw["residence_words"])
    # ハイツ緑201号室, コーポみどり102号, ハイツ本町B-202, みどり団地5-302, and a room someone
    # lives in without its building (203号室に住む); 市役所の301号室 is a meeting room.
    room = (
        rf"(?:{residence})[ぁ-ゖァ-ヺー一-鿿々A-Za-z]{{0,8}}? ?(?:[A-Z][{h}]?|\d{{1,2}}[{h}])?"
        rf"(?:\d{{1,4}}号室?(?![0-9線館棟車機地])|\d{{3,4}}(?![0-9号]))"
        rf"|(?<![0-9{h}])\d{{3,4}}号室(?=に住|にお住まい|在住)"
    )
    # A kanji of a name: never an honorific or 宅 that follows it (岩田様方 is 岩田 + 様方).
    kanji = _class_without("一", "鿿", "様氏君殿宅方邸家", extra="々ヶ")
    # A person's name in any script: 山田太郎, 森田 聡, 小林さくら, やまだ たろう,
    # グエン・ヴァン・ナム, Taro Yamada / YAMADA Hanako.
    kana_name = r"(?<![ぁ-ゖ])[ぁ-ゖ]{2,10}(?: [ぁ-ゖ]{2,6})?"
    latin_name = r"(?<![A-Za-z])[A-Z][A-Za-z]+ [A-Z][A-Za-z]+"
    any_name = (
        rf"(?<!{kanji}){kanji}{{1,4}}(?: ?(?:{kanji}|[ァ-ヺ]){{1,4}})?"
        r"(?:[ぁ-ゖ]{2,4})?"
        # Also one capital letter for a name kept back (Aさん宅): these names end at an honorific.
        rf"|{katakana_name}|{latin_name}|(?<![A-Za-z])[A-Z]|{kana_name}"
    )
    kind = rf"\s?(?:{honorific})"
    # A couple or a household named by one of them: 鈴木一郎さん・花子さんご夫妻（…）.
    family = _alternation(raw["family_words"])
    # A name without an honorific: a listed surname, then a given name or 家/宅/邸/方.
    not_given = "から|まで|より|など|ほか|です|にて"  # 松本まで: a particle, no given name
    given = rf"(?:{kanji}{{1,3}}|(?!{not_given})[ぁ-ゖ]{{2,4}}|[ァ-ヺー]{{2,4}})"
    given_or_house = rf"(?: ?(?P<given>{given})|(?P<house>家|宅|邸|方))"
    english_title = r"(?<![A-Za-z])(?:Mr|Ms|Mrs|Miss|Mx)\.?"
    english_of = r", | (?:of|at|from|in|lives at|living at|who lives at) | ?\("
    # Capitalised words that name a place or start a sentence, not a person.
    english_word = (
        r"(?:City|Town|Central|Public|Community|Civic|Hall|Library|Cent(?:er|re)|Station|Park"
        r"|School|Office|Shop|Store|Hotel|Hospital|Museum|Gym|Building|Plaza|Clinic|Cafe|Bank"
        r"|Post|Church|Temple|Shrine|Market|House|Garden|Thanks?|Many|Welcome|Visit|Address"
        r"|Venue|Place|Contact|Our|The|We|Please|Open|Opening)(?![a-z])"
    )
    english_place = (
        r"(?<![0-9-])[1-9]\d{0,4}(?:-\d{1,5}){1,3},? [A-Z][a-z]+(?:-[a-z]+)?(?![0-9a-z-])"
        r"(?! (?:Clinic|Hall|Library|Cent(?:er|re)|Station|Park|School|Office|Shop|Store|Hotel"
        r"|Hospital|Museum|Gym|Building|Plaza))"
    )
    age = r"\(\d{1,3}歳?\)"
    # 宅 of 住宅, 自宅 and 帰宅, 邸 of 邸跡 (a site) belong to no one named before them.
    person_marker = rf"{kind}|(?<![住自帰在社舎])宅(?![地配])|方|邸(?!跡)|家の|{age}"
    facility = _alternation(raw["facility_words"])
    venue = _alternation(raw["venue_words"])
    role = _alternation(raw["role_words"])
    fields = _alternation(raw["name_fields"])
    return AddressPatterns(
        number=Lazy(house),
        room=Lazy(room),
        # Literal first characters where the meaning allows, so that `re` skips ahead in C.
        person_hint=Lazy(rf"{honorific}|宅|方|邸|家|\(|{fields}"),
        lives_after=Lazy(r"(?:で|に)(?:暮らし|暮らす|住ん|住み|住む|生活し|生活す|在住)|在住"),
        kana_given=Lazy(r"[一-鿿々ヶ]{1,3} ?(?:[ァ-ヺ]{2,3}子|[ぁ-ゖ]{2,4})\Z"),
        district=Lazy(
            rf"(?P<addr>(?P<place>{place_char}{{1,8}}?)(?:[1-9]\d?|{numeral}{{1,3}})丁目)(?=\))"
        ),
        person_marker=Lazy(person_marker),
        person_marker_reach=_reach(person_marker),
        name_tail=Lazy(rf"(?:{any_name})\Z"),
        # In English: Ms. Yuko Aoki of 2-8-4 Midorimachi / 2-8-4 Omama-cho, Mr. Taro Sato, and a
        # full name without a title set off before it (Taro Tanaka, 1-2-3 Honcho).
        english=Lazy(
            rf"(?P<who>(?:{english_title}) ?[A-Z][a-z]+(?: [A-Z][a-z]+)?(?:{english_of})?"
            rf"|(?<![A-Za-z])(?!{english_word})[A-Z][a-z]+ (?!{english_word})[A-Z][a-z]+"
            rf"(?:{english_of}))?"
            rf"(?P<addr>{english_place})(?=(?P<to>,? (?:{english_title}) ?[A-Z]))?"
        ),
        reading_tail=Lazy(r"\([ぁ-ゖァ-ヺー ・]{2,16}\)\Z"),
        gap_stop=Lazy(r"[。\n!?]"),
        kind_tail=Lazy(rf"{kind}(?:宅|方|邸|{family})?\Z"),
        # Without an honorific, only a full name set apart: 受賞者：松井健（北町3-3-3）.
        plain_tail=Lazy(
            rf"(?<![^\s、,:「・\n])(?:{kanji}{{3,6}}|{kanji}{{1,3}} {kanji}{{1,3}}|{latin_name})\Z"
        ),
        gap_tail=Lazy(
            rf"(?:{age}|\d{{1,3}}[歳才]|(?:宅|のお宅|の自宅|の家|の?ご?住所)?(?:は|:)|の?ご?住所"
            r"|[がの](?:住む|住んでいる|暮らす))\Z"
        ),
        # A facility, or anything named in brackets (「そば処 やまだ」（…）), owns the address.
        facility_tail=Lazy(rf"(?:{facility})\Z"),
        facility_longest=max(len(str(w)) for w in raw["facility_words"]),
        facility_ends=frozenset(str(w)[-1] for w in raw["facility_words"]),
        label_longest=max(len(str(w)) for w in raw["labels"]) + 1,
        facility_after=Lazy(
            rf"\)?\s?(?:の|にある)?[一-鿿ァ-ヺー]{{0,8}}?(?:{facility})(?![一-鿿])"
        ),
        blocker=Lazy(rf"(?:{facility})(?![一-鿿])|{role}"),
        role_before=Lazy(rf"(?:{role})[\s:・の]*\Z"),
        role=Lazy(role),
        name_field=Lazy(rf"(?:{fields})\s*:?\s*(?P<name>{any_name})"),
        surnames=_surnames(raw["surnames"]),
        plain_rest=Lazy(given_or_house),
        plain_rest_after=Lazy(
            rf"{given_or_house}?"
            r"(?=(?P<eol>[ \t]*(?:\n|\Z|[」』)]))|[ \t、。,(!?]|が|は|と|に|を|で|から)"
        ),
        not_kana_name=Lazy(_alternation(raw["not_kana_names"])),
        not_single_names=frozenset(str(w) for w in raw["not_single_names"]),
        # With of_person, what any pass starts from; a house number is one too (a name without
        # an honorific may stand beside it). Literals, so that re skips ahead in C to where one
        # can start; the numbers apart, starting with one class for the same reason (1-2, 3番,
        # 町12): in one expression, the classes would make re try every place of the draft.
        hint=Lazy(rf"{honorific}|{labels}|{home}|\(|宅|方|家|{fields}|号室|{residence}|丁目|番地"),
        hint_number=Lazy(
            rf"[0-9町村字](?:(?<=[0-9])(?:[{h}][0-9]|番)|(?<=[町村字])[一-鿿々]{{0,4}}[1-9][0-9])"
        ),
        honorific=Lazy(honorific),
        addressee_honorifics=frozenset(("様", "さま", "殿")),
        name_before=Lazy(rf"(?:{name})\Z"),
        name_after=Lazy(
            rf"[\s、,]+(?:氏名[:\s]*)?(?P<name>{name})(?=(?:{honorific})|[\s、,。)]|\Z)"
        ),
        address=Lazy(rf"(?P<addr>{postal}{place}{number})"),
        bracket_open=Lazy(rf"(?:{home_of}|{family})?\s?\("),
        bracket_close=Lazy(r"(?:在住|にお住まい)?(?:[、, ][^()]{0,40})?\)"),
        home_of=Lazy(rf"(?:{home_of})[:\s]{{0,2}}"),
        at_home=Lazy(rf"(?:{home})(?:は|:|\s|\()*"),
        label=Lazy(rf"(?:{labels})(?:は|:|\s)*"),
        honorific_before_label=Lazy(rf"(?:{honorific})\s?[(、,]?\s?(?:の)?\Z"),
        label_prefix=Lazy(rf"(?:{labels})(?:は|:)?"),
        of_person=Lazy(of_person),
        owner_before=Lazy(r"(?P<rest>(?:が所有する|の所有する|が持つ|名義の)[^()、。]{0,10})\Z"),
        # The shortest name that ends where a person's name can end (鈴木 in 鈴木宅).
        person_after=Lazy(rf"(?:{occupation})?(?P<name>{lazy_name})(?={person_end})"),
        not_name=Lazy(f"(?:{_alternation(raw['not_name_endings'])})$"),
        not_place=Lazy(f"(?:{_alternation(raw['not_place_endings'])})$"),
        roles=Lazy(f"^(?:{_alternation(raw['role_prefixes'])})[ :]?"),
        venue=Lazy(venue),
    )


def load(path: str) -> PiiData:
    """Load pii data from ``path`` and run every entry's specs (RuleDataError on failure)."""
    raw = load_yaml(path)
    try:
        my = raw["mynumber"]
        compiled = PiiData(
            private_mail=frozenset(str(d).lower() for d in raw["private_mail"]["domains"]),
            mobile=_mobile_pattern(raw["mobile"]["prefixes"]),
            mynumber_keywords=re.compile(_alternation(my["keywords"])),
            mynumber_window=int(my["window"]),
            other_numbers=re.compile(f"(?:{_alternation(my['other_numbers'])})[^\\d]{{0,4}}$"),
            brands=tuple(_brand(b) for b in raw["cards"]["brands"]),
            address=_address_patterns(raw["address"]),
            sensitive=_sensitive_patterns(raw["sensitive"]),
            identity=_sensitive_patterns(raw["identity"]),
            residence=_residence_patterns(raw["residence"], raw["address"]),
            consent=Lazy("|".join(f"(?:{p})" for p in raw["consent"]["patterns"])),
            consented=frozenset(str(r) for r in raw["consent"]["rules"]),
        )
        compiled.consent.compile()
        for patterns in (
            compiled.address,
            compiled.sensitive,
            compiled.identity,
            compiled.residence,
        ):
            for field in fields(patterns):  # a malformed pattern fails here, not in a check
                pattern = getattr(patterns, field.name)
                if isinstance(pattern, Lazy):
                    pattern.compile()
    except (KeyError, TypeError, AttributeError, ValueError, re.error) as exc:
        raise RuleDataError(f"{path}: malformed pii data: {exc!r}") from exc
    names = (
        "private_mail",
        "other_mail",
        "mobile",
        "mynumber",
        "cards",
        "address",
        "sensitive",
        "identity",
        "residence",
    )
    for name in (*names, "clean"):
        if name in raw:
            run_specs(path, name, raw[name], lambda n, s: scan(n, s, compiled))
    return compiled


RULE = Rule("pii", check)
