"""The one exception base: every refusal postgate explains to a person derives from it."""

from __future__ import annotations


class PostgateError(Exception):
    """A problem a person can act on; ``str()`` says what happened and what to do."""
