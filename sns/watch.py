"""What the monitors read from a platform besides posts and the profile: other accounts found by a
look-up, and the replies and mentions an account receives.

Platform-neutral values; ``sns.x_watch`` reads them from X. The monitors (handlers/monitors.py)
declare the Protocols they need and turn these values into the incident rules' inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from workflows.checks.model import Platform


@dataclass(frozen=True, slots=True)
class FoundAccount:
    """An account on a platform that is not necessarily ours (a look-up result)."""

    platform: Platform
    user_id: str
    handle: str
    name: str
    description: str = ""
    verified: bool = False
    url: str | None = None  # the profile page


@dataclass(frozen=True, slots=True)
class Mention:
    """A reply to, or a mention of, the account.

    ``post_id`` is the account's post the reply belongs to (X: the conversation it is in), if known.
    """

    mention_id: str
    text: str
    at: datetime
    post_id: str | None = None


@dataclass(frozen=True, slots=True)
class Mentions:
    """The mentions since a time, newest first.

    ``complete`` is False when reading stopped before reaching that time (a page limit): then only
    the mentions after the oldest one returned are known to be all of them.
    """

    items: tuple[Mention, ...]
    since: datetime
    complete: bool = True
