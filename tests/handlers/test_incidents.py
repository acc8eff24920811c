"""The incident use cases on SQLite and PostgreSQL: the playbook with people (acknowledge, tick,
resolve, reopen), members' reports, the steps' actions (the notice draft, the pause), reminders;
every change and every refusal in the audit log."""

from __future__ import annotations

import sys
from datetime import timedelta

import pytest

import handlers
from bot.config import AppConfig
from handlers.drafts import Actor, DraftUseCases
from handlers.incidents import (
    IncidentActionUnavailable,
    IncidentUseCases,
    IncidentView,
    NoActionForStep,
    NotAnIncidentResponder,
    ReportedKnownAccount,
    ReportNeedsDetails,
    ReportUrlInvalid,
    UnknownIncident,
    UnknownIncidentKind,
    normalise_url,
    profile_of,
)
from storage.engine import Database
from tests.handlers.conftest import NOW, FixedClock, slack
from tests.handlers.incident_support import (
    audit_details,
    audit_events,
    incident_uc,
    incidents,
    row_value,
)
from tests.handlers.publishing_support import ALL, approve, publications
from workflows.catalogue import Lang
from workflows.checks.model import Platform
from workflows.errors import UnknownMember
from workflows.incidents import hijack
from workflows.incidents import impersonation as imp
from workflows.incidents.hijack import SeenPost
from workflows.incidents.model import IncidentKind, Signal
from workflows.incidents.playbook import (
    AlreadyTicked,
    IncidentInvalidTransition,
    IncidentState,
    ItemAction,
    NotTheTicker,
)
from workflows.lifecycle import DraftState
from workflows.publishing import NotAllowedToPause

POST_ID = "1860000000000000042"
HIJACK_TEXT = "【当選】みどり市から10万円をプレゼント！"


@pytest.fixture
def uc(
    db: Database, config: AppConfig, usecases: DraftUseCases, clock: FixedClock
) -> IncidentUseCases:
    return incident_uc(db, config, usecases, clock)


def unknown_post(config: AppConfig, account_id: str = "midori-x") -> Signal:
    account = config.account(account_id)
    assert account is not None
    [signal] = hijack.unknown_posts(
        account,
        [
            SeenPost(
                POST_ID,
                HIJACK_TEXT,
                NOW - timedelta(minutes=3),
                f"https://x.com/midori_city/status/{POST_ID}",
            )
        ],
        published_ids=(),
        watching_since=NOW - timedelta(days=1),
    )
    return signal


def opened(uc: IncidentUseCases, config: AppConfig, account_id: str = "midori-x") -> IncidentView:
    [view] = uc.open_detected([unknown_post(config, account_id)])
    return view


def actions(db: Database, incident_id: int) -> list[str]:
    return [a for _, a, s in audit_events(db) if s == f"incident:{incident_id}"]


# ---------------------------------------------------------------- opening


def test_a_detected_signal_opens_one_incident_with_its_evidence_and_audience(
    uc: IncidentUseCases, config: AppConfig, db: Database
) -> None:
    view = opened(uc, config)

    assert view.is_new
    assert view.kind is IncidentKind.HIJACK
    assert view.kind_label == "乗っ取り"
    assert view.state is IncidentState.OPEN
    assert view.state_label == "未対応"
    assert view.account_label == "みどり市（X @midori_city）"
    assert view.title == view.summary
    assert row_value(view, "本文") == HIJACK_TEXT
    assert row_value(view, "リンク") == f"https://x.com/midori_city/status/{POST_ID}"
    assert view.manual == "8 (1)"
    assert [line.item_id for line in view.checklist] == [
        "report_chief",
        "press_release",
        "report_city_promotion",
        "report_digital_promotion",
        "password_reset",
        "pause_scheduled",
        "hijack_notice",
    ]
    assert all(line.text.startswith("☐ ") for line in view.checklist)
    assert [(r.member_id, r.role.value) for r in view.recipients][:2] == [
        ("sato.keiko", "owner_chief"),
        ("suzuki.hiroshi", "owner_chief"),
    ]
    assert view.audience.dm_member_ids == tuple(r.member_id for r in view.recipients)
    assert "kobayashi.takeshi" in view.audience.dm_member_ids
    english = uc.get(view.id, lang=Lang.EN)
    assert "has a post that postgate did not publish" in english.summary
    assert english.state_label == "open"
    assert row_value(english, "Text") == HIJACK_TEXT
    # The same cause again: nothing new.
    assert uc.open_detected([unknown_post(config)]) == []
    assert len(incidents(db)) == 1
    assert actions(db, view.id) == ["incident.opened"]


