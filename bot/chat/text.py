"""Text shared by every chat adapter: user text made safe inside the catalogue's markup, and
times as people in the city hall read them.

The catalogue's chat texts use one small markup (``*bold*``, ``<url|label>``, ``:emoji:``), Slack's
mrkdwn; Slack shows it as is and the Teams adapter converts it (``bot.teams.render.markdown``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from handlers.chat import PublishedResult
from handlers.views import DraftSummary, DraftView, FindingView, ReviewView, TargetView
from workflows.catalogue import message
from workflows.checks.model import Platform
from workflows.lifecycle import DraftState
from workflows.org import Account

TOKYO: Final = ZoneInfo("Asia/Tokyo")
WEEKDAYS: Final = "月火水木金土日"


PLATFORM_NAMES: Mapping[Platform, str] = {
    Platform.X: "X",
    Platform.FACEBOOK: "Facebook",
    Platform.INSTAGRAM: "Instagram",
    Platform.LINE: "LINE",
}
_MASS_MENTION = re.compile(r"@(here|channel|everyone)\b", re.IGNORECASE)
_ZWSP: Final = "\u200b"


def neutralise(text: str) -> str:
    """Break @here / @channel / @everyone with a zero-width space so they never notify."""
    return _MASS_MENTION.sub(lambda m: f"@{_ZWSP}{m.group(1)}", text)


def mrkdwn(text: str) -> str:
    """User text made safe inside mrkdwn: no links, user or channel mentions, or mass mentions."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return neutralise(escaped)


def when(moment: datetime) -> str:
    """A time as people in the city hall read it: 2026年11月24日(火) 10:00 (Asia/Tokyo)."""
    local = moment.astimezone(TOKYO)
    return f"{local.year}年{local.month}月{local.day}日({WEEKDAYS[local.weekday()]}) {local:%H:%M}"


def short_when(moment: datetime) -> str:
    local = moment.astimezone(TOKYO)
    return f"{local.month}月{local.day}日({WEEKDAYS[local.weekday()]}) {local:%H:%M}"


def platform_name(platform: Platform) -> str:
    return PLATFORM_NAMES[platform]


def target_label(target: TargetView) -> str:
    return message(
        "slack.target",
        name=target.display_name,
        handle=target.handle,
        platform=platform_name(target.platform),
    )


def account_label(account: Account) -> str:
    return message(
        "slack.target",
        name=account.display_name,
        handle=account.handle.removeprefix("@"),  # LINE ids are written with their "@"
        platform=platform_name(account.platform),
    )


def permalink(url: str) -> str:
    if url.startswith(("https://", "http://")):
        return f"<{url}|{message('slack.permalink.open')}>"
    return message("slack.permalink.dry_run", url=mrkdwn(url))


def published(results: Sequence[PublishedResult], labels: Mapping[str, str]) -> str:
    lines = [message("slack.result.published")]
    for r in results:
        link = permalink(r.permalink) if r.permalink else (r.platform_post_id or "-")
        lines.append(
            message("slack.result.line", account=labels.get(r.account_id, r.account_id), link=link)
        )
    return "\n".join(lines)


X_LIMIT: Final = 280


def publish_time(view: DraftView) -> str:
    return when(view.publish_at) if view.publish_at else message("slack.publish_now")


def draft_facts(view: DraftView, *, approvers: bool = False) -> list[str]:
    """The draft's facts, one line each: state, author, accounts, time, length, checks."""
    lines = [
        message("slack.field.state", state=view.state_label),
        message("slack.field.author", author=mrkdwn(view.author_name)),
        message("slack.field.targets", targets="、".join(target_label(t) for t in view.targets)),
        message("slack.field.publish_at", at=publish_time(view)),
    ]
    if view.emergency:
        lines.append(message("slack.field.emergency"))
    if view.x_weighted_length is not None:
        key = (
            "slack.field.x_length_over"
            if view.x_weighted_length > X_LIMIT
            else "slack.field.x_length"
        )
        lines.append(message(key, length=view.x_weighted_length, limit=X_LIMIT))
    if view.peer_checks_required:
        lines.append(
            message(
                "slack.field.peer_checks",
                done=view.peer_checks_done,
                required=view.peer_checks_required,
            )
        )
    if approvers:
        for section_name, names in view.approvers.items():
            lines.append(
                message(
                    "slack.field.approvers",
                    section=mrkdwn(section_name),
                    names="、".join(mrkdwn(n) for n in names) or "-",
                )
            )
    if view.media:
        lines.append(message("slack.field.media", count=len(view.media)))
    return lines


def finding_line(finding: FindingView, *, variant_label: str | None) -> str:
    where = message("slack.finding.in_variant", platform=variant_label) if variant_label else ""
    quote = shorten(finding.quote.replace("\n", " "), 60)
    if quote:
        line = message(
            "slack.finding.line", where=where, quote=mrkdwn(quote), message=mrkdwn(finding.message)
        )
    else:  # a finding about the whole text (length, missing URL): no empty quote
        line = message("slack.finding.line_unquoted", where=where, message=mrkdwn(finding.message))
    if finding.suggestion:
        line += "\n" + message("slack.finding.suggestion", suggestion=mrkdwn(finding.suggestion))
    return line


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, an ellipsis marking a cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def review_line(review: ReviewView) -> str:
    return message(
        f"slack.review.{review.kind}.{review.decision}",
        name=mrkdwn(review.reviewer_name),
        section=mrkdwn(review.section or ""),
        at=short_when(review.at),
        comment=mrkdwn(review.comment or "-"),
    )


def publication_lines(view: DraftView) -> list[str]:
    """Each publication of the draft: account, state, time, link, the last error."""
    names = {t.account_id: t for t in view.targets}
    lines = []
    for p in view.publications:
        target = names.get(p.account_id)
        label = target_label(target) if target else p.account_id
        line = message(
            "slack.publication.line",
            account=label,
            state=message(f"publication_state.{p.state}"),
            at=short_when(p.due_at),
        )
        if p.permalink:
            line += " " + permalink(p.permalink)
        if p.last_error and p.state in ("failed", "needs_review", "held", "cancelled"):
            line += "\n　" + mrkdwn(shorten(p.last_error, 300))
        lines.append(line)
    return lines


def peer_request_text(view: DraftView, request_revision: int, mentions: str) -> tuple[bool, str]:
    """Whether a peer-check request is still open (its revision in peer review), and its text:
    the request naming ``mentions``, superseded by a newer revision, or done."""
    if view.state is DraftState.IN_REVIEW and view.revision == request_revision:
        left = view.peer_checks_required - view.peer_checks_done
        return True, message(
            "slack.peer.request", mentions=mentions, left=left, revision=view.revision
        )
    if view.revision != request_revision:
        return False, message(
            "slack.peer.superseded", revision=request_revision, current=view.revision
        )
    return False, message("slack.peer.done", state=view.state_label)


def summary_line(item: DraftSummary) -> str:
    at = message("slack.list.at", at=short_when(item.publish_at)) if item.publish_at else ""
    return message(
        "slack.list.line",
        draft=item.id,
        state=item.state_label,
        author=mrkdwn(item.author_name),
        excerpt=mrkdwn(item.excerpt),
        at=at,
    )
