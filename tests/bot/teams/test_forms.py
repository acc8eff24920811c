"""The forms on Teams (Slack's modals): the draft's edit and settings forms answered in place of
its card, the new-draft and incident-report forms in a 1:1 chat, through real HTTP. What Teams
sees: the card answering each invoke, what the Bot Connector received, the database, the audit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import col, select

from bot.chat import actions, forms
from storage.tables import AuditEvent, Incident
from tests.bot.slack.harness import CLEAN
from tests.bot.teams.harness import (
    ALERTS,
    DRAFTS,
    ITO,
    KOBAYASHI,
    SATO,
    STRANGER,
    TAKAHASHI,
    Reply,
    TeamsHarness,
    card_text,
    verbs,
)
from tests.bot.teams.test_flow import draft, ready_for_approval
from tests.fakes.teams import FakeActivity


def inputs(card: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """id -> element of every input of a card."""
    return {e["id"]: e for e in card["body"] if str(e.get("type", "")).startswith("Input.")}


async def send_form(
    teams: TeamsHarness,
    user: str,
    *,
    where: FakeActivity,
    form: Mapping[str, Any],
    verb: str,
    values: Mapping[str, Any],
) -> Reply:
    """Press ``verb`` on ``form`` (shown in place of the message ``where``) with ``values`` in
    the inputs, as Teams sends them: every input of the card, empty ones as ""."""
    data = {**dict.fromkeys(inputs(form), ""), **verbs(form)[verb], **values}
    reply = await teams.invoke(user, where, verb, data)
    await teams.settle()
    return reply


def audit(teams: TeamsHarness, action: str) -> list[AuditEvent]:
    with teams.db.session(read_only=True) as session:
        statement = select(AuditEvent).where(AuditEvent.action == action)
        return list(session.exec(statement.order_by(col(AuditEvent.seq))).all())


async def test_the_author_edits_the_text_in_a_form_answered_in_place_of_the_card(
    teams: TeamsHarness,
) -> None:
    post_id = await draft(teams, "12月5日(金)に中央図書館でおはなし会を開きます。")
    card = teams.card(post_id)
    assert {actions.EDIT, actions.SETTINGS} <= set(verbs(card.card))

    form = (await teams.click(TAKAHASHI, card, actions.EDIT)).card
    fields = inputs(form)
    assert fields[forms.TEXT]["value"] == "12月5日(金)に中央図書館でおはなし会を開きます。"
    assert fields[forms.TEXT]["isRequired"] is True
    assert "投稿案の編集" in card_text(form)
    assert set(verbs(form)) == {actions.SAVE_EDIT, actions.DRAFT_CARD}
    assert teams.drafts()[0].revision == 1  # opening the form changes nothing

    text = CLEAN + "\n#みどり市"
    values = {forms.TEXT: text, forms.MEDIA: "https://www.city.midori.lg.jp/img/a.jpg"}
    data = {**verbs(form)[actions.SAVE_EDIT], **values}
    save = teams.invoke_activity(TAKAHASHI, card, actions.SAVE_EDIT, data)
    reply = await teams.send(save)
    await teams.settle()
    assert "投稿案 #1（第2版）" in card_text(reply.card)  # the answer: the new card
    assert actions.SUBMIT in verbs(reply.card)  # the error is gone: it may be submitted
    view = teams.bot.drafts.get(1)
    assert (view.revision, view.text, view.media) == (
        2,
        text,
        ("https://www.city.midori.lg.jp/img/a.jpg",),
    )
    assert "投稿案 #1（第2版）" in card_text(card.card)  # every copy is PUT, this one too
    assert any("第2版に更新" in a.text for a in teams.fake.thread(DRAFTS, post_id))
    [revised] = audit(teams, "draft.revised")
    assert revised.details["via"] == "teams"

    # Teams retries the invoke: one revision, the same card.
    again = await teams.send(save)
    await teams.settle()
    assert "投稿案 #1（第2版）" in card_text(again.card)
    assert teams.drafts()[0].revision == 2


async def test_the_settings_form_changes_accounts_time_texts_and_the_emergency_flag(
    teams: TeamsHarness,
) -> None:
    post_id = await draft(teams)
    card = teams.card(post_id)
    form = (await teams.click(TAKAHASHI, card, actions.SETTINGS)).card
    fields = inputs(form)
    accounts = fields[forms.ACCOUNTS]
    assert accounts["isMultiSelect"] is True
    assert accounts["value"] == "midori-x,midori-facebook"  # what the draft has, ticked
    assert {c["value"] for c in accounts["choices"]} == {a.id for a in teams.config.accounts}
    assert fields[forms.EMERGENCY]["value"] == "false"
    assert {"variant.x", "variant.facebook", "variant.instagram", "variant.line"} <= set(fields)

    values = {
        forms.ACCOUNTS: "midori-x",
        forms.DATE: "2026-11-26",
        forms.TIME: "12:00",
        "variant.x": "X向けの短い文面です。",
        forms.EMERGENCY: "true",
    }
    reply = await send_form(
        teams, TAKAHASHI, where=card, form=form, verb=actions.SAVE_SETTINGS, values=values
    )
    shown = card_text(reply.card)
    assert "投稿案 #1（第2版）" in shown
    assert "2026年11月26日(木) 12:00" in shown
    view = teams.bot.drafts.get(1)
    assert [t.account_id for t in view.targets] == ["midori-x"]
    assert "X向けの短い文面です。" in view.variants.values()
    assert view.emergency is True
    assert view.text == CLEAN  # a settings form leaves the text as it is

    # Opened again, the form shows what the draft now has.
    again = inputs((await teams.click(TAKAHASHI, card, actions.SETTINGS)).card)
    assert again[forms.ACCOUNTS]["value"] == "midori-x"
    assert (again[forms.DATE]["value"], again[forms.TIME]["value"]) == ("2026-11-26", "12:00")
    assert again[forms.EMERGENCY]["value"] == "true"
    assert again["variant.x"]["value"] == "X向けの短い文面です。"


async def test_bad_values_are_refused_in_japanese_and_nothing_is_saved(
    teams: TeamsHarness,
) -> None:
    post_id = await draft(teams)
    card = teams.card(post_id)
    form = (await teams.click(TAKAHASHI, card, actions.SETTINGS)).card
    cases = {
        "投稿先のアカウントを選んでください": {forms.ACCOUNTS: ""},
        "時刻も指定してください": {forms.DATE: "2026-11-26"},
        "過去の日時は指定できません": {forms.DATE: "2020-01-06", forms.TIME: "09:00"},
        "日付または時刻を読めません": {forms.DATE: "26/11/2026", forms.TIME: "09:00"},
    }
    for said, values in cases.items():
        full = {forms.ACCOUNTS: "midori-x", **values}
        reply = await send_form(
            teams, TAKAHASHI, where=card, form=form, verb=actions.SAVE_SETTINGS, values=full
        )
        assert said in reply.text, reply.text  # a message: the form stays as it was filled
    edit = (await teams.click(TAKAHASHI, card, actions.EDIT)).card
    blank = await send_form(
        teams, TAKAHASHI, where=card, form=edit, verb=actions.SAVE_EDIT, values={forms.TEXT: "  "}
    )
    assert "本文を入力してください" in blank.text
    assert teams.drafts()[0].revision == 1
    assert not card.versions
    assert audit(teams, "draft.revised") == []


async def test_only_the_author_may_save_and_a_refusal_is_audited(teams: TeamsHarness) -> None:
    post_id = await draft(teams)
    card = teams.card(post_id)
    form = (await teams.click(ITO, card, actions.EDIT)).card
    reply = await send_form(
        teams, ITO, where=card, form=form, verb=actions.SAVE_EDIT, values={forms.TEXT: "書き換え"}
    )
    assert "作成者（高橋 結衣）だけができます" in reply.text
    assert teams.bot.drafts.get(1).text == CLEAN
    [refused] = audit(teams, "draft.refused")
    assert refused.actor == "ito.makoto"
    assert refused.details["operation"] == "revise"
    assert refused.details["via"] == "teams"

    stranger = await teams.click(STRANGER, card, actions.EDIT)
    assert "職員名簿" in stranger.text
    saved = await send_form(
        teams, STRANGER, where=card, form=form, verb=actions.SAVE_EDIT, values={forms.TEXT: "x"}
    )
    assert "職員名簿" in saved.text
    assert teams.drafts()[0].revision == 1


async def test_an_edit_after_submission_restarts_the_review(teams: TeamsHarness) -> None:
    post_id = await ready_for_approval(teams)
    [dm] = teams.approval_cards(SATO)
    card = teams.card(post_id)
    form = (await teams.click(TAKAHASHI, card, actions.EDIT)).card
    text = CLEAN + "\n当日は直接会場へお越しください。"
    reply = await send_form(
        teams, TAKAHASHI, where=card, form=form, verb=actions.SAVE_EDIT, values={forms.TEXT: text}
    )
    assert "投稿案 #1（第2版）" in card_text(reply.card)
    assert teams.drafts()[0].state == "draft"
    assert "第2版に更新されたため、この依頼は無効です" in card_text(dm.card)  # PUT
    assert "refresh" not in dm.card  # nobody is offered the approval form any more
    assert any("第2版に更新し" in a.text for a in teams.fake.thread(DRAFTS, post_id))


async def test_cancel_answers_with_the_card_as_it_is(teams: TeamsHarness) -> None:
    post_id = await draft(teams)
    card = teams.card(post_id)
    form = (await teams.click(TAKAHASHI, card, actions.EDIT)).card
    cancel = next(a for a in form["actions"] if a["verb"] == actions.DRAFT_CARD)
    assert cancel["associatedInputs"] == "none"
    reply = await teams.invoke(TAKAHASHI, card, actions.DRAFT_CARD, cancel["data"])
    assert "投稿案 #1（第1版）" in card_text(reply.card)
    assert actions.EDIT in verbs(reply.card)
    assert teams.drafts()[0].revision == 1


async def test_draft_alone_in_a_chat_opens_the_new_draft_form(teams: TeamsHarness) -> None:
    said = await teams.say(TAKAHASHI, "draft")
    form = said.card
    assert form is not None
    assert "投稿案の作成" in card_text(form)
    fields = inputs(form)
    assert fields[forms.ACCOUNTS]["value"] == "midori-x,midori-facebook"  # the drafts channel's
    assert set(verbs(form)) == {actions.NEW_DRAFT}

    missing = await send_form(
        teams, TAKAHASHI, where=said, form=form, verb=actions.NEW_DRAFT, values={}
    )
    assert "本文を入力してください" in missing.text
    assert teams.drafts() == []

    values = {forms.TEXT: CLEAN, forms.ACCOUNTS: "midori-x", "variant.x": "X向けの文面です。"}
    create = teams.invoke_activity(
        TAKAHASHI, said, actions.NEW_DRAFT, {**verbs(form)[actions.NEW_DRAFT], **values}
    )
    reply = await teams.send(create)
    await teams.settle()
    assert "投稿案 #1 を作成しました" in card_text(reply.card)
    assert not verbs(reply.card)  # the form is gone: it cannot be sent twice
    view = teams.bot.drafts.get(1)
    assert [t.account_id for t in view.targets] == ["midori-x"]
    assert view.author_id == "takahashi.yui"
    announcement = next(a for a in teams.fake.messages(DRAFTS) if a.thread is None)
    assert "#1" in announcement.text
    [card] = teams.fake.thread(DRAFTS, announcement.id)
    assert actions.SUBMIT in verbs(card.card)

    retried = await teams.send(create)
    assert "受け付け済み" in retried.text
    assert len(teams.drafts()) == 1


async def test_incident_in_a_chat_opens_the_report_form_and_opens_the_incident(
    teams: TeamsHarness,
) -> None:
    said = await teams.say(KOBAYASHI, "incident")
    form = said.card
    assert form is not None
    fields = inputs(form)
    kinds = [c["value"] for c in fields[forms.INCIDENT_KIND]["choices"]]
    assert kinds == ["impersonation", "hijack", "flaming", "other"]
    assert fields[forms.INCIDENT_KIND]["isMultiSelect"] is False
    assert {c["value"] for c in fields[forms.INCIDENT_ACCOUNT]["choices"]} == {
        a.id for a in teams.config.accounts
    }

    kind = {forms.INCIDENT_KIND: "impersonation"}
    missing = await send_form(
        teams, KOBAYASHI, where=said, form=form, verb=actions.INCIDENT_REPORT, values=kind
    )
    assert "URLか、状況のメモを入力してください" in missing.text
    with teams.db.session(read_only=True) as session:
        assert session.exec(select(Incident)).all() == []

    values = {
        **kind,
        forms.INCIDENT_ACCOUNT: "midori-x",
        forms.INCIDENT_URL: "https://x.com/midori_clty",
        forms.INCIDENT_NOTES: "市民から連絡",
    }
    reply = await send_form(
        teams, KOBAYASHI, where=said, form=form, verb=actions.INCIDENT_REPORT, values=values
    )
    shown = card_text(reply.card)
    assert "インシデント #1 として受け付け" in shown
    assert "【なりすまし】インシデント #1" in shown
    [alert] = teams.fake.messages(ALERTS)
    assert "小林 剛さんから" in card_text(alert.card)
    assert "https://x.com/midori_clty" in card_text(alert.card)

    # The same URL again from someone else: the incident on record, shown to them.
    again = await teams.say(ITO, "通報")
    second = again.card
    assert second is not None
    same = {**kind, forms.INCIDENT_URL: "twitter.com/midori_clty/"}
    known = await send_form(
        teams, ITO, where=again, form=second, verb=actions.INCIDENT_REPORT, values=same
    )
    assert "既にインシデント #1（未対応）として記録されています" in card_text(known.card)
    assert len(teams.fake.messages(ALERTS)) == 1
    assert [e.action for e in audit(teams, "incident.opened")] == ["incident.opened"]
    assert len(audit(teams, "incident.reported_again")) == 1


async def test_someone_not_in_app_yaml_gets_no_form(teams: TeamsHarness) -> None:
    for text in ("incident", "draft"):
        told = await teams.say(STRANGER, text)
        assert told.card is None
        assert "職員名簿" in told.text
