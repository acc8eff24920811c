"""app.yaml + environment -> one frozen, typed settings object.

The organisation (sections, people, accounts, channels, business hours, check settings) lives in
app.yaml; secrets live in environment variables that app.yaml only names. Loading fails fast with
every problem listed by its key path, e.g.
``accounts[2].approving_section: unknown section '広報課'``.
"""

from __future__ import annotations

import dataclasses
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from bot.check_config import DEFAULT_CONFIG, config_path
from workflows.calendar import BusinessCalendar, BusinessHours, Weekday
from workflows.catalogue import Lang, keys, message
from workflows.checks.data import RuleDataError
from workflows.checks.model import Platform
from workflows.checks.rules import terminology
from workflows.checks.settings import CheckSettings
from workflows.errors import PostgateError
from workflows.org import Account, Directory, Member, Organisation, Section

__all__ = [
    "DEFAULT_CONFIG",
    "AppConfig",
    "ConfigError",
    "Problem",
    "config_path",
    "load_config",
    "parse_config",
]

# The credentials each platform's client needs, as the keys of an account's `credentials:`.
REQUIRED_CREDENTIALS: dict[Platform, tuple[str, ...]] = {
    Platform.X: ("consumer_key", "consumer_secret", "access_token", "access_token_secret"),
    Platform.FACEBOOK: ("page_id", "page_access_token", "app_secret"),
    Platform.INSTAGRAM: ("ig_user_id", "access_token", "app_secret"),
    Platform.LINE: ("channel_access_token",),
}


@dataclass(frozen=True)
class Problem:
    """One problem of app.yaml: its key path and a catalogue message (``config.*``)."""

    path: str
    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def text(self, lang: Lang = Lang.JA) -> str:
        body = message(f"config.{self.key}", lang, **self.params)
        return f"{self.path}: {body}" if self.path else body


class ConfigError(PostgateError):
    """app.yaml (or the environment) is wrong; lists every problem with its key path."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__(source, self.problems)

    def lines(self, lang: Lang = Lang.JA) -> list[str]:
        return [p.text(lang) for p in self.problems]

    def message(self, lang: Lang = Lang.JA) -> str:
        header = message("config.header", lang, source=self.source, count=len(self.problems))
        return "\n".join([header, *(f"  {line}" for line in self.lines(lang))])

    def __str__(self) -> str:
        return self.message(Lang.JA)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class ChatTarget(_Frozen):
    slack: str | None = Field(default=None, pattern=r"^[CGD][A-Z0-9]{2,}$")
    teams: str | None = None


class DraftChannel(ChatTarget):
    default_accounts: tuple[str, ...] = ()


class Channels(_Frozen):
    drafts: tuple[DraftChannel, ...] = ()
    approvals: ChatTarget | None = None
    alerts: ChatTarget | None = None


class ApprovalTiming(_Frozen):
    """When a pending approval is re-sent to the chief, then offered to the deputies."""

    remind_after_minutes: int = Field(default=120, ge=5, le=10_080)
    deputies_after_minutes: int = Field(default=240, ge=5, le=20_160)

    @model_validator(mode="after")
    def _deputies_later(self) -> ApprovalTiming:
        if self.deputies_after_minutes < self.remind_after_minutes:
            raise PydanticCustomError(
                "deputies_before_reminder",
                "deputies_after_minutes must not be before remind_after_minutes",
            )
        return self


class PublishingTiming(_Frozen):
    """A post due while postgate was down goes out on restart unless it is this late."""

    missed_post_limit_hours: float = Field(default=6, gt=0, le=168)
    # A post the platform cannot take (5xx, timeouts, refused connections) is tried again with
    # backoff for this long before it fails (never past the missed-post limit).
    give_up_after_minutes: int = Field(default=60, ge=1, le=10_080)


class MonitoringTiming(_Frozen):
    """How often the accounts are watched (hijack, impersonation, flaming), and when people are
    reminded of an incident nobody has taken."""

    interval_minutes: int = Field(default=5, ge=1, le=1_440)
    impersonation_lookup_hours: int = Field(default=6, ge=1, le=168)
    # An incident nobody has acknowledged is reminded of this long after it opened, and as often
    # again until someone does.
    incident_remind_after_minutes: int = Field(default=30, ge=1, le=1_440)


class AuditSettings(_Frozen):
    """The audit log's anchors: its head recorded outside the database this often, appended to
    ``anchor_file`` (relative to app.yaml) and posted to the alerts channel(s)."""

    anchor_every_minutes: int = Field(default=60, ge=1, le=10_080)
    anchor_file: Path | None = None


class DigestSettings(_Frozen):
    """The weekly digest: next week's plan and its gaps to the posting targets, sent to each
    section's drafts channel(s) every ``day`` at ``at`` (business_hours.timezone)."""

    enabled: bool = True
    day: Weekday = Weekday.MON
    at: time = time(9, 0)


