"""The forms of postgate as Teams Adaptive Cards, and reading what they send back.

Slack opens a modal; Teams answers the click (or the 1:1 command) with a card holding the same
fields, whose button (``Action.Execute``, verb = the Slack modal's callback id, see
``bot.chat.actions``) sends the inputs in its data as Teams sends them: text, ``Input.Date``
(``YYYY-MM-DD``), ``Input.Time`` (``HH:MM``), a multi-select ``Input.ChoiceSet`` comma-separated,
``Input.Toggle`` its ``valueOn``/``valueOff`` (``"true"``/``"false"``). The input ids are the
fields of ``bot.chat.forms``, which reads the values for both platforms.

- the edit form (``postgate.draft.edit`` → ``postgate.view.edit``): text and media;
- the settings form (``postgate.draft.settings`` → ``postgate.view.settings``): accounts, publish
  date and time, a text per platform, the emergency flag;
- the new-draft form (``draft`` alone in a 1:1 chat → ``postgate.view.new_draft``);
- the incident report (``incident`` in a 1:1 chat → ``postgate.view.incident_report``).

A form's キャンセル (``postgate.draft.card``) sends no inputs and is answered with the draft's card.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from bot.chat import actions, forms
from bot.chat.forms import DraftForm, FormErrors, ReportForm
from bot.chat.port import IncidentBrief
from bot.chat.text import TOKYO, account_label, platform_name, shorten
from bot.teams.parse import Click, FormIncomplete
from bot.teams.render import CARD_TYPE, Json, adaptive, button, heading, text_block
from handlers.views import DraftView
from workflows.catalogue import message
from workflows.checks.model import Platform
from workflows.org import Account

TEXT_INPUT: Final = 10_000  # characters of a text a form edits (a card has a size limit)
FIELDS: Final = "fields"  # the save button's data: the fields the form had
EDIT_FIELDS: Final = (forms.TEXT, forms.MEDIA)
SETTINGS_FIELDS: Final = (
    forms.ACCOUNTS,
    forms.DATE,
    forms.TIME,
    *(forms.variant_field(p) for p in Platform),
    forms.EMERGENCY,
)
NEW_DRAFT_FIELDS: Final = (forms.TEXT, *SETTINGS_FIELDS, forms.MEDIA)
_FORM_FIELDS: Final = {
    actions.SAVE_EDIT: EDIT_FIELDS,
    actions.SAVE_SETTINGS: SETTINGS_FIELDS,
    actions.NEW_DRAFT: NEW_DRAFT_FIELDS,
}
_ON: Final = "true"
_OFF: Final = "false"


# ---------------------------------------------------------------- inputs


def text_input(
    field: str, label: str, value: str | None = None, *, multiline: bool = True, **extra: Any
) -> Json:
    element: Json = {"type": "Input.Text", "id": field, "label": label, "isMultiline": multiline}
    if value:
        element["value"] = value
    return {**element, **extra}


def choice_set(
    field: str,
    label: str,
    options: Sequence[tuple[str, str]],
    *,
    chosen: Sequence[str] = (),
    multiple: bool = False,
    **extra: Any,
) -> Json:
    element: Json = {
        "type": "Input.ChoiceSet",
        "id": field,
        "label": label,
        "isMultiSelect": multiple,
        "style": "expanded" if multiple and len(options) <= 6 else "compact",
        "choices": [{"title": title, "value": value} for title, value in options],
    }
    if chosen:
        element["value"] = ",".join(chosen)  # a multi-select's values, comma-separated
    return {**element, **extra}


def _hint(text: str) -> Json:
    return text_block(text, isSubtle=True, size="Small", spacing="None")


def _save(title: str, verb: str, data: Mapping[str, Any], fields: Sequence[str]) -> Json:
    return button(title, verb, {**data, FIELDS: list(fields)}, style="positive")


def _cancel(view: DraftView) -> Json:
    action = button(
        message("slack.modal.cancel"),
        actions.DRAFT_CARD,
        {"draft": view.id, "revision": view.revision},
    )
    action["associatedInputs"] = "none"  # nothing to send, nothing to validate
    return action


def _draft_fields(accounts: Sequence[Account], shown: forms.DraftSettings) -> list[Json]:
    targets, variants, emergency = shown.targets, shown.variants, shown.emergency
    publish_at = shown.publish_at
    options = [(account_label(a), a.id) for a in accounts]
    date: Json = {"type": "Input.Date", "id": forms.DATE, "label": message("slack.modal.date")}
    time: Json = {"type": "Input.Time", "id": forms.TIME, "label": message("slack.modal.time")}
    if publish_at is not None:
        local = publish_at.astimezone(TOKYO)
        date["value"] = local.date().isoformat()
        time["value"] = local.strftime("%H:%M")
    body = [
        choice_set(
            forms.ACCOUNTS,
            message("slack.modal.accounts"),
            options,
            chosen=[t for t in targets if t in {a.id for a in accounts}],
            multiple=True,
            isRequired=True,
            errorMessage=message("slack.form.accounts_needed"),
        ),
        date,
        time,
        _hint(message("slack.modal.when_hint")),
    ]
    for platform in Platform:
        label = message("slack.modal.variant", platform=platform_name(platform))
        body.append(text_input(forms.variant_field(platform), label, variants.get(platform)))
    body.append(
        {
            "type": "Input.Toggle",
            "id": forms.EMERGENCY,
            "label": message("slack.modal.emergency_label"),
            "title": message("slack.modal.emergency"),
            "value": _ON if emergency else _OFF,
            "valueOn": _ON,
            "valueOff": _OFF,
        }
    )
    body.append(_hint(message("slack.modal.emergency_hint")))
    return body


def _media(value: Sequence[str] = ()) -> list[Json]:
    return [
        text_input(forms.MEDIA, message("slack.modal.media"), "\n".join(value)),
        _hint(message("slack.modal.media_hint")),
    ]


def _text(value: str | None = None) -> Json:
    return text_input(
        forms.TEXT,
        message("slack.modal.text"),
        value,
        isRequired=True,
        errorMessage=message("slack.form.text_needed"),
        maxLength=TEXT_INPUT,
    )


# ---------------------------------------------------------------- the forms


def edit_form(view: DraftView) -> Json:
    """The draft's text and media (a text too long for a card is edited in the post)."""
    body = [
        heading(message("slack.modal.edit.title")),
        text_block(message("slack.modal.edit.intro", draft=view.id)),
    ]
    fields: list[str] = []
    if len(view.text) <= TEXT_INPUT:
        body.append(_text(view.text))
        fields.append(forms.TEXT)
    else:
        body.append(text_block(message("slack.modal.edit.too_long", limit=TEXT_INPUT)))
    body += _media(view.media)
    fields.append(forms.MEDIA)
    ref = {"draft": view.id, "revision": view.revision}
    return adaptive(
        body,
        [_save(message("slack.modal.save"), actions.SAVE_EDIT, ref, fields), _cancel(view)],
    )