# ---------------------------------------------------------------- the playbook with people


def test_acknowledge_tick_resolve_and_reopen_are_recorded_and_audited(
    uc: IncidentUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> None:
    view = opened(uc, config)
    clock.now += timedelta(minutes=4)

    acked = uc.acknowledge(slack("takahashi.yui", config), view.id)
    assert acked.state is IncidentState.ACKNOWLEDGED
    assert [(h.event.value, h.member_name) for h in acked.history] == [("acknowledge", "高橋 結衣")]

    clock.now += timedelta(minutes=1)
    ticked = uc.tick(slack("takahashi.yui", config), view.id, "report_chief")
    [line] = [c for c in ticked.checklist if c.item_id == "report_chief"]
    assert line.done
    assert line.done_by_id == "takahashi.yui"
    assert line.done_at == NOW + timedelta(minutes=5)
    assert line.text == "☑ 所属長へ報告（高橋 結衣、2026年11月24日(火) 10:05）"
    assert ticked.version == acked.version + 1

    with pytest.raises(AlreadyTicked):
        uc.tick(slack("ito.makoto", config), view.id, "report_chief")
    with pytest.raises(NotTheTicker):
        uc.untick(slack("ito.makoto", config), view.id, "report_chief")
    unticked = uc.untick(slack("takahashi.yui", config), view.id, "report_chief")
    assert not unticked.checklist[0].done
    uc.tick(slack("takahashi.yui", config), view.id, "report_chief")

    with pytest.raises(NotAnIncidentResponder) as refused:
        uc.resolve(slack("kato.shota", config), view.id, "誤検知でした")
    assert "佐藤 恵子" in str(refused.value)
    resolved = uc.resolve(
        slack("sato.keiko", config), view.id, "パスワードを変更し、不正な投稿を削除した"
    )
    assert resolved.state is IncidentState.RESOLVED
    assert resolved.resolution == "パスワードを変更し、不正な投稿を削除した"
    with pytest.raises(IncidentInvalidTransition):
        uc.acknowledge(slack("ito.makoto", config), view.id)

    reopened = uc.reopen(slack("sato.keiko", config), view.id, "同じ投稿が再び現れた")
    assert reopened.state is IncidentState.ACKNOWLEDGED
    assert reopened.resolution is None
    assert [h.event.value for h in reopened.history] == ["acknowledge", "resolve", "reopen"]
    assert reopened.checklist[0].done  # the steps done stay done

    assert actions(db, view.id) == [
        "incident.opened",
        "incident.acknowledged",
        "incident.ticked",
        "incident.refused",  # ticked twice
        "incident.refused",  # unticked by another
        "incident.unticked",
        "incident.ticked",
        "incident.refused",  # resolved by someone who is not a responder
        "incident.resolved",
        "incident.refused",  # acknowledged when resolved
        "incident.reopened",
    ]
    refusals = audit_details(db, "incident.refused")
    assert [r["refusal"] for r in refusals] == [
        "refusal.already_ticked",
        "refusal.not_the_ticker",
        "refusal.not_an_incident_responder",
        "refusal.incident_invalid_transition",
    ]
    assert refusals[2]["platform_user"] == "U0KATOSHO"
    [resolution] = audit_details(db, "incident.resolved")
    assert resolution["note"] == "パスワードを変更し、不正な投稿を削除した"


def test_strangers_and_unknown_incidents_are_refused_and_audited(
    uc: IncidentUseCases, config: AppConfig, db: Database
) -> None:
    view = opened(uc, config)
    with pytest.raises(UnknownMember):
        uc.acknowledge(Actor("slack", "U0NOBODY0"), view.id)
    with pytest.raises(UnknownIncident):
        uc.acknowledge(slack("sato.keiko", config), 999)
    with pytest.raises(UnknownIncident):
        uc.get(999)
    events = audit_events(db)
    assert ("slack:U0NOBODY0", "incident.refused", f"incident:{view.id}") in events
    assert ("sato.keiko", "incident.refused", "incident:999") in events
    assert uc.get(view.id).state is IncidentState.OPEN


def test_the_open_list_shows_open_and_acknowledged_incidents_newest_first(
    uc: IncidentUseCases, config: AppConfig, clock: FixedClock
) -> None:
    first = opened(uc, config)
    clock.now += timedelta(minutes=1)
    second = uc.report(
        slack("kato.shota", config),
        kind="flaming",
        account_id="kankyo-x",
        url="https://x.com/midori_kankyo/status/1",
        notes="ごみ袋の投稿に批判が集まっています",
    )
    uc.resolve(slack("sato.keiko", config), first.id, "誤検知（職員がアプリから投稿した）")
    clock.now += timedelta(minutes=1)
    third = opened(uc, config, "midori-facebook")

    assert [v.id for v in uc.list_open()] == [third.id, second.id]
    assert [v.id for v in uc.list_incidents(states=("resolved",))] == [first.id]


# ---------------------------------------------------------------- members' reports


def test_a_members_report_is_an_incident_deduplicated_by_its_url(
    uc: IncidentUseCases, config: AppConfig, db: Database
) -> None:
    report = uc.report(
        slack("kato.shota", config),
        kind=IncidentKind.HIJACK,
        account_id="kankyo-x",
        url="https://twitter.com/midori_kankyo/status/123/",
        notes="身に覚えのない投稿があります",
    )

    assert report.is_new
    assert report.kind is IncidentKind.HIJACK
    assert report.account_id == "kankyo-x"
    assert report.source == "report"
    assert report.created_by == "kato.shota"
    assert "加藤 翔太さんから乗っ取りの報告がありました" in report.summary
    assert row_value(report, "URL") == "https://x.com/midori_kankyo/status/123"
    assert row_value(report, "メモ") == "身に覚えのない投稿があります"
    assert row_value(report, "報告者") == "加藤 翔太"
    assert "yamamoto.jun" in report.audience.dm_member_ids  # the owning section's chief

    again = uc.report(
        slack("nakamura.ai", config),
        kind="hijack",
        url="https://x.com/midori_kankyo/status/123",
        notes="同じ投稿です",
    )
    assert again.id == report.id
    assert not again.is_new
    assert len(incidents(db)) == 1
    assert actions(db, report.id) == ["incident.opened", "incident.reported_again"]
    [opening] = audit_details(db, "incident.opened")
    assert opening["source"] == "report"
    assert opening["via"] == "slack"


def test_a_report_needs_a_readable_url_or_notes_and_a_known_kind(
    uc: IncidentUseCases, config: AppConfig, db: Database
) -> None:
    member = slack("kato.shota", config)
    with pytest.raises(ReportNeedsDetails):
        uc.report(member, kind="hijack", url=" ", notes="  ")
    with pytest.raises(ReportUrlInvalid):
        uc.report(member, kind="hijack", url="javascript:alert(1)")
    with pytest.raises(UnknownIncidentKind):
        uc.report(member, kind="spam", notes="迷惑な投稿")
    assert incidents(db) == []
    assert [r["refusal"] for r in audit_details(db, "incident.refused")] == [
        "refusal.report_needs_details",
        "refusal.report_url_invalid",
        "refusal.unknown_incident_kind",
    ]
    # Notes alone are enough; nothing to deduplicate them by.
    first = uc.report(member, kind="other", notes="市長を名乗る DM が届いたと問い合わせ")
    second = uc.report(member, kind="other", notes="市長を名乗る DM が届いたと問い合わせ")
    assert first.id != second.id
    assert first.account_label == "アカウントの指定なし"


def test_a_reported_impostor_is_scored_and_shares_the_monitors_key(
    uc: IncidentUseCases, config: AppConfig, db: Database
) -> None:
    report = uc.report(
        slack("kato.shota", config),
        kind="impersonation",
        url="https://x.com/midori_clty",
        notes="市の公式を名乗っています",
    )

    assert report.kind is IncidentKind.IMPERSONATION
    assert report.account_id == "midori-x"  # the account it imitates best
    assert report.dedupe_key == "impersonation:lookalike:x:midori_clty"
    assert "@midori_clty" in report.summary
    assert "スコア" in report.summary
    assert row_value(report, "疑わしいアカウント") == "@midori_clty"
    assert "ユーザー名 @midori_clty" in row_value(report, "理由")
    # The monitor's look-up finds the same impostor later: no second incident.
    candidate = imp.Candidate("midori_clty", "みどり市公式(偽)", platform=Platform.X)
    rules = uc.impersonation_rules()
    signals = imp.detect([candidate], imp.watches(config.accounts), rules)
    assert [s.dedupe_key for s in signals] == [report.dedupe_key]
    assert uc.open_detected(signals) == []
    assert len(incidents(db)) == 1


def test_reporting_one_of_the_citys_or_an_allow_listed_account_is_refused(
    uc: IncidentUseCases, config: AppConfig, db: Database
) -> None:
    member = slack("kato.shota", config)
    with pytest.raises(ReportedKnownAccount):
        uc.report(member, kind="impersonation", url="https://x.com/midori_tourism")
    with pytest.raises(ReportedKnownAccount) as ours:
        uc.report(member, kind="impersonation", url="https://x.com/Midori_City")
    assert "@Midori_City" in str(ours.value)
    assert incidents(db) == []


def test_report_urls_are_normalised_and_profiles_recognised() -> None:
    assert normalise_url("HTTPS://WWW.Twitter.com/midori_clty/") == "https://x.com/midori_clty"
    assert normalise_url("x.com/a?b=1#frag") == "https://x.com/a?b=1"
    assert profile_of("https://x.com/midori_clty/status/12") == (Platform.X, "midori_clty")
    assert profile_of("https://x.com/i/status/12") is None
    assert profile_of("https://x.com/midori_clty/likes") is None
    assert profile_of("https://instagram.com/midori_city_0fficial") == (
        Platform.INSTAGRAM,
        "midori_city_0fficial",
    )
    assert profile_of("https://www.city.midori.lg.jp/news") is None


# ---------------------------------------------------------------- the steps' actions


def test_the_impersonation_notice_is_a_draft_that_goes_through_approval(
    uc: IncidentUseCases,
    config: AppConfig,
    usecases: DraftUseCases,
    db: Database,
) -> None:
    report = uc.report(
        slack("kato.shota", config), kind="impersonation", url="https://x.com/midori_clty"
    )

    result = uc.run_action(slack("takahashi.yui", config), report.id, "impersonation_notice")

    assert result.action is ItemAction.DRAFT_NOTICE
    assert result.draft_id is not None
    draft = usecases.get(result.draft_id)
    assert draft.state is DraftState.DRAFT
    assert [t.account_id for t in draft.targets] == ["midori-x"]
    assert draft.author_id == "takahashi.yui"
    assert "なりすましアカウントにご注意ください" in draft.text
    assert "@midori_city" in draft.text
    assert "@midori_clty は市とは無関係です" in draft.text
    assert not draft.errors
    [line] = [c for c in result.incident.checklist if c.item_id == "impersonation_notice"]
    assert line.draft_ids == (result.draft_id,)
    assert not line.done  # done once the notice is out: a person ticks it
    assert f"下書き #{result.draft_id}" in line.text
    # A second press (a replayed click) gives the same draft.
    again = uc.run_action(slack("ito.makoto", config), report.id, "impersonation_notice")
    assert again.draft_id == result.draft_id
    # ... which is approved like any post.
    usecases.submit(slack("takahashi.yui", config), result.draft_id)
    usecases.peer_check(
        slack("ito.makoto", config), result.draft_id, shown_revision=1, checklist=ALL
    )
    acks = tuple(f.warning_id for f in usecases.get(result.draft_id).warnings if f.warning_id)
    usecases.approve(
        slack("sato.keiko", config),
        result.draft_id,
        shown_revision=1,
        checklist=ALL,
        acknowledged=acks,
    )
    assert usecases.get(result.draft_id).state is DraftState.APPROVED
    [action] = audit_details(db, "incident.action")
    assert action == {
        "item": "impersonation_notice",
        "action": "draft_notice",
        "draft_id": result.draft_id,
        "targets": ["midori-x"],
    }


def test_the_hijack_notice_goes_out_from_the_other_official_accounts(
    uc: IncidentUseCases, config: AppConfig, usecases: DraftUseCases
) -> None:
    view = opened(uc, config)

    result = uc.run_action(slack("takahashi.yui", config), view.id, "hijack_notice")

    assert result.draft_id is not None
    draft = usecases.get(result.draft_id)
    assert [t.account_id for t in draft.targets] == ["midori-facebook", "midori-line"]
    assert "X公式アカウント @midori_city が第三者に乗っ取られ" in draft.text


def test_the_pause_step_holds_the_accounts_scheduled_posts_and_is_ticked(
    uc: IncidentUseCases, config: AppConfig, usecases: DraftUseCases, db: Database
) -> None:
    draft_id = approve(usecases, config, publish_at=NOW + timedelta(days=1))
    view = opened(uc, config)

    with pytest.raises(NotAllowedToPause):
        uc.run_action(slack("kato.shota", config), view.id, "pause_scheduled")
    result = uc.run_action(slack("sato.keiko", config), view.id, "pause_scheduled")

    assert result.pause is not None
    assert result.pause.account_id == "midori-x"
    [publication] = publications(db, draft_id)
    assert publication.state == "held"
    assert publication.hold_reason == "paused"
    assert result.pause.publication_ids == (publication.id,)
    [line] = [c for c in result.incident.checklist if c.item_id == "pause_scheduled"]
    assert line.done
    assert line.done_by_id == "sato.keiko"
    assert "1件を保留" in line.text
    assert "incident.action" in actions(db, view.id)


def test_the_pause_is_refused_clearly_when_publishing_is_not_installed(
    uc: IncidentUseCases, config: AppConfig, monkeypatch: pytest.MonkeyPatch, db: Database
) -> None:
    view = opened(uc, config)
    monkeypatch.delattr(handlers, "publishing", raising=False)
    monkeypatch.setitem(sys.modules, "handlers.publishing", None)

    with pytest.raises(IncidentActionUnavailable) as refused:
        uc.run_action(slack("sato.keiko", config), view.id, "pause_scheduled")

    assert "まだ使えません" in str(refused.value)
    assert not uc.get(view.id).checklist[5].done
    assert audit_details(db, "incident.refused")[-1]["refusal"] == (
        "refusal.incident_action_unavailable"
    )


def test_a_step_without_an_action_says_so(uc: IncidentUseCases, config: AppConfig) -> None:
    view = opened(uc, config)
    with pytest.raises(NoActionForStep):
        uc.run_action(slack("sato.keiko", config), view.id, "report_chief")


# ---------------------------------------------------------------- reminders


def test_unacknowledged_incidents_are_reminded_of_once_per_interval(
    uc: IncidentUseCases, config: AppConfig, clock: FixedClock, db: Database
) -> None:
    waiting = opened(uc, config)
    taken = opened(uc, config, "midori-facebook")
    uc.acknowledge(slack("sato.keiko", config), taken.id)
    after = timedelta(minutes=30)

    clock.now = NOW + timedelta(minutes=29)
    assert uc.claim_reminders(after=after) == []
    clock.now = NOW + timedelta(minutes=31)
    [due] = uc.claim_reminders(after=after)
    assert due.id == waiting.id
    assert due.reminded_at == clock.now
    assert uc.reminder_text(due).startswith("【未対応】31分前に検知したインシデント")
    assert uc.claim_reminders(after=after) == []  # claimed: another replica gets nothing
    clock.now = NOW + timedelta(minutes=62)
    assert [v.id for v in uc.claim_reminders(after=after)] == [waiting.id]
    uc.acknowledge(slack("ito.makoto", config), waiting.id)
    clock.now = NOW + timedelta(hours=3)
    assert uc.claim_reminders(after=after) == []
    assert actions(db, waiting.id).count("incident.reminded") == 2