class AppConfig(_Frozen):
    """Everything app.yaml says about the organisation."""

    organisation: Organisation
    sections: tuple[Section, ...] = Field(min_length=1)
    members: tuple[Member, ...] = Field(min_length=1)
    accounts: tuple[Account, ...] = ()
    channels: Channels = Channels()
    business_hours: BusinessHours = BusinessHours()
    checks: CheckSettings = CheckSettings()
    allowlist: tuple[str, ...] = Field(
        default=(), description="Known accounts that are not ours but are not impostors either."
    )
    approval: ApprovalTiming = ApprovalTiming()
    publishing: PublishingTiming = PublishingTiming()
    monitoring: MonitoringTiming = MonitoringTiming()
    audit: AuditSettings = AuditSettings()
    digest: DigestSettings = DigestSettings()

    @property
    def directory(self) -> Directory:
        """Lookups over sections, members and accounts (built afresh: keep it where it is used)."""
        return Directory(self.sections, self.members, self.accounts)

    def section(self, name: str) -> Section | None:
        return self.directory.sections.get(name)

    def member(self, member_id: str) -> Member | None:
        return self.directory.member(member_id)

    def account(self, account_id: str) -> Account | None:
        return self.directory.accounts.get(account_id)

    def calendar(self, account: Account | None = None) -> BusinessCalendar:
        return BusinessCalendar(account.hours if account and account.hours else self.business_hours)


def load_config(path: str | os.PathLike[str] | None = None) -> AppConfig:
    """Read and validate app.yaml; raise ConfigError listing every problem."""
    p = config_path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(p), [Problem("", "file_not_found", {"path": p.resolve()})]) from None
    except UnicodeDecodeError:
        raise ConfigError(str(p), [Problem("", "not_utf8")]) from None
    except OSError as exc:
        error = exc.strerror or type(exc).__name__
        raise ConfigError(str(p), [Problem("", "unreadable", {"error": error})]) from None
    return parse_config(text, source=str(p), base_dir=p.parent)


def parse_config(text: str, *, source: str = "app.yaml", base_dir: Path | None = None) -> AppConfig:
    try:
        raw = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        if mark is None:
            nowhere = Problem("", "yaml_error_nowhere", {"problem": problem})
            raise ConfigError(source, [nowhere]) from None
        where = {"line": mark.line + 1, "column": mark.column + 1, "problem": problem}
        raise ConfigError(source, [Problem("", "yaml_error", where)]) from None
    if not isinstance(raw, dict):
        raise ConfigError(source, [Problem("", "not_mapping")])

    problems = list(_structure_problems(raw)) + list(_reference_problems(raw))
    if problems:
        raise ConfigError(source, problems)
    config = AppConfig.model_validate(raw)
    if config.checks.terminology is not None and base_dir is not None:
        term = config.checks.terminology
        resolved = term if term.is_absolute() else (base_dir / term)
        if not resolved.is_file():
            missing = Problem("checks.terminology", "terminology_missing", {"path": resolved})
            raise ConfigError(source, [missing])
        try:
            terminology.dictionary(resolved)  # its specs run now, not at the first draft
        except RuleDataError as exc:
            broken = Problem("checks.terminology", "terminology_broken", {"error": exc})
            raise ConfigError(source, [broken]) from None
        config = config.model_copy(
            update={"checks": dataclasses.replace(config.checks, terminology=resolved)}
        )
    # The organisation's and its sections' names are official names the checker never rewrites.
    names = (config.organisation.name, *(s.name for s in config.sections))
    official = tuple(dict.fromkeys((*config.checks.official_names, *names)))
    config = config.model_copy(
        update={"checks": dataclasses.replace(config.checks, official_names=official)}
    )
    anchor_file = config.audit.anchor_file
    if anchor_file is not None and not anchor_file.is_absolute() and base_dir is not None:
        audit = config.audit.model_copy(update={"anchor_file": base_dir / anchor_file})
        config = config.model_copy(update={"audit": audit})
    return config


def _structure_problems(raw: dict[str, Any]) -> Iterable[Problem]:
    try:
        AppConfig.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            yield _validation_problem(err["loc"], err["type"], err.get("ctx") or {}, err["input"])