def settings_form(view: DraftView, accounts: Sequence[Account]) -> Json:
    body = [
        heading(message("slack.modal.settings.title")),
        text_block(message("slack.modal.settings.intro", draft=view.id)),
        *_draft_fields(accounts, forms.DraftSettings.of(view)),
    ]
    ref = {"draft": view.id, "revision": view.revision}
    save = _save(message("slack.modal.save"), actions.SAVE_SETTINGS, ref, SETTINGS_FIELDS)
    return adaptive(body, [save, _cancel(view)])


def new_draft_form(accounts: Sequence[Account], defaults: Sequence[str]) -> Json:
    body = [
        heading(message("slack.modal.new.title")),
        text_block(message("slack.modal.new.intro")),
        _text(),
        *_draft_fields(accounts, forms.DraftSettings(tuple(defaults))),
        *_media(),
    ]
    create = _save(message("slack.modal.new.submit"), actions.NEW_DRAFT, {}, NEW_DRAFT_FIELDS)
    return adaptive(body, [create])


def report_form(accounts: Sequence[Account]) -> Json:
    """``incident``: kind, account (a managed one, optional), URL, notes."""
    kinds = [(kind.label(), kind.value) for kind in forms.REPORT_KINDS]
    body = [
        heading(message("slack.incident.report.title")),
        text_block(message("slack.incident.report.intro")),
        choice_set(
            forms.INCIDENT_KIND,
            message("slack.incident.report.kind"),
            kinds,
            isRequired=True,
            errorMessage=message("slack.incident.form.kind_needed"),
        ),
        choice_set(
            forms.INCIDENT_ACCOUNT,
            message("slack.incident.report.account"),
            [(account_label(a), a.id) for a in accounts],
        ),
        _hint(message("slack.incident.report.account_hint")),
        text_input(
            forms.INCIDENT_URL, message("slack.incident.report.url"), multiline=False, style="Url"
        ),
        _hint(message("slack.incident.report.url_hint")),
        text_input(forms.INCIDENT_NOTES, message("slack.incident.report.notes"), maxLength=2000),
    ]
    return adaptive(
        body,
        [
            button(
                message("slack.incident.report.submit"),
                actions.INCIDENT_REPORT,
                {},
                style="positive",
            )
        ],
    )


