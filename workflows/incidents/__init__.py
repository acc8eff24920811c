"""Incident detection and response (manual §8): pure rules the monitors and handlers call.

- ``hijack``: posts postgate never published, profile changes, refused credentials.
- ``impersonation``: look-alike accounts scored against each account's ``watch_names``, and the
  handle variants to look up.
- ``flaming``: a post's replies far above the account's baseline, or a wave of hostile ones.
- ``playbook``: incident states, the §8 checklists, who is told, the notice drafts.

Every detector returns :class:`Signal` values (``model``): one cause, a stable ``dedupe_key``
(one alert per cause, never one per poll), evidence, and a summary from the message catalogue.
Nothing here does I/O: the monitors read the platforms and the database and pass plain values.
"""

from __future__ import annotations

from workflows.incidents.model import (
    AccountRef,
    Cause,
    Evidence,
    IncidentKind,
    Signal,
)

__all__ = ["AccountRef", "Cause", "Evidence", "IncidentKind", "Signal"]
