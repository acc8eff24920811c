"""Phone numbers: malformed Japanese numbers, and numbers missing from the official list.

Manual §6 ② asks staff to check every phone number in a draft. A fixed line has 10 digits: the
area code and the local exchange together make 6 (0277-12-3400, 03-1234-5678), then 4 digits.
Mobile numbers (070/080/090) are personal data and are reported by ``pii``, never here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from workflows.checks.context import CheckContext, Rule
from workflows.checks.data import RuleDataError, cached_data, load_yaml
from workflows.checks.hits import Hit, findings, run_specs
from workflows.checks.model import Finding, Severity
from workflows.checks.settings import CheckSettings
from workflows.checks.text import NormalizedText

DATA_FILE = "phone.yaml"

# Hyphen look-alikes staff type between groups (NFKC keeps these; "－" is already "-").
HYPHENS = "-‐‑‒–—―−ー"
_CANDIDATE = re.compile(
    r"""
    # Never right after these: the digits would be part of a date, time, amount, code or URL;
    # but TEL0277-12-3400 (also ℡, which NFKC writes TEL) and FAX… are labels.
    # A hyphen before counts only after a digit or letter: センター(0277)… has a long-vowel mark.
    # A slash counts only in a URL or after a digit: （直通）/0277-12-343 is a list.
    (?:(?<![0-9A-Za-z+\#=@_%$¥&?])(?<![0-9A-Za-z][{H}])(?<![0-9][.,:])(?<![0-9A-Za-z./:_]/)
      |(?<=TEL)|(?<=Tel)|(?<=tel)|(?<=FAX)|(?<=Fax))
    (?:
        (?P<intl>\+\ ?81[\ {H}]?(?:\(0\)[\ {H}]?)?)
        (?: (?P<ia>\d{1,5})[{H}](?P<ib>\d{1,6})(?:[{H}](?P<ic>\d{1,6}))? | (?P<ix>\d{9,11}) )
      | \((?P<pa>0\d{1,4})\)[\ {H}]?(?P<pb>\d{1,6})(?:[{H}](?P<pc>\d{1,6}))?
      | (?P<qa>0\d{1,4})\ ?\((?P<qb>\d{1,6})\)\ ?(?P<qc>\d{1,6})
      | (?P<a>0\d{0,5})[{H}](?P<b>\d{1,8})(?:[{H}](?P<c>\d{1,6})(?:[{H}](?P<d>\d{1,4}))?)?
      # Spaces separate groups only in the plain 3-group shape: "0277 12 3400" (or "0277 12 340").
      | (?P<sa>0\d{1,4})\ (?P<sb>\d{1,4})\ (?P<sc>\d{2,5})
      # The leading 0 lost: "277-12-3400" (checked: labelled, or an official number's digits).
      | (?P<na>[1-9]\d{1,3})[{H}](?P<nb>\d{1,4})[{H}](?P<nc>\d{4})
      | (?P<bare>0\d{5,12})
    )
    (?![0-9])(?![{H}(]\d)
    """.replace("{H}", re.escape(HYPHENS)),
    re.VERBOSE,
)
# The digit groups of every shape above, in order; a match fills one shape's groups.
_GROUPS: tuple[str, ...] = ("ia", "ib", "ic", "ix", "pa", "pb", "pc", "qa", "qb", "qc")
_GROUPS += ("a", "b", "c", "d", "sa", "sb", "sc", "na", "nb", "nc", "bare")
_NOT_DIGIT = re.compile(r"\D")


@dataclass(frozen=True, slots=True)
class Kind:
    """Numbers that share a prefix: how many digits they have and how staff call them."""

    name: str
    prefixes: tuple[str, ...]
    digits: int
    label_ja: str
    label_en: str
    example: str = ""  # a correctly written number of this kind, for the message
    geographic: bool = False
    ignore: bool = False


@dataclass(frozen=True, slots=True)
class PhoneData:
    label: re.Pattern[str]
    other_label: re.Pattern[str]  # 注文番号, No.: the next digits are not a phone number
    kinds: tuple[Kind, ...]  # longest prefix first

    def kind_of(self, national: str) -> Kind:
        for kind in self.kinds:
            if national.startswith(kind.prefixes):  # any of them (in C)
                return kind
        raise AssertionError("phone.yaml has no catch-all kind")  # prevented by the loader


def candidates(text: str) -> Iterator[re.Match[str]]:
    """Every phone number of an NFKC text as written, in any shape the phone rules read (before
    they judge it): for other rules that need to know where numbers are (pii.home_phone)."""
    return _CANDIDATE.finditer(text)


def digits_of(number: str) -> str:
    """The digits of a written number in national form (+81 becomes a leading 0)."""
    s = unicodedata.normalize("NFKC", number).strip()
    if not s.startswith("+"):
        return _NOT_DIGIT.sub("", s)
    digits = _NOT_DIGIT.sub("", s.replace("(0)", ""))
    if not digits.startswith("81"):
        return digits
    rest = digits[2:]
    return rest if rest.startswith("0") else "0" + rest


def official_digits(settings: CheckSettings) -> frozenset[str]:
    """The official phone numbers, as digits in national form."""
    return _official_digits(settings.official_phone_numbers)


@cache
def _official_digits(numbers: tuple[str, ...]) -> frozenset[str]:
    return frozenset(digits_of(n) for n in numbers)


@cache
def _official_forms(numbers: tuple[str, ...]) -> frozenset[str]:
    return frozenset(_hyphenated(n) for n in numbers)


def _hyphenated(written: str) -> str:
    s = unicodedata.normalize("NFKC", written).strip()
    return re.sub(f"[{re.escape(HYPHENS)}() ]+", "-", s).strip("-")


@cache
def _phonenumbers() -> Any:
    # Imported on first use: it costs ~50 ms of start-up and most drafts have no number.
    import phonenumbers  # noqa: PLC0415

    return phonenumbers


@lru_cache(maxsize=4096)
def national_format(national: str) -> str | None:
    """How the numbering plan groups a number (0277-12-3400), or None when it cannot tell."""
    pn = _phonenumbers()
    try:
        parsed = pn.parse(national, "JP")
    except pn.NumberParseException:
        return None
    if not pn.is_valid_number(parsed):
        return None
    formatted: str = pn.format_number(parsed, pn.PhoneNumberFormat.NATIONAL)
    return formatted if "-" in formatted else None


def scan(norm: NormalizedText, settings: CheckSettings, data: PhoneData) -> list[Hit]:
    """Every phone problem in a normalised text."""
    text = norm.text
    if not any(ch.isdigit() for ch in text):
        return []
    hits: list[Hit] = []
    official = official_digits(settings)
    for m in _CANDIDATE.finditer(text):
        hit = _judge(m, text, settings, data, official)
        if hit is not None:
            hits.append(hit)
    return hits


def _judge(
    m: re.Match[str],
    text: str,
    settings: CheckSettings,
    data: PhoneData,
    official: frozenset[str],
) -> Hit | None:
    start, end = m.span()
    groups = [x for x in m.group(*_GROUPS) if x]
    intl = m.group("intl") is not None
    lost_zero = m.group("na") is not None
    if (intl or lost_zero) and not groups[0].startswith("0"):
        groups[0] = "0" + groups[0]
    national = "".join(groups)
    kind = data.kind_of(national)
    if kind.ignore and _zero_too_many(groups, national, official, settings):
        # 00277-12-3400: the city's number with a 0 typed twice, not an international call.
        kind = data.kind_of(national[1:])
    elif kind.ignore:
        return None
    bare = m.group("bare") is not None or m.group("ix") is not None
    labelled = intl or data.label.search(text, max(0, start - 24), start) is not None
    # The city's own area code and exchange (0277-12-…) make it a phone number even unlabelled.
    ours = _official_exchange(groups, settings)
    if not (labelled or ours) and data.other_label.search(text, max(0, start - 12), start):
        return None  # 注文番号 0123-456-789, No.0277-12: another kind of number
    if lost_zero:
        # 277-12-3400 is 0277-12-3400 without its 0; otherwise a code of some other kind.
        if not (labelled or national in official) or national_format(national) is None:
            return None
        return _broken(start, end, "phone.malformed_zero", national, settings)
    count = len(national)
    labelled = labelled or ours
    if bare:
        # An unlabelled run of digits is a phone number only when the numbering plan says so.
        if not labelled and (count != kind.digits or national_format(national) is None):
            return None
    elif not labelled and count < 10 and not (count == 9 and _grouped(m, text)):
        # Nine digits in groups after an area code is a fixed line that lost a digit.
        return None
    if count < 6:
        return None

    if count != kind.digits:
        closest = _closest_official(national, settings)
        return Hit(
            "phone.malformed",
            Severity.ERROR,
            "phone.malformed_digits_official" if closest else "phone.malformed_digits",
            start,
            end,
            suggestion=closest or None,
            params={
                "kind_ja": kind.label_ja,
                "kind_en": kind.label_en,
                "expected": kind.digits,
                "actual": count,
                "official": closest,
                "example": kind.example,
            },
        )
    if kind.geographic and len(groups) == 4:
        return _broken(start, end, "phone.malformed_shape", national, settings)
    if kind.geographic and len(groups) == 2 and _misgrouped(groups, national, settings):
        # 0277-123400, 0277123-400: one hyphen missing or out of place.
        return _broken(start, end, "phone.malformed_shape", national, settings)
    if kind.geographic and len(groups) == 3:
        area, exchange, subscriber = groups
        if len(subscriber) != 4 or len(area) + len(exchange) != 6 or not 2 <= len(area) <= 5:
            return _broken(start, end, "phone.malformed_shape", national, settings)
        written = "-".join(groups)
        expected = national_format(national)
        if (
            expected is not None
            and expected != written
            and written not in _official_forms(settings.official_phone_numbers)
        ):
            return Hit(
                "phone.area-code",
                Severity.WARNING,
                "phone.area_code",
                start,
                end,
                suggestion=expected,
                params={"expected": expected},
            )
    if official and national not in official:
        return Hit("phone.unlisted", Severity.WARNING, "phone.unlisted", start, end)
    return None


def _broken(start: int, end: int, key: str, national: str, settings: CheckSettings) -> Hit:
    """A number with 10 digits in the wrong groups (or without its 0): say how to write it."""
    closest = _closest_official(national, settings)
    fixed = closest or national_format(national) or ""
    return Hit(
        "phone.malformed",
        Severity.ERROR,
        key,
        start,
        end,
        suggestion=fixed or None,
        params={"fixed": fixed or "0277-12-3400"},
    )


def _misgrouped(groups: list[str], national: str, settings: CheckSettings) -> bool:
    """Two groups where the numbering plan has three, unless the city writes its number so."""
    expected = national_format(national)
    if expected is None or expected.count("-") != 2:
        return False
    return "-".join(groups) not in _official_forms(settings.official_phone_numbers)


def _zero_too_many(
    groups: list[str], national: str, official: frozenset[str], settings: CheckSettings
) -> bool:
    """Whether a number starting 00 is an official one (or of its exchange) with one 0 more."""
    if not national.startswith("00"):
        return False
    return national[1:] in official or _official_exchange([groups[0][1:], *groups[1:]], settings)


def _official_exchange(groups: list[str], settings: CheckSettings) -> bool:
    """Whether the area code and exchange are an official number's (0277-12-… of 0277-12-3400)."""
    if len(groups) < 3:
        return False
    prefix = "-".join(groups[:2]) + "-"
    return any(form.startswith(prefix) for form in _official_forms(settings.official_phone_numbers))


def _closest_official(national: str, settings: CheckSettings) -> str:
    """The official numbers one or two digits away (0277-12-3400), as the city writes them."""
    best: list[str] = []
    least = 3
    for written in settings.official_phone_numbers:
        distance = _edit_distance(national, digits_of(written))
        if distance < least:
            best, least = [written], distance
        elif distance == least:
            best.append(written)
    return "」または「".join(best[:2]) if 0 < least <= 2 else ""


@lru_cache(maxsize=4096)
def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance of two short digit strings (a digit dropped, added or mistyped)."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, start=1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


def _grouped(m: re.Match[str], text: str) -> bool:
    """Whether the number is written in groups after an area code (0277-12-340, 0277-12340)."""
    start, end = m.span()
    if text[start - 1 : start] == "第" or text[end : end + 1] == "号":
        return False  # 第01-234-5678号: a numbered document
    if m.group("pa") is not None or m.group("qa") is not None:
        return True
    if m.group("sa") is not None:
        return len(m.group("sa")) >= 2
    area = m.group("a")
    return (
        area is not None and len(area) >= 2 and (m.group("c") is not None or len(m.group("b")) >= 4)
    )


def check(ctx: CheckContext) -> Iterable[Finding]:
    """Findings of the phone family for one draft."""
    return findings(ctx, scan(ctx.norm, ctx.settings, data()))


@cache
@cached_data(DATA_FILE)
def data() -> PhoneData:
    """The phone data, loaded, compiled and validated against its specs once."""
    return load(DATA_FILE)


def load(path: str) -> PhoneData:
    """Load phone data from ``path`` and run every entry's specs (RuleDataError on failure)."""
    raw = load_yaml(path)
    try:
        words = sorted((str(w) for w in raw["labels"]["words"]), key=len, reverse=True)
        # The label may be followed by a colon, a bracketed note or a section name: 電話（代表）：
        label = re.compile("(?:" + "|".join(map(re.escape, words)) + r")[^\d\n]{0,10}\Z")
        others = sorted((str(w) for w in raw["other_numbers"]["words"]), key=len, reverse=True)
        other_label = re.compile("(?:" + "|".join(map(re.escape, others)) + r")[^\d\n]{0,6}\Z")
        kinds = [
            Kind(
                name=str(k["name"]),
                prefixes=tuple(str(p) for p in k["prefixes"]),
                digits=int(k.get("digits", 0)),
                label_ja=str(k.get("label", {}).get("ja", "")),
                label_en=str(k.get("label", {}).get("en", "")),
                example=str(k.get("example", "")),
                geographic=bool(k.get("geographic", False)),
                ignore=bool(k.get("ignore", False)),
            )
            for k in raw["kinds"]
        ]
    except (KeyError, TypeError, AttributeError, ValueError, re.error) as exc:
        raise RuleDataError(f"{path}: malformed phone data: {exc!r}") from exc
    kinds.sort(key=lambda k: max(len(p) for p in k.prefixes), reverse=True)
    if not any("" in k.prefixes for k in kinds):
        raise RuleDataError(f'{path}: kinds: one kind needs the catch-all prefix ""')
    compiled = PhoneData(label, other_label, tuple(kinds))
    entries: list[tuple[str, Any]] = [("labels", raw["labels"])]
    entries += [(f"kinds[{k['name']}]", k) for k in raw["kinds"]]
    names = ("other_numbers", "not_phone_numbers", "unlisted")
    entries += [(name, raw[name]) for name in names if name in raw]
    for name, entry in entries:
        run_specs(path, name, entry, lambda n, s: scan(n, s, compiled))
    return compiled


RULE = Rule("phone", check)