def incident_brief(card: IncidentBrief) -> Json:
    """What a reporter is shown: the intro, the incident in short, a link to its card."""
    view = card.view
    body = [
        text_block(card.intro),
        heading(message("slack.incident.title", kind=view.kind_label, id=view.id)),
        text_block(view.summary.replace("*", "\\*")),
        text_block(message("slack.field.state", state=view.state_label)),
    ]
    for label, value in view.rows[:4]:
        body.append(text_block(f"**{label}**: {shorten(value, 500)}"))
    if card.link:
        body.append(text_block(message("slack.incident.card_link", url=card.link, id=view.id)))
    return adaptive(body)


def done(text: str) -> Json:
    """What replaces a form once it is sent (so it is not sent twice)."""
    return adaptive([text_block(text)])


def form_activity(card: Json) -> Json:
    return {
        "type": "message",
        "attachments": [{"contentType": CARD_TYPE, "content": card}],
    }


# ---------------------------------------------------------------- what a form sends back


def _complete(errors: FormErrors) -> None:
    if errors:
        raise FormIncomplete("\n".join(dict.fromkeys(errors.values())))


def draft_form(click: Click, now: datetime) -> DraftForm:
    """The values of an edit, settings or new-draft form (``click.verb`` says which), read by
    ``bot.chat.forms.draft_form``; FormIncomplete says what is missing or wrong."""
    allowed = _FORM_FIELDS.get(click.verb, ())
    sent = click.data.get(FIELDS)
    named = [str(f) for f in sent] if isinstance(sent, list) else list(allowed)
    values: dict[str, object] = {}
    for field in (f for f in allowed if f in named):
        raw = click.data.get(field)
        if field == forms.ACCOUNTS:
            values[field] = click.ticked(field)
        elif field == forms.EMERGENCY:
            values[field] = str(raw).strip().lower() == _ON
        else:
            values[field] = raw if isinstance(raw, str) else None
    form, errors = forms.draft_form(values, now)
    _complete(errors)
    return form


def report(click: Click) -> ReportForm:
    data = click.data
    form, errors = forms.report_form(
        data.get(forms.INCIDENT_KIND),
        data.get(forms.INCIDENT_ACCOUNT),
        data.get(forms.INCIDENT_URL),
        data.get(forms.INCIDENT_NOTES),
    )
    _complete(errors)
    return form
