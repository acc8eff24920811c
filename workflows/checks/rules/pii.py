"""Personal information (manual §5 ③): private e-mail, mobile numbers, My Number, payment
cards, and a private person's name next to a home address.

Every finding points at the personal datum itself (the address, the number), so the drafter sees
exactly what to remove.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from workflows.checks.context import CheckContext, Rule
from workflows.checks.data import RuleDataError, cached_data, load_yaml
from workflows.checks.hits import Hit, findings, run_specs
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
# 12 digits as one run or 4-4-4 with one kind of separator; never part of a longer number.
_TWELVE = re.compile(
    rf"(?<![0-9A-Za-z/#=@_%+{_H}])(?<![0-9][.,: ])\d{{4}}(?P<sep>[ {_H}]?)\d{{4}}(?P=sep)\d{{4}}"
    rf"(?![0-9])(?![ {_H}.,]\d)(?!円)"
)
_CARD = re.compile(
    rf"(?<![0-9A-Za-z/#=@_%+{_H}])(?<![0-9][.,: ])\d(?:[ {_H}]?\d){{12,18}}(?![0-9])(?![ {_H}]\d)"
)
_NOT_DIGIT = re.compile(r"\D")


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


@dataclass(frozen=True, slots=True)
class AddressPatterns:
    """How a home address shows next to a person.

    Only ``address``, ``name_before`` and ``name_after`` hold the large kanji/kana classes (each
    costs milliseconds to compile); the others are cheap anchors matched where those end or start.
    """

    hint: re.Pattern[str]
    honorific: re.Pattern[str]
    addressee_honorifics: frozenset[str]
    name_before: re.Pattern[str]  # a name that ends where an honorific starts
    name_after: re.Pattern[str]  # 住所：… 佐藤花子
    address: re.Pattern[str]
    bracket_open: re.Pattern[str]  # 山田太郎さん（
    bracket_close: re.Pattern[str]
    home_of: re.Pattern[str]  # 鈴木一郎様方
    at_home: re.Pattern[str]  # 自宅（
    label: re.Pattern[str]  # 住所：
    honorific_before_label: re.Pattern[str]  # 佐藤花子様の住所
    label_prefix: re.Pattern[str]
    not_name: re.Pattern[str]
    not_place: re.Pattern[str]
    roles: re.Pattern[str]
    venue: re.Pattern[str]
    of_person: re.Pattern[str]  # 緑町1-2-3の / にお住まいの, right after a house number
    owner_before: re.Pattern[str]  # 林幸子|が所有する建物, right before a bracket
    person_after: re.Pattern[str]  # 鈴木次郎が, 高橋美咲さん


def scan(norm: NormalizedText, settings: CheckSettings, data: PiiData) -> list[Hit]:
    """Every piece of personal information in a normalised text."""
    text = norm.text
    hits: list[Hit] = []
    if "@" in text:
        hits.extend(_emails(text, settings, data))
    if any(ch.isdigit() for ch in text):
        hits.extend(_mobiles(text, settings, data))
        hits.extend(_my_numbers(text, data))
        hits.extend(_cards(text, data))
        if data.address.hint.search(text):
            hits.extend(_addresses(text, data.address))
    return hits


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


def _addresses(text: str, p: AddressPatterns) -> Iterable[Hit]:
    found: dict[tuple[int, int], None] = {}
    for hm in p.honorific.finditer(text):
        name = p.name_before.search(text, max(0, hm.start() - 16), hm.start())
        if name is None or not _is_name(name.group(0), p):
            continue
        for address in (
            _in_brackets(text, hm.end(), p),
            _after(p.home_of.match(text, hm.end()), text, p),
            _addressee(text, name.start(), p),
        ):
            if address is not None:
                found[address.span("addr")] = None
    # A name without an honorific, its home address in brackets: 高橋美咲（本町1-1-1）, also
    # the owner of a building: 林幸子が所有する建物（本町5-1-8）.
    pos = 0
    while (bracket := text.find("(", pos)) >= 0:
        pos = bracket + 1
        owner = p.owner_before.search(text, max(0, bracket - 30), bracket)
        before = owner.start("rest") if owner is not None else bracket
        name = p.name_before.search(text, max(0, before - 16), before)
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
        address = _after(m, text, p)
        if address is not None and (
            _named_after(text, address.end(), p) or _named_before(text, m.start(), p)
        ):
            found[address.span("addr")] = None
    for m in p.of_person.finditer(text):
        # Where someone lives (にお住まいの) makes even a bare number (大間々2210) a home.
        lives = m.group(0) != "の"
        address = _address_ending(text, m.start(), p, bare_ok=lives)
        person = p.person_after.match(text, m.end())
        if address is not None and person is not None and _is_name(person.group("name"), p):
            found[address.span("addr")] = None
    for span in sorted(found):
        yield Hit("pii.address", Severity.WARNING, "pii.address", *span)


# What may stand right before a name written on its own (受賞者：高橋美咲, 「高橋美咲).
_NAME_BOUNDARY = frozenset(" \n\t:、,。「・")


def _after(anchor: re.Match[str] | None, text: str, p: AddressPatterns) -> re.Match[str] | None:
    """The home address that starts where ``anchor`` ends."""
    if anchor is None:
        return None
    address = p.address.match(text, anchor.end())
    return address if address is not None and _is_home(address, p) else None


def _in_brackets(text: str, start: int, p: AddressPatterns) -> re.Match[str] | None:
    """山田太郎さん（緑町1-2-3）, also after a short note: （75歳、緑町1-2-3）, （住所：…）."""
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
        address = p.address.match(text, at)
        if (
            address is not None
            and p.bracket_close.match(text, address.end())
            and _is_home(address, p)
        ):
            return address
    return None


def _addressee(text: str, name_start: int, p: AddressPatterns) -> re.Match[str] | None:
    """みどり市大間々町1234-5 佐藤花子様: the address right before a person's name."""
    end = name_start
    while end > 0 and text[end - 1] in " 、,":
        end -= 1
    if end == name_start:
        return None
    return _address_ending(text, end, p)


