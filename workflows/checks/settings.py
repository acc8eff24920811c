"""The ``checks:`` section of app.yaml: what the organisation tunes in the checker."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflows.checks.model import Severity
from workflows.schema import model_schema, validated


def _about(text: str, **constraints: Any) -> dict[str, Any]:
    return {"description": text, **constraints}


@dataclass(frozen=True, slots=True)
class CheckSettings:
    # A plain dataclass, not a pydantic model: `postgate check` never imports pydantic. app.yaml
    # is validated against the same fields and constraints (workflows/schema.py).
    official_phone_numbers: tuple[str, ...] = field(
        default=(),
        metadata=_about("Phone numbers the city publishes; others are flagged for a check."),
    )
    official_domains: tuple[str, ...] = field(
        default=(),
        metadata=_about("Domains of the city; e-mail and links elsewhere are flagged."),
    )
    official_names: tuple[str, ...] = field(
        default=(),
        metadata=_about(
            "The organisation's own names written exactly so (sections, facilities); app.yaml's"
            " organisation and section names are added. Never rewritten; look-alikes are flagged."
        ),
    )
    terminology: Path | None = field(
        default=None, metadata=_about("An extra prh-style terminology dictionary (YAML).")
    )
    severities: dict[str, Severity] = field(
        default_factory=dict,
        metadata=_about("Severity per rule id or family, e.g. flame.sports: info."),
    )
    enabled_rules: tuple[str, ...] | None = field(
        default=None, metadata=_about("Only these rule ids or families run (default: all).")
    )
    disabled_rules: tuple[str, ...] = field(
        default=(), metadata=_about("Rule ids or families to skip.")
    )
    blocked_domains: tuple[str, ...] = field(
        default=(),
        metadata=_about("Domains never to link to, in addition to the shipped list."),
    )
    media_hosts: tuple[str, ...] = field(
        default=(),
        metadata=_about("Hosts images may come from (default: the official domains)."),
    )
    duplicate_window_days: int = field(default=14, metadata={"ge": 1, "le": 365})
    duplicate_similarity: int = field(
        default=85,
        metadata=_about("rapidfuzz ratio at or above which posts are alike.", ge=50, le=100),
    )

    def __post_init__(self) -> None:
        for name in ("official_domains", "blocked_domains", "media_hosts"):
            domains = getattr(self, name)
            object.__setattr__(
                self, name, tuple(d.strip().lower().lstrip(".") for d in domains if d.strip())
            )

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        return model_schema(cls, handler)

    @classmethod
    def of(cls, raw: Any) -> CheckSettings:
        """Settings from parsed YAML, validated as app.yaml's ``checks:`` is (ValueError)."""
        return validated(cls, raw)

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
