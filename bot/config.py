"""app.yaml + environment -> one frozen, typed settings object.

The organisation (sections, people, accounts, channels, business hours, check settings) lives in
app.yaml; secrets live in environment variables that app.yaml only names. Loading fails fast with
every problem listed by its key path, e.g.
``accounts[2].approving_section: unknown section '広報課'``.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from workflows.calendar import BusinessCalendar, BusinessHours
from workflows.checks.model import Platform
from workflows.checks.settings import CheckSettings
from workflows.errors import PostgateError

DEFAULT_CONFIG = Path("app.yaml")
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")

# The credentials each platform's client needs, as the keys of an account's `credentials:`.
REQUIRED_CREDENTIALS: dict[Platform, tuple[str, ...]] = {
    Platform.X: ("consumer_key", "consumer_secret", "access_token", "access_token_secret"),
    Platform.FACEBOOK: ("page_id", "page_access_token", "app_secret"),
    Platform.INSTAGRAM: ("ig_user_id", "access_token", "app_secret"),
    Platform.LINE: ("channel_access_token",),
}


class ConfigError(PostgateError):
    """app.yaml (or the environment) is wrong; lists every problem with its key path."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__(source, self.problems)

    def __str__(self) -> str:
        lines = [
            f"{self.source}: {len(self.problems)} problem(s) / 設定の誤り {len(self.problems)}件"
        ]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Organisation(_Frozen):
    name: str = Field(min_length=1, description="The municipality, e.g. みどり市.")
    name_en: str | None = None


class Section(_Frozen):
    """所属: a division, its chief (所属長) and the deputies who may approve in their place."""

    name: str = Field(min_length=1)
    chief: str = Field(min_length=1, description="Member id of the chief.")
    deputies: tuple[str, ...] = ()
    city_promotion: bool = Field(
        default=False, description="The division that runs the official accounts (manual §4)."
    )
    digital_promotion: bool = Field(
        default=False, description="The division told of hijacking and impersonation (§8)."
    )


class Member(_Frozen):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    name: str = Field(min_length=1)
    section: str = Field(min_length=1)
    slack_user_id: str | None = Field(default=None, pattern=r"^[UW][A-Z0-9]{2,}$")
    teams_aad_id: str | None = Field(
        default=None,
        pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    )


class ReplyPolicy(StrEnum):
    NONE = "none"  # 個別の回答は行いません
    AS_NEEDED = "as_needed"  # 必要に応じて回答します


class Account(_Frozen):
    """A managed social-media account and its operation policy (the manual's appendix)."""

    id: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    platform: Platform
    handle: str = Field(min_length=1)
    display_name: str = Field(min_length=1)
    owner_section: str
    approving_section: str
    official: bool = Field(default=False, description="The city's official account (市公式).")
    peer_checks: int = Field(default=1, ge=0, le=5)
    purpose: str = ""
    reply_policy: ReplyPolicy = ReplyPolicy.NONE
    hours: BusinessHours | None = Field(
        default=None, description="Operating hours if they differ from business_hours."
    )
    watch_names: tuple[str, ...] = ()
    allow_native_posts: bool = Field(
        default=False, description="Posts made outside postgate are expected (no hijack alert)."
    )
    credentials: dict[str, str] = Field(
        default_factory=dict, description="Credential name -> environment variable holding it."
    )

    @field_validator("credentials")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        for key, env in value.items():
            if not _ENV_NAME.match(env):
                # The value is not echoed: someone may have pasted the secret itself.
                raise ValueError(
                    f"{key}: must be the NAME of an environment variable (A-Z, 0-9, _), "
                    "never the secret itself"
                )
        return value

    def credentials_from(self, environ: Mapping[str, str]) -> dict[str, str] | None:
        """The account's secrets if every one is set in ``environ``, else None (dry run)."""
        if not self.credentials:
            return None
        values = {key: environ.get(env, "") for key, env in self.credentials.items()}
        return values if all(values.values()) else None


class ChatTarget(_Frozen):
    slack: str | None = Field(default=None, pattern=r"^[CGD][A-Z0-9]{2,}$")
    teams: str | None = None


class DraftChannel(ChatTarget):
    default_accounts: tuple[str, ...] = ()


