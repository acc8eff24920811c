"""Slack's side of the buttons under a publication's news (``bot.chat.results``): read the
click and the message's text box, press, and replace the clicked message's buttons with what
was done. Refusals go to the one error boundary (an ephemeral message to the person)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot.chat.actions import NOTE_FIELD
from bot.chat.port import Note
from bot.chat.results import ResultButtons
from bot.slack import ids, parse
from bot.slack.flows import Flows
from bot.slack.parse import Body

log = logging.getLogger(__name__)


def typed(body: Body) -> str | None:
    """What the person typed in the message's text box (Slack sends the message's ``state``)."""
    values: Mapping[str, Any] = (body.get("state") or {}).get("values") or {}
    value = ((values.get(NOTE_FIELD) or {}).get(ids.INPUT) or {}).get("value")
    return value if isinstance(value, str) else None


async def press(flows: Flows, results: ResultButtons, body: Body) -> None:
    if not await flows.fresh(body):
        return
    done = await results.press(
        parse.actor(body), parse.action_id(body), parse.clicked_publication(body), typed(body)
    )
    channel = (body.get("channel") or {}).get("id")
    clicked = body.get("message") or {}
    ts = (body.get("container") or {}).get("message_ts") or clicked.get("ts")
    if isinstance(channel, str) and isinstance(ts, str):  # its buttons become what was done
        said = str(clicked.get("text") or "")
        port = flows.talk.port
        try:
            await port.update(channel, ts, Note(f"{said}\n{done}" if said else done))
        except port.errors as error:  # done and said in the thread: only the buttons remain
            log.warning("message %s not updated: %s", ts, port.describe(error))
