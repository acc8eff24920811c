"""X reads for the monitors: look-alike accounts by username, and the account's mentions.

``XWatchClient`` is the account's ``XClient`` (same credentials, same transport, same error
mapping) with two more reads (PLATFORMS.md, "Hijack signals"):

- ``lookup_users(handles)``: ``GET /2/users/by?usernames=`` — up to 100 usernames a request. X
  answers 200 with the accounts it found and an ``errors`` entry for each it did not (or that is
  suspended): only the found ones are returned. User search (``GET /2/users/search``) needs a paid
  tier, so impostors are found by looking up generated look-alike handles.
- ``mentions(since=...)``: ``GET /2/users/:id/mentions`` with ``conversation_id``: the replies to
  the account's posts (a reply's conversation is the post it answers) and other mentions.
  Search (``GET /2/tweets/search/recent``) would also find replies that do not mention the
  account, but needs a paid tier.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sns.common import parse_time
from sns.watch import FoundAccount, Mention, Mentions
from sns.x import XClient
from workflows.checks.model import Platform

MAX_USERNAMES = 100  # per GET /2/users/by
LOOKUP_FIELDS = ["name", "username", "description", "verified", "url"]
MENTION_FIELDS = ["created_at", "conversation_id", "in_reply_to_user_id"]
_MENTION_PAGES = 5  # of 100 mentions each
_START_TIME_MARGIN = timedelta(seconds=30)  # X refuses a start_time less than 10 s ago


class XWatchClient(XClient):
    """An ``XClient`` that can also look up other accounts and read the account's mentions."""

    async def lookup_users(self, handles: Sequence[str]) -> list[FoundAccount]:
        """The accounts that exist among ``handles`` (at most 100, without @), in X's order."""
        names = [h.strip().lstrip("@") for h in handles if h.strip().lstrip("@")]
        if not names:
            return []
        if len(names) > MAX_USERNAMES:
            raise ValueError(f"X looks up at most {MAX_USERNAMES} usernames a request")
        answer = await self._call(
            "look up users",
            functools.partial(
                self._tweepy.get_users,
                usernames=names,
                user_fields=LOOKUP_FIELDS,
                user_auth=True,
            ),
            mutating=False,
        )
        found: list[FoundAccount] = []
        for user in answer.get("data") or []:
            if not isinstance(user, dict) or not user.get("username"):
                continue
            username = str(user["username"])
            found.append(
                FoundAccount(
                    platform=Platform.X,
                    user_id=str(user.get("id", "")),
                    handle=username,
                    name=str(user.get("name", "")),
                    description=str(user.get("description", "")),
                    verified=bool(user.get("verified", False)),
                    url=f"https://x.com/{username}",
                )
            )
        return found

    async def mentions(self, *, since: datetime, max_pages: int = _MENTION_PAGES) -> Mentions:
        """The account's mentions since ``since``, newest first (at most ``max_pages`` pages)."""
        user_id, _ = await self._whoami()
        latest = self._clock() - _START_TIME_MARGIN
        params: dict[str, Any] = {
            "max_results": 100,
            "tweet_fields": MENTION_FIELDS,
            "start_time": min(since, latest).astimezone(UTC),
            "user_auth": True,
        }
        found: list[Mention] = []
        token: str | None = None
        for _page in range(max(1, max_pages)):
            page = dict(params, pagination_token=token) if token else params
            answer = await self._call(
                "read mentions",
                functools.partial(self._tweepy.get_users_mentions, user_id, **page),
                mutating=False,
            )
            for tweet in answer.get("data") or []:
                if not isinstance(tweet, dict):
                    continue
                at = parse_time(tweet.get("created_at"))
                if at is None:
                    continue
                conversation = tweet.get("conversation_id")
                found.append(
                    Mention(
                        mention_id=str(tweet.get("id", "")),
                        text=html.unescape(str(tweet.get("text", ""))),
                        at=at,
                        post_id=str(conversation) if conversation else None,
                    )
                )
            token = (answer.get("meta") or {}).get("next_token")
            if not token:
                return Mentions(tuple(found), since=since, complete=True)
        return Mentions(tuple(found), since=since, complete=False)