class Channels(_Frozen):
    drafts: tuple[DraftChannel, ...] = ()
    approvals: ChatTarget | None = None
    alerts: ChatTarget | None = None


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

    def section(self, name: str) -> Section:
        return next(s for s in self.sections if s.name == name)

    def member(self, member_id: str) -> Member | None:
        return next((m for m in self.members if m.id == member_id), None)

    def account(self, account_id: str) -> Account | None:
        return next((a for a in self.accounts if a.id == account_id), None)

    def calendar(self, account: Account | None = None) -> BusinessCalendar:
        return BusinessCalendar(account.hours if account and account.hours else self.business_hours)


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """--config, else $POSTGATE_CONFIG, else ./app.yaml."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("POSTGATE_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG


def load_config(path: str | os.PathLike[str] | None = None) -> AppConfig:
    """Read and validate app.yaml; raise ConfigError listing every problem."""
    p = config_path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            str(p), [f"file not found / ファイルがありません: {p.resolve()}"]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(p), [f"cannot read / 読み込めません: {exc}"]) from None
    return parse_config(text, source=str(p), base_dir=p.parent)


def parse_config(text: str, *, source: str = "app.yaml", base_dir: Path | None = None) -> AppConfig:
    try:
        raw = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(source, [f"{where}not valid YAML: {problem}"]) from None
    if not isinstance(raw, dict):
        raise ConfigError(source, ["the file must be a mapping with organisation:, sections:, ..."])

    problems = list(_structure_problems(raw)) + list(_reference_problems(raw))
    if problems:
        raise ConfigError(source, problems)
    config = AppConfig.model_validate(raw)
    if config.checks.terminology is not None and base_dir is not None:
        term = config.checks.terminology
        resolved = term if term.is_absolute() else (base_dir / term)
        if not resolved.is_file():
            raise ConfigError(source, [f"checks.terminology: file not found: {resolved}"])
        config = config.model_copy(
            update={"checks": config.checks.model_copy(update={"terminology": resolved})}
        )
    return config


def _structure_problems(raw: dict[str, Any]) -> Iterable[str]:
    try:
        AppConfig.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            path = _key_path(err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (a typo?)"
            elif err["type"] == "missing":
                msg = "required key is missing"
            yield f"{path}: {msg}" if path else msg


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


def _reference_problems(raw: dict[str, Any]) -> Iterable[str]:
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
            yield f"sections[{i}].chief: unknown member '{chief}'"
        elif isinstance(chief, str) and member_section.get(chief) != s.get("name"):
            yield (
                f"sections[{i}].chief: member '{chief}' belongs to "
                f"'{member_section.get(chief)}', not '{s.get('name')}'"
            )
        for j, deputy in enumerate(s.get("deputies") or []):
            if deputy not in member_ids:
                yield f"sections[{i}].deputies[{j}]: unknown member '{deputy}'"
            elif deputy == chief:
                yield f"sections[{i}].deputies[{j}]: '{deputy}' is already the chief"
    for flag in ("city_promotion", "digital_promotion"):
        flagged = [i for i, s in sections if s.get(flag) is True]
        if len(flagged) > 1:
            yield f"sections[{flagged[1]}].{flag}: only one section may have {flag}: true"

    for i, m in members:
        section = m.get("section")
        if isinstance(section, str) and section not in section_names:
            yield f"members[{i}].section: unknown section '{section}'"

    for i, a in accounts:
        for key in ("owner_section", "approving_section"):
            value = a.get(key)
            if isinstance(value, str) and value not in section_names:
                yield f"accounts[{i}].{key}: unknown section '{value}'"
        yield from _credential_problems(i, a)

    for key in ("drafts",):
        channels = raw.get("channels")
        if not isinstance(channels, dict) or not isinstance(channels.get(key), list):
            continue
        for i, channel in enumerate(channels[key]):
            if not isinstance(channel, dict):
                continue
            for j, account in enumerate(channel.get("default_accounts") or []):
                if account not in account_ids:
                    yield f"channels.{key}[{i}].default_accounts[{j}]: unknown account '{account}'"


def _credential_problems(index: int, account: dict[str, Any]) -> Iterable[str]:
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
            yield f"accounts[{index}].credentials.{key}: required for {platform.value}"
    for key in creds:
        if key not in required:
            allowed = ", ".join(required)
            yield f"accounts[{index}].credentials.{key}: unknown for {platform.value} ({allowed})"


def _duplicates(
    list_key: str, field: str, items: list[tuple[int, dict[str, Any]]]
) -> Iterable[str]:
    counts = Counter(item.get(field) for _, item in items if item.get(field) is not None)
    seen: set[Any] = set()
    for i, item in items:
        value = item.get(field)
        if value is not None and counts[value] > 1:
            if value in seen:
                yield f"{list_key}[{i}].{field}: '{value}' is used more than once"
            seen.add(value)
