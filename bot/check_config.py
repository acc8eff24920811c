"""What `postgate check` needs of app.yaml, read without pydantic while app.yaml is unchanged.

`postgate check` runs once per draft; validating app.yaml (bot/config.py, pydantic) would be a
third of its start-up. The first run validates it completely, as `postgate config check` does,
and keeps the part the checker uses in the rule data cache (workflows/checks/data.py), keyed by
the file's bytes and the code that validates it; later runs read that back. A changed or broken
file is validated again and reported the same way.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from workflows.calendar import BusinessCalendar, BusinessHours
from workflows.checks.data import RuleDataError, cached
from workflows.checks.model import Platform
from workflows.checks.settings import CheckSettings

DEFAULT_CONFIG = Path("app.yaml")

_PACKAGE_ROOT = Path(__file__).resolve().parents[1]
# The code that decides whether an app.yaml is valid and what it means for the checker.
_VALIDATING_CODE = (
    "bot/config.py",
    "bot/check_config.py",
    "workflows/org.py",
    "workflows/calendar.py",
    "workflows/schema.py",
    "workflows/checks/settings.py",
    "workflows/checks/model.py",
)


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """--config, else $POSTGATE_CONFIG, else ./app.yaml."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("POSTGATE_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG


@dataclass(frozen=True, slots=True)
class CheckAccount:
    id: str
    platform: Platform
    hours: BusinessHours | None


@dataclass(frozen=True, slots=True)
class CheckConfig:
    """The checker's part of a valid app.yaml (names as in bot.config.AppConfig)."""

    checks: CheckSettings
    business_hours: BusinessHours
    accounts: tuple[CheckAccount, ...]

    def account(self, account_id: str) -> CheckAccount | None:
        return next((a for a in self.accounts if a.id == account_id), None)

    def calendar(self, account: CheckAccount | None = None) -> BusinessCalendar:
        return BusinessCalendar(account.hours if account and account.hours else self.business_hours)


def load_check_config(path: Path) -> CheckConfig:
    """``bot.config.load_config(path)``'s checker part; raises its ConfigError the same way."""
    try:
        inputs = [path.read_bytes(), str(path.resolve()).encode(), _pydantic_version()]
        inputs += [(_PACKAGE_ROOT / name).read_bytes() for name in _VALIDATING_CODE]
    except OSError:
        return _validated(path)  # load_config says what is wrong with the file
    config = cached("check-config", inputs, lambda: _validated(path))
    terminology = config.checks.terminology
    if terminology is not None and not _loads(terminology):
        return _validated(path)  # the dictionary has changed since: load_config reports it
    return config


def _validated(path: Path) -> CheckConfig:
    from bot.config import load_config  # noqa: PLC0415 - pydantic: only when app.yaml changed

    config = load_config(path)
    return CheckConfig(
        checks=config.checks,
        business_hours=config.business_hours,
        accounts=tuple(CheckAccount(a.id, a.platform, a.hours) for a in config.accounts),
    )


def _loads(terminology: Path) -> bool:
    from workflows.checks.rules.terminology import dictionary  # noqa: PLC0415

    try:
        dictionary(terminology)
    except RuleDataError:
        return False
    return True


def _pydantic_version() -> bytes:
    """pydantic's version file: another release may judge the same app.yaml differently."""
    spec = importlib.util.find_spec("pydantic")
    locations = spec.submodule_search_locations if spec else None
    if not locations:
        return b""
    return (Path(next(iter(locations))) / "version.py").read_bytes()
