"""The organisation: sections (所属), members, managed accounts — who may do what.

These models are read from app.yaml by ``bot.config``; the approval workflow routes through them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from workflows.calendar import BusinessHours
from workflows.checks.model import Platform

_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


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


class Cadence(_Frozen):
    """A posting target (manual §7 (1)): at least ``posts`` posts each week."""

    per: Literal["week"] = "week"
    posts: int = Field(ge=1, le=100)


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
    cadence: Cadence | None = Field(
        default=None, description="Posting target, e.g. {per: week, posts: 3} (gaps shown)."
    )

    @field_validator("credentials")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        for key, env in value.items():
            if not _ENV_NAME.match(env):
                # The value is not echoed: someone may have pasted the secret itself.
                raise PydanticCustomError(
                    "credential_not_env_name",
                    "{key}: must be the NAME of an environment variable (A-Z, 0-9, _), "
                    "never the secret itself",
                    {"key": key},
                )
        return value

    def credentials_from(self, environ: Mapping[str, str]) -> dict[str, str] | None:
        """The account's secrets if every one is set in ``environ``, else None (dry run)."""
        if not self.credentials:
            return None
        values = {key: environ.get(env, "") for key, env in self.credentials.items()}
        return values if all(values.values()) else None


class Directory:
    """Lookups over the organisation: who is who, who approves for which section."""

    def __init__(
        self,
        sections: tuple[Section, ...],
        members: tuple[Member, ...],
        accounts: tuple[Account, ...],
    ) -> None:
        self.sections = {s.name: s for s in sections}
        self.members = {m.id: m for m in members}
        self.accounts = {a.id: a for a in accounts}
        self._by_slack = {m.slack_user_id: m for m in members if m.slack_user_id}
        self._by_teams = {m.teams_aad_id.lower(): m for m in members if m.teams_aad_id}

    def member(self, member_id: str) -> Member | None:
        return self.members.get(member_id)

    def by_slack_user(self, user_id: str) -> Member | None:
        return self._by_slack.get(user_id)

    def by_teams_user(self, aad_object_id: str) -> Member | None:
        return self._by_teams.get(aad_object_id.lower())

    def approvers(self, section: str) -> tuple[str, ...]:
        """The chief and deputies of ``section`` (member ids), chief first."""
        s = self.sections.get(section)
        return (s.chief, *s.deputies) if s else ()

    def colleagues(self, member_id: str) -> tuple[str, ...]:
        """Members of the same section as ``member_id``, other than them."""
        me = self.members.get(member_id)
        if me is None:
            return ()
        return tuple(
            m.id for m in self.members.values() if m.section == me.section and m.id != me.id
        )

    @cached_property
    def city_promotion(self) -> Section | None:
        return next((s for s in self.sections.values() if s.city_promotion), None)

    @cached_property
    def digital_promotion(self) -> Section | None:
        return next((s for s in self.sections.values() if s.digital_promotion), None)
