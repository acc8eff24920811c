"""`postgate init`: a first app.yaml from the two lists a city already has.

- The account table of its social-media manual (CSV: 所属, アカウント名, SNS種別, URL/ID, 運用方針).
- Its staff list (CSV: 氏名, 所属, 役職, Slack ID, Teams ID).

What the lists do not say is asked for when a person is at the terminal (``ask`` is given), else
taken from the options or from safe defaults; what was guessed, and what is still to be filled
in, is listed afterwards. The file written always passes ``postgate config check``.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from bot.config import REQUIRED_CREDENTIALS, ConfigError, parse_config
from workflows.catalogue import Lang, message
from workflows.checks.model import Platform
from workflows.errors import PostgateError

Ask = Callable[[str], str]

ACCOUNT_COLUMNS = ("所属", "アカウント名", "SNS種別", "URL/ID", "運用方針")
STAFF_COLUMNS = ("氏名", "所属", "役職", "Slack ID", "Teams ID")
STAFF_OPTIONAL = frozenset({"Slack ID", "Teams ID"})

_PLATFORMS: Mapping[str, Platform] = {
    "x": Platform.X,
    "twitter": Platform.X,
    "ツイッター": Platform.X,
    "エックス": Platform.X,
    "facebook": Platform.FACEBOOK,
    "フェイスブック": Platform.FACEBOOK,
    "instagram": Platform.INSTAGRAM,
    "インスタグラム": Platform.INSTAGRAM,
    "line": Platform.LINE,
    "ライン": Platform.LINE,
}
_CHIEF = re.compile(r"(課|館|所|室|部|局|園|センター|所属)長$")
_DEPUTY = re.compile(r"(補佐|代理|副)")
_CITY_PROMOTION = re.compile(r"(プロモーション|広報)")
_DIGITAL_PROMOTION = re.compile(r"(デジタル|情報政策|情報システム|DX)")
_MUNICIPALITY = re.compile(r"([一-龥ぁ-んァ-ヶー]+?[都道府県市区町村])")
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
_SLACK_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,}$")
_TEAMS_ID = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")


class InitError(PostgateError):
    """The lists cannot make an app.yaml; says which line and what to change."""

    def __init__(self, key: str, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(key, params)

    def message(self, lang: Lang = Lang.JA) -> str:
        return message(f"init.error.{self.key}", lang, **self.params)

    def __str__(self) -> str:
        return self.message()


@dataclass(frozen=True)
class Options:
    organisation: str | None = None
    city_promotion: str | None = None
    digital_promotion: str | None = None
    drafts_channel: str | None = None
    approvals_channel: str | None = None
    alerts_channel: str | None = None


@dataclass
class Result:
    """The app.yaml text and what the administrator should do next (catalogue texts)."""

    text: str
    next_steps: list[str] = field(default_factory=list)
    sections: int = 0


def read_csv(
    path: Path, columns: Sequence[str], *, optional: frozenset[str] = frozenset()
) -> list[dict[str, str]]:
    """Rows of a CSV saved by Excel (UTF-8 with or without BOM, or Shift_JIS), by column name."""
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp932"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InitError("encoding", path=path)
    reader = csv.DictReader(io.StringIO(text))
    header = {_column(name): name for name in reader.fieldnames or ()}
    missing = [c for c in columns if c not in header and c not in optional]
    if missing:
        raise InitError(
            "columns", path=path, missing="、".join(missing), expected="、".join(columns)
        )
    rows = []
    for record in reader:
        row = {c: (record.get(header[c]) or "").strip() if c in header else "" for c in columns}
        if any(row.values()):
            rows.append(row)
    return rows


def _column(name: str) -> str:
    """A header as typed in Excel: full-width letters, spaces and slashes made ordinary."""
    text = unicodedata.normalize("NFKC", name or "").strip()
    text = re.sub(r"\s*/\s*", "/", text)
    return re.sub(r"(?i)^slack\s*id$", "Slack ID", re.sub(r"(?i)^teams\s*id$", "Teams ID", text))


def build(
    accounts: Sequence[Mapping[str, str]],
    staff: Sequence[Mapping[str, str]],
    options: Options,
    *,
    ask: Ask | None,
    lang: Lang = Lang.JA,
) -> Result:
    """The app.yaml for these lists; raises InitError for what cannot be decided."""
    say: Callable[..., str] = lambda key, **p: message(f"init.{key}", lang, **p)  # noqa: E731
    steps: list[str] = []
    members, member_of = _members(staff, steps, say)
    names_in_staff = [m["section"] for m in members]
    section_names = list(dict.fromkeys([*names_in_staff, *(a["所属"] for a in accounts)]))
    for i, row in enumerate(accounts, start=2):
        if not row["所属"]:
            raise InitError("account_no_section", line=i)
    city_promotion = _choose(
        options.city_promotion,
        names=section_names,
        pattern=_CITY_PROMOTION,
        ask=ask,
        question=say("ask.city_promotion"),
        required="city_promotion",
        lang=lang,
    )
    digital = _choose(
        options.digital_promotion,
        names=section_names,
        pattern=_DIGITAL_PROMOTION,
        ask=ask,
        question=say("ask.digital_promotion"),
        required=None,
        lang=lang,
    )
    sections = [
        _section(
            name,
            members=members,
            titles=member_of,
            city_promotion=city_promotion,
            digital=digital,
            ask=ask,
            steps=steps,
            say=say,
        )
        for name in section_names
    ]
    organisation = options.organisation or _municipality(accounts)
    if not organisation and ask is not None:
        organisation = ask(say("ask.organisation")).strip()
    if not organisation:
        raise InitError("organisation")
    account_items = _accounts(accounts, city_promotion, steps, say)
    channels = _channels(options, ask, steps, say)
    document: dict[str, Any] = {
        "organisation": {"name": organisation},
        "sections": sections,
        "members": [{k: v for k, v in m.items() if v} for m in members],
        "accounts": account_items,
    }
    if channels:
        document["channels"] = channels
    document["business_hours"] = {
        "timezone": "Asia/Tokyo",
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "start": "08:30",
        "end": "17:15",
        "closed_on_holidays": True,
    }
    steps.append(say("next.business_hours"))
    text = say("header") + yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)
    try:
        parse_config(text, source="app.yaml")
    except ConfigError as exc:  # a bug here, or lists this code does not foresee
        raise InitError("invalid", problems="\n".join(exc.lines(lang))) from None
    steps.append(say("next.check"))
    return Result(text, steps, sections=len(sections))


def _members(
    staff: Sequence[Mapping[str, str]], steps: list[str], say: Callable[..., str]
) -> tuple[list[dict[str, str]], dict[str, str]]:
    members: list[dict[str, str]] = []
    titles: dict[str, str] = {}
    used: set[str] = set()
    without_slack = []
    for i, row in enumerate(staff, start=2):
        name, section = row["氏名"], row["所属"]
        if not name or not section:
            raise InitError("staff_incomplete", line=i)
        slack = unicodedata.normalize("NFKC", row.get("Slack ID", "")).strip().upper()
        teams = row.get("Teams ID", "").strip().lower()
        if slack and not _SLACK_USER.match(slack):
            raise InitError("slack_id", line=i, value=slack)
        if teams and not _TEAMS_ID.match(teams):
            raise InitError("teams_id", line=i, value=teams)
        member_id = slack.lower() if slack else f"member{i - 1:03d}"
        while member_id in used:
            member_id += "x"
        used.add(member_id)
        if not slack:
            without_slack.append(name)
        members.append(
            {
                "id": member_id,
                "name": name,
                "section": section,
                "slack_user_id": slack,
                "teams_aad_id": teams,
            }
        )
        titles[member_id] = row.get("役職", "")
    if without_slack:
        steps.append(say("next.no_slack_id", names="、".join(without_slack)))
    steps.append(say("next.member_ids"))
    return members, titles


def _section(
    name: str,
    *,
    members: Sequence[Mapping[str, str]],
    titles: Mapping[str, str],
    city_promotion: str,
    digital: str | None,
    ask: Ask | None,
    steps: list[str],
    say: Callable[..., str],
) -> dict[str, Any]:
    own = [m for m in members if m["section"] == name]
    if not own:
        raise InitError("no_staff", section=name)
    chiefs = [m for m in own if _is_chief(titles[m["id"]])]
    deputies = [m for m in own if _DEPUTY.search(titles[m["id"]])]
    if len(chiefs) == 1:
        chief = chiefs[0]
    elif ask is not None:
        chief = own[_pick(ask, say("ask.chief", section=name), [m["name"] for m in own])]
    else:
        chief = (chiefs or own)[0]
        steps.append(say("next.chief_guessed", section=name, name=chief["name"]))
    item: dict[str, Any] = {"name": name, "chief": chief["id"]}
    deputy_ids = [m["id"] for m in deputies if m["id"] != chief["id"]]
    if deputy_ids:
        item["deputies"] = deputy_ids
    if name == city_promotion:
        item["city_promotion"] = True
    if name == digital:
        item["digital_promotion"] = True
    return item


def _is_chief(title: str) -> bool:
    return bool(_CHIEF.search(title)) and not _DEPUTY.search(title)


def _choose(
    given: str | None,
    *,
    names: Sequence[str],
    pattern: re.Pattern[str],
    ask: Ask | None,
    question: str,
    required: str | None,
    lang: Lang,
) -> Any:
    if given:
        if given not in names:
            raise InitError("unknown_section", value=given, known="、".join(names))
        return given
    found = [n for n in names if pattern.search(n)]
    if len(found) == 1:
        return found[0]
    if ask is not None:
        choices = [*names, *([] if required else [message("init.ask.none", lang)])]
        index = _pick(ask, question, choices)
        return names[index] if index < len(names) else None
    if required:
        raise InitError(required, known="、".join(names))
    return None


def _pick(ask: Ask, question: str, choices: Sequence[str]) -> int:
    menu = "\n".join(f"  {i}. {choice}" for i, choice in enumerate(choices, start=1))
    while True:
        answer = unicodedata.normalize("NFKC", ask(f"{question}\n{menu}\n> ")).strip()
        if answer.isdigit() and 1 <= int(answer) <= len(choices):
            return int(answer) - 1
        if answer in choices:
            return list(choices).index(answer)


def _municipality(accounts: Sequence[Mapping[str, str]]) -> str | None:
    for row in accounts:
        found = _MUNICIPALITY.search(row["アカウント名"])
        if found:
            return found.group(1)
    return None


def _accounts(
    rows: Sequence[Mapping[str, str]],
    city_promotion: str,
    steps: list[str],
    say: Callable[..., str],
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    used: set[str] = set()
    variables: list[str] = []
    for i, row in enumerate(rows, start=2):
        kind = unicodedata.normalize("NFKC", row["SNS種別"]).strip().lower()
        kind = re.sub(r"[（(].*?[)）]|公式アカウント|公式|\s", "", kind)
        platform = _PLATFORMS.get(kind)
        if platform is None:
            raise InitError("platform", line=i, value=row["SNS種別"])
        if not row["アカウント名"]:
            raise InitError("account_no_name", line=i)
        handle = _handle(row["URL/ID"])
        if not handle:
            raise InitError("handle", line=i, name=row["アカウント名"])
        account_id = _account_id(handle, platform, len(items) + 1)
        while account_id in used:
            account_id += "-2"
        used.add(account_id)
        official = row["所属"] == city_promotion
        credentials = {
            key: f"{account_id.upper().replace('-', '_')}_{key.upper()}"
            for key in REQUIRED_CREDENTIALS[platform]
        }
        variables += credentials.values()
        item: dict[str, Any] = {
            "id": account_id,
            "platform": platform.value,
            "handle": handle,
            "display_name": row["アカウント名"],
            "official": official,
            "owner_section": row["所属"],
            # Manual §4 ③: the official accounts are approved by the City Promotion Division,
            # a section's own account by that section's chief.
            "approving_section": city_promotion if official else row["所属"],
            "peer_checks": 1,
        }
        if row["運用方針"]:
            item["purpose"] = row["運用方針"]
        item["watch_names"] = list(dict.fromkeys([row["アカウント名"], handle]))
        item["credentials"] = credentials
        items.append(item)
    steps.append(say("next.credentials", variables="\n    ".join(variables)))
    return items


def _handle(value: str) -> str:
    text = unicodedata.normalize("NFKC", value).strip()
    if "://" in text or text.startswith(("www.", "x.com", "twitter.com")):
        parts = urlsplit(text if "://" in text else f"https://{text}")
        path = [p for p in parts.path.split("/") if p]
        if parts.netloc.endswith(("lin.ee", "line.me")):
            return path[-1] if path else parts.netloc
        return path[0] if path else ""
    return text


def _account_id(handle: str, platform: Platform, index: int) -> str:
    slug = re.sub(r"[^a-z0-9_\-]+", "-", handle.lower().lstrip("@")).strip("-_")
    if not slug or not slug[0].isalnum():
        return f"{platform.value}-{index}"
    return f"{slug}-{platform.value}"


def _channels(
    options: Options, ask: Ask | None, steps: list[str], say: Callable[..., str]
) -> dict[str, Any]:
    found: dict[str, str | None] = {
        "drafts": options.drafts_channel,
        "approvals": options.approvals_channel,
        "alerts": options.alerts_channel,
    }
    for role, given in found.items():
        value = given
        while ask is not None and value is None:
            answer = unicodedata.normalize("NFKC", ask(say(f"ask.channel.{role}"))).strip().upper()
            if not answer or _SLACK_CHANNEL.match(answer):
                value = answer
        if value and not _SLACK_CHANNEL.match(value):
            raise InitError("channel", role=role, value=value)
        found[role] = value or None
    missing = [role for role, value in found.items() if not value]
    if missing:
        steps.append(say("next.channels", roles=", ".join(missing)))
    channels: dict[str, Any] = {}
    if found["drafts"]:
        channels["drafts"] = [{"slack": found["drafts"]}]
    for role in ("approvals", "alerts"):
        if found[role]:
            channels[role] = {"slack": found[role]}
    return channels