def _validation_problem(
    loc: tuple[int | str, ...], kind: str, ctx: Mapping[str, Any], value: Any
) -> Problem:
    """A pydantic error as a catalogue message: ``config.type.<type>`` with its context values,
    a message for the field where one exists (patterns), else a general one."""
    path = _key_path(loc)
    names = [part for part in loc if isinstance(part, str)]
    # A value under credentials: may be a pasted secret: never shown.
    shown = "***" if "credentials" in names else _shown(value)
    params: dict[str, Any] = {"input": shown, "type": kind}
    params.update({k: _shown_expected(v) if k == "expected" else v for k, v in ctx.items()})
    known = keys()
    if kind == "string_pattern_mismatch" and names:
        key = f"pattern.{names[0]}.{names[-1]}"
        if f"config.{key}" in known:
            return Problem(path, key, params)
    key = f"type.{kind}"
    if f"config.{key}" not in known:
        key = "type.fallback"
    try:
        message(f"config.{key}", Lang.JA, **params)
        message(f"config.{key}", Lang.EN, **params)
    except (KeyError, IndexError):  # a context value this pydantic version does not give
        key = "type.fallback"
    return Problem(path, key, params)


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "{…}"
    if isinstance(value, list | tuple):
        return "[…]"
    text = str(value)
    return repr(text[:40] + "…" if len(text) > 40 else text)


def _shown_expected(value: Any) -> str:
    return str(value).replace(" or ", ", ")


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _items(raw: dict[str, Any], key: str) -> list[tuple[int, dict[str, Any]]]:
    value = raw.get(key)
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def _reference_problems(raw: dict[str, Any]) -> Iterable[Problem]:
    """Cross-references pydantic cannot see: unknown sections, members, accounts; duplicates."""
    sections = _items(raw, "sections")
    members = _items(raw, "members")
    accounts = _items(raw, "accounts")
    section_names = {s.get("name") for _, s in sections}
    member_ids = {m.get("id") for _, m in members}
    account_ids = {a.get("id") for _, a in accounts}

    yield from _duplicates("sections", "name", sections)
    yield from _duplicates("members", "id", members)
    yield from _duplicates("members", "slack_user_id", members)
    yield from _duplicates("members", "teams_aad_id", members)
    yield from _duplicates("accounts", "id", accounts)

    member_section = {m.get("id"): m.get("section") for _, m in members}
    for i, s in sections:
        chief = s.get("chief")
        if isinstance(chief, str) and chief not in member_ids:
            yield Problem(f"sections[{i}].chief", "unknown_member", {"value": chief})
        elif isinstance(chief, str) and member_section.get(chief) != s.get("name"):
            where = {"member": chief, "actual": member_section.get(chief), "section": s.get("name")}
            yield Problem(f"sections[{i}].chief", "chief_elsewhere", where)
        for j, deputy in enumerate(s.get("deputies") or []):
            if deputy not in member_ids:
                yield Problem(f"sections[{i}].deputies[{j}]", "unknown_member", {"value": deputy})
            elif deputy == chief:
                yield Problem(f"sections[{i}].deputies[{j}]", "deputy_is_chief", {"value": deputy})
    for flag in ("city_promotion", "digital_promotion"):
        flagged = [i for i, s in sections if s.get(flag) is True]
        if len(flagged) > 1:
            yield Problem(f"sections[{flagged[1]}].{flag}", "flag_twice", {"flag": flag})

    for i, m in members:
        section = m.get("section")
        if isinstance(section, str) and section not in section_names:
            yield Problem(f"members[{i}].section", "unknown_section", {"value": section})

    for i, a in accounts:
        for key in ("owner_section", "approving_section"):
            value = a.get(key)
            if isinstance(value, str) and value not in section_names:
                yield Problem(f"accounts[{i}].{key}", "unknown_section", {"value": value})
        yield from _credential_problems(i, a)

    channels = raw.get("channels")
    drafts = channels.get("drafts") if isinstance(channels, dict) else None
    for i, channel in enumerate(drafts if isinstance(drafts, list) else []):
        if not isinstance(channel, dict):
            continue
        for j, account in enumerate(channel.get("default_accounts") or []):
            if account not in account_ids:
                path = f"channels.drafts[{i}].default_accounts[{j}]"
                yield Problem(path, "unknown_account", {"value": account})


def _credential_problems(index: int, account: dict[str, Any]) -> Iterable[Problem]:
    try:
        platform = Platform(str(account.get("platform")))
    except ValueError:
        return
    creds = account.get("credentials")
    if not isinstance(creds, dict) or not creds:
        return  # no credentials: the account publishes through the dry-run client
    required = REQUIRED_CREDENTIALS[platform]
    for key in required:
        if key not in creds:
            path = f"accounts[{index}].credentials.{key}"
            yield Problem(path, "credential_required", {"platform": platform.value})
    for key in creds:
        if key not in required:
            path = f"accounts[{index}].credentials.{key}"
            params = {"platform": platform.value, "allowed": ", ".join(required)}
            yield Problem(path, "credential_unknown", params)


def _duplicates(
    list_key: str, field: str, items: list[tuple[int, dict[str, Any]]]
) -> Iterable[Problem]:
    counts = Counter(item.get(field) for _, item in items if item.get(field) is not None)
    seen: set[Any] = set()
    for i, item in items:
        value = item.get(field)
        if value is not None and counts[value] > 1:
            if value in seen:
                yield Problem(f"{list_key}[{i}].{field}", "used_twice", {"value": value})
            seen.add(value)
