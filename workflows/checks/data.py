"""Loading the YAML data that sits beside each rule module."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

RULES_DIR = Path(__file__).with_name("rules")


class RuleDataError(Exception):
    """A rule's data file is malformed or one of its specs fails (names file and entry)."""


def load_yaml(path: str | Path) -> Any:
    """Parse a YAML file; a bare name is looked up beside the rule modules."""
    p = Path(path)
    if not p.is_absolute() and p.parent == Path("."):
        p = RULES_DIR / p
    try:
        return yaml.load(p.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise RuleDataError(f"{p}: {exc}") from exc
