"""Every rule family, one module each, with its data in a YAML file of the same name."""

from __future__ import annotations

from workflows.checks.context import Rule
from workflows.checks.rules import (
    dates,
    duplicate,
    flame,
    hashtag,
    hours,
    length,
    media,
    phone,
    pii,
    prohibited,
    style,
    terminology,
    typo,
    url,
)

ALL: tuple[Rule, ...] = (
    length.RULE,
    dates.RULE,
    phone.RULE,
    url.RULE,
    terminology.RULE,
    typo.RULE,
    style.RULE,
    flame.RULE,
    prohibited.RULE,
    pii.RULE,
    hours.RULE,
    hashtag.RULE,
    media.RULE,
    duplicate.RULE,
)
