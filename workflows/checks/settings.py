"""The ``checks:`` section of app.yaml: what the organisation tunes in the checker."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from workflows.checks.model import Severity


class CheckSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    official_phone_numbers: tuple[str, ...] = Field(
        default=(), description="Phone numbers the city publishes; others are flagged for a check."
    )
    official_domains: tuple[str, ...] = Field(
        default=(), description="Domains of the city; e-mail and links elsewhere are flagged."
    )
    official_names: tuple[str, ...] = Field(
        default=(),
        description=(
            "The organisation's own names written exactly so (sections, facilities); app.yaml's"
            " organisation and section names are added. Never rewritten; look-alikes are flagged."
        ),
    )
    terminology: Path | None = Field(
        default=None, description="An extra prh-style terminology dictionary (YAML)."
    )
    severities: dict[str, Severity] = Field(
        default_factory=dict, description="Severity per rule id or family, e.g. flame.sports: info."
    )
    enabled_rules: tuple[str, ...] | None = Field(
        default=None, description="Only these rule ids or families run (default: all)."
    )
    disabled_rules: tuple[str, ...] = Field(default=(), description="Rule ids or families to skip.")
    blocked_domains: tuple[str, ...] = Field(
        default=(), description="Domains never to link to, in addition to the shipped list."
    )
    media_hosts: tuple[str, ...] = Field(
        default=(), description="Hosts images may come from (default: the official domains)."
    )
    duplicate_window_days: int = Field(default=14, ge=1, le=365)
    duplicate_similarity: int = Field(
        default=85, ge=50, le=100, description="rapidfuzz ratio at or above which posts are alike."
    )

    @field_validator("official_domains", "blocked_domains", "media_hosts")
    @classmethod
    def _lower_domains(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(d.strip().lower().lstrip(".") for d in value if d.strip())

    def severity_for(self, rule: str, default: Severity) -> Severity:
        """The configured severity of ``rule`` (exact id first, then its family)."""
        if rule in self.severities:
            return self.severities[rule]
        family = rule.split(".", 1)[0]
        return self.severities.get(family, default)

    def is_enabled(self, rule: str) -> bool:
        family = rule.split(".", 1)[0]
        if rule in self.disabled_rules or family in self.disabled_rules:
            return False
        if self.enabled_rules is None:
            return True
        return rule in self.enabled_rules or family in self.enabled_rules