def _address_ending(
    text: str, end: int, p: AddressPatterns, *, bare_ok: bool = False
) -> re.Match[str] | None:
    """A home address (not a venue's) that ends at ``end``; at most 40 tries, so linear."""
    for at in range(max(0, end - 40), end):
        if at and text[at - 1] not in " \n\t:、,。「(":
            continue
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
    name = p.name_before.search(text, max(0, honorific.start() - 16), honorific.start())
    return name is not None and _is_name(name.group(0), p)


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
    return len(name) >= 2 and not p.not_name.search(name)


def check(ctx: CheckContext) -> Iterable[Finding]:
    """Findings of the pii family for one draft."""
    return findings(ctx, scan(ctx.norm, ctx.settings, data()))


@cache
@cached_data(DATA_FILE)
def data() -> PiiData:
    """The pii data, loaded, compiled and validated against its specs once."""
    return load(DATA_FILE)


def _alternation(words: Iterable[Any]) -> str:
    return "|".join(re.escape(str(w)) for w in sorted(words, key=lambda w: -len(str(w))))


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
    honorific = _alternation(raw["honorifics"])
    # 山田太郎, 加藤トメ (a given name in katakana), スミス・ジョン.
    katakana_name = r"[ァ-ヺー]{2,10}(?:[・ ][ァ-ヺー]{2,10})?"
    name = rf"[一-鿿々ヶ]{{1,3}} ?(?:[一-鿿々ヶ]{{1,4}}|[ァ-ヺ]{{2,3}})|{katakana_name}"
    # Also a given name in hiragana, but only before an honorific: 山田ゆいちゃん.
    lazy_name = (
        rf"[一-鿿々ヶ]{{1,3}}? ?(?:[一-鿿々ヶ]{{1,4}}?|[ァ-ヺ]{{2,3}})|{katakana_name}"
        r"|[一-鿿々ヶ]{1,3}[ぁ-ゖ]{2,4}(?=さん|ちゃん|くん|君|様)"
    )
    # What someone does, written between the address and the name: 1540-8の会社員、荒井隆さん.
    occupation = (
        r"(?:会社員|公務員|団体職員|主婦|主夫|農業|自営業|無職|学生|大学生|高校生|中学生|小学生"
        r"|パート|アルバイト|年金生活者)、?"
    )
    labels = _alternation(raw["labels"])
    home = _alternation(raw["home_words"])
    home_of = "宅|方|邸|のお宅|の家"
    # A person after an address and の: 緑町1-2-3の鈴木次郎が, 緑町1-2-3にお住まいの田中花子さん.
    of_person = r"(?<=[0-9号番地目])(?:にお住まいの|に住む|在住の|在住、|在住 |の)"
    person_end = r"さん|様|氏|君|くん|ちゃん|宅|方|邸|の家|が|は|で|です|から|に|を|[\s、,。)]|\Z"
    return AddressPatterns(
        hint=re.compile(rf"{honorific}|{labels}|{home}|{of_person}|\("),
        honorific=re.compile(honorific),
        addressee_honorifics=frozenset(("様", "さま", "殿")),
        name_before=re.compile(rf"(?:{name})\Z"),
        name_after=re.compile(
            rf"[\s、,]+(?:氏名[:\s]*)?(?P<name>{name})(?=(?:{honorific})|[\s、,。)]|\Z)"
        ),
        address=re.compile(rf"(?P<addr>{postal}{place}{number})"),
        bracket_open=re.compile(rf"(?:{home_of})?\s?\("),
        bracket_close=re.compile(r"(?:在住|にお住まい)?(?:[、, ][^()]{0,40})?\)"),
        home_of=re.compile(rf"(?:{home_of})[:\s]{{0,2}}"),
        at_home=re.compile(rf"(?:{home})(?:は|:|\s|\()*"),
        label=re.compile(rf"(?:{labels})(?:は|:|\s)*"),
        honorific_before_label=re.compile(rf"(?:{honorific})\s?[(、,]?\s?(?:の)?\Z"),
        label_prefix=re.compile(rf"(?:{labels})(?:は|:)?"),
        of_person=re.compile(of_person),
        owner_before=re.compile(
            r"(?P<rest>(?:が所有する|の所有する|が持つ|名義の)[^()、。]{0,10})\Z"
        ),
        # The shortest name that ends where a person's name can end (鈴木 in 鈴木宅).
        person_after=re.compile(rf"(?:{occupation})?(?P<name>{lazy_name})(?={person_end})"),
        not_name=re.compile(f"(?:{_alternation(raw['not_name_endings'])})$"),
        not_place=re.compile(f"(?:{_alternation(raw['not_place_endings'])})$"),
        roles=re.compile(f"^(?:{_alternation(raw['role_prefixes'])})[ :]?"),
        venue=re.compile(_alternation(raw["venue_words"])),
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
        )
    except (KeyError, TypeError, AttributeError, ValueError, re.error) as exc:
        raise RuleDataError(f"{path}: malformed pii data: {exc!r}") from exc
    for name in ("private_mail", "other_mail", "mobile", "mynumber", "cards", "address", "clean"):
        if name in raw:
            run_specs(path, name, raw[name], lambda n, s: scan(n, s, compiled))
    return compiled


RULE = Rule("pii", check)
