from __future__ import annotations

import ast
import string
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from tests.workflows.incidents.conftest import NOW, ORGANISATION, account, member
from workflows.catalogue import Lang, message
from workflows.incidents.model import IncidentKind
from workflows.incidents.playbook import (
    TRANSITIONS,
    AlreadyTicked,
    Checklist,
    IncidentEvent,
    IncidentInvalidTransition,
    IncidentState,
    ItemAction,
    NotTheTicker,
    NotTicked,
    RecipientRole,
    ReopenReasonRequired,
    ResolutionNoteRequired,
    UnknownChecklistItem,
    acknowledge,
    hijack_notice,
    impersonation_notice,
    mermaid,
    new_incident,
    playbook,
    recipients,
    reopen,
    resolve,
    tick,
    tick_step,
    transition,
    untick,
)
from workflows.org import Directory
from workflows.xtext import weighted_length

ROOT = Path(__file__).resolve().parents[3]
DIAGRAM = ROOT / "workflows" / "incidents" / "playbook.mmd"
SATO = member("sato.keiko")
KATO = member("kato.shota")


# ---------------------------------------------------------------- states


def test_diagram_beside_the_table_is_current() -> None:
    assert DIAGRAM.read_text(encoding="utf-8") == mermaid()


@given(st.sampled_from(list(IncidentState)), st.sampled_from(list(IncidentEvent)))
def test_transition_is_the_table(state: IncidentState, event: IncidentEvent) -> None:
    if (state, event) in TRANSITIONS:
        assert transition(state, event) is TRANSITIONS[(state, event)]
    else:
        with pytest.raises(IncidentInvalidTransition) as caught:
            transition(state, event)
        assert str(caught.value) == (
            f"このインシデントは現在「{state.label()}」のため、「{event.label()}」はできません。"
        )


def test_an_incident_is_acknowledged_then_resolved_with_a_note() -> None:
    incident = new_incident(IncidentKind.HIJACK, "midori-x")
    assert incident.state is IncidentState.OPEN
    incident = acknowledge(incident, SATO, NOW)
    assert incident.state is IncidentState.ACKNOWLEDGED
    with pytest.raises(ResolutionNoteRequired) as caught:
        resolve(incident, SATO, NOW, "   ")
    assert "どのように解決したか" in str(caught.value)
    incident = resolve(incident, SATO, NOW + timedelta(hours=2), " パスワードを変更し復旧 ")
    assert incident.state is IncidentState.RESOLVED
    assert incident.resolution == "パスワードを変更し復旧"
    assert [(s.event, s.member_id) for s in incident.history] == [
        (IncidentEvent.ACKNOWLEDGE, "sato.keiko"),
        (IncidentEvent.RESOLVE, "sato.keiko"),
    ]


def test_a_false_alarm_is_resolved_straight_away() -> None:
    incident = resolve(new_incident(IncidentKind.IMPERSONATION, None), KATO, NOW, "誤検知")
    assert incident.state is IncidentState.RESOLVED


def test_a_resolved_incident_is_reopened_with_a_reason() -> None:
    resolved = resolve(new_incident(IncidentKind.FLAMING, "midori-x"), SATO, NOW, "収束")
    with pytest.raises(ReopenReasonRequired):
        reopen(resolved, KATO, NOW, "")
    reopened = reopen(resolved, KATO, NOW + timedelta(days=1), "再び批判が増えている")
    assert reopened.state is IncidentState.ACKNOWLEDGED
    assert reopened.resolution is None
    with pytest.raises(IncidentInvalidTransition):
        acknowledge(reopened, SATO, NOW)


def test_the_same_incident_cannot_be_acknowledged_twice() -> None:
    incident = acknowledge(new_incident(IncidentKind.HIJACK, "midori-x"), SATO, NOW)
    with pytest.raises(IncidentInvalidTransition) as caught:
        acknowledge(incident, KATO, NOW)
    assert str(caught.value) == "このインシデントは現在「対応中」のため、「対応開始」はできません。"


# ---------------------------------------------------------------- the manual's checklists


def labels(kind: IncidentKind, lang: Lang = Lang.JA) -> list[str]:
    return [item.label(lang) for item in playbook(kind).items]


def test_hijack_steps_follow_the_manual() -> None:
    assert labels(IncidentKind.HIJACK) == [
        "所属長へ報告",
        "記者発表等の検討",
        "シティ・プロモーション課へ報告",
        "デジタル推進課へ報告",
        "パスワード変更・ログイン確認",
        "予約投稿の一時停止",
        "他の公式アカウント・市ホームページで乗っ取り被害を周知",
    ]
    hijack = playbook(IncidentKind.HIJACK)
    assert hijack.manual == "8 (1)"
    assert hijack.item("pause_scheduled").action is ItemAction.PAUSE_SCHEDULED
    assert hijack.item("hijack_notice").action is ItemAction.DRAFT_NOTICE


def test_impersonation_steps_follow_the_manual() -> None:
    assert labels(IncidentKind.IMPERSONATION) == [
        "シティ・プロモーション課へ報告",
        "デジタル推進課へ報告",
        "公式アカウントで注意喚起（なりすましへの注意と正しい情報）",
        "市ホームページで周知",
        "サイト運営会社へ通報",
        "警察への相談の検討",
    ]
    notice = playbook(IncidentKind.IMPERSONATION).item("impersonation_notice")
    assert notice.action is ItemAction.DRAFT_NOTICE
    assert notice.label_en.startswith("Notice posted from the official account")


def test_flaming_steps_follow_the_manual() -> None:
    assert labels(IncidentKind.FLAMING) == [
        "上司へ報告",
        "事実確認",
        "訂正・謝罪文の検討（削除だけで済ませない）",
        "脅迫等があれば警察へ通報",
    ]
    assert playbook(IncidentKind.FLAMING).item("correction").action is (ItemAction.DRAFT_CORRECTION)


@pytest.mark.parametrize("kind", list(IncidentKind))
def test_every_step_has_both_labels(kind: IncidentKind) -> None:
    assert all(labels(kind))
    assert all(labels(kind, Lang.EN))
    assert labels(kind) != labels(kind, Lang.EN)


# ---------------------------------------------------------------- ticking


def test_a_tick_records_who_and_when() -> None:
    checklist = tick(Checklist(IncidentKind.HIJACK), "report_chief", SATO, NOW)
    done = checklist.tick_of("report_chief")
    assert done is not None
    assert (done.member_id, done.member_name, done.at) == ("sato.keiko", "佐藤 恵子", NOW)
    assert checklist.lines()[:2] == (
        "☑ 所属長へ報告（佐藤 恵子、2026年11月20日(金) 10:00）",
        "☐ 記者発表等の検討",
    )
    assert not checklist.complete
    assert next(i.id for i in checklist.pending()) == "press_release"


def test_a_step_is_ticked_once() -> None:
    checklist = tick(Checklist(IncidentKind.HIJACK), "report_chief", SATO, NOW)
    with pytest.raises(AlreadyTicked) as caught:
        tick(checklist, "report_chief", KATO, NOW + timedelta(minutes=1))
    assert (
        str(caught.value)
        == "「所属長へ報告」は既に対応済みです（佐藤 恵子、2026年11月20日(金) 10:00）。"
    )


def test_only_the_member_who_ticked_may_untick() -> None:
    checklist = tick(Checklist(IncidentKind.FLAMING), "fact_check", SATO, NOW)
    with pytest.raises(NotTheTicker) as caught:
        untick(checklist, "fact_check", KATO)
    assert "佐藤 恵子さん" in str(caught.value)
    assert untick(checklist, "fact_check", SATO).tick_of("fact_check") is None
    with pytest.raises(NotTicked):
        untick(Checklist(IncidentKind.FLAMING), "fact_check", SATO)


def test_a_step_of_another_kind_is_refused() -> None:
    with pytest.raises(UnknownChecklistItem) as caught:
        tick(Checklist(IncidentKind.FLAMING), "pause_scheduled", SATO, NOW)
    assert str(caught.value) == "「pause_scheduled」は炎上の対応項目にありません。"


def test_every_step_done_completes_the_checklist() -> None:
    incident = new_incident(IncidentKind.OTHER, "midori-x")
    for n, item in enumerate(playbook(IncidentKind.OTHER).items):
        incident = tick_step(incident, item, SATO, NOW + timedelta(minutes=n))
    assert incident.checklist.complete


@given(st.lists(st.sampled_from([i.id for i in playbook(IncidentKind.HIJACK).items])))
def test_ticks_never_repeat(items: list[str]) -> None:
    checklist = Checklist(IncidentKind.HIJACK)
    for item in items:
        try:
            checklist = tick(checklist, item, SATO, NOW)
        except AlreadyTicked:
            assert checklist.tick_of(item) is not None
    assert len(checklist.ticks) == len(set(items))


# ---------------------------------------------------------------- who is told


def test_a_hijack_reaches_the_owning_chief_and_both_divisions(directory: Directory) -> None:
    found = recipients(IncidentKind.HIJACK, account("kankyo-x"), directory)
    assert [(r.member_id, r.role) for r in found] == [
        ("yamamoto.jun", RecipientRole.OWNER_CHIEF),
        ("nakamura.ai", RecipientRole.OWNER_CHIEF),
        ("sato.keiko", RecipientRole.CITY_PROMOTION),
        ("suzuki.hiroshi", RecipientRole.CITY_PROMOTION),
        ("takahashi.yui", RecipientRole.CITY_PROMOTION),
        ("kobayashi.takeshi", RecipientRole.DIGITAL_PROMOTION),
    ]
    assert "kato.shota" not in {r.member_id for r in found}  # not a chief


def test_each_member_is_told_once(directory: Directory) -> None:
    found = recipients(IncidentKind.IMPERSONATION, account("midori-x"), directory)
    ids = [r.member_id for r in found]
    assert len(ids) == len(set(ids))
    assert found[0].role is RecipientRole.OWNER_CHIEF  # the City Promotion chief owns it


def test_a_flame_does_not_page_digital_promotion(directory: Directory) -> None:
    found = recipients(IncidentKind.FLAMING, account("kankyo-x"), directory)
    assert RecipientRole.DIGITAL_PROMOTION not in {r.role for r in found}


def test_without_an_account_both_divisions_are_told(directory: Directory) -> None:
    found = recipients(IncidentKind.IMPERSONATION, None, directory)
    assert {r.role for r in found} == {
        RecipientRole.CITY_PROMOTION,
        RecipientRole.DIGITAL_PROMOTION,
    }


# ---------------------------------------------------------------- notices


def test_the_impersonation_notice() -> None:
    text = impersonation_notice(
        ORGANISATION,
        [account("midori-x")],
        suspect="@midori_clty",
        homepage="https://www.city.midori.lg.jp/",
    )
    assert text == (
        "【注意】みどり市を名乗るなりすましアカウントにご注意ください。"
        "市の公式アカウントは @midori_city です。"
        "@midori_clty は市とは無関係です。"
        "なりすましアカウントのリンクを開いたり、個人情報を入力したりしないでください。"
        "詳しくは市ホームページへ。https://www.city.midori.lg.jp/"
    )
    assert weighted_length(text) <= 280  # fits one X post


def test_the_impersonation_notice_names_several_accounts() -> None:
    text = impersonation_notice(
        ORGANISATION, [account("midori-x"), account("midori-instagram")], lang=Lang.EN
    )
    assert text.startswith(
        "[Warning] Beware of accounts impersonating Midori City. The city's official account is "
        "X @midori_city, Instagram @midori_city_official."
    )
    with pytest.raises(ValueError, match="official account"):
        impersonation_notice(ORGANISATION, [])


def test_the_hijack_notice() -> None:
    text = hijack_notice(
        ORGANISATION, account("midori-x"), homepage="https://www.city.midori.lg.jp/"
    )
    assert text.startswith(
        "【お知らせ】みどり市のX公式アカウント @midori_city が第三者に乗っ取られ、"
        "市と無関係の投稿がされています。"
    )
    assert weighted_length(text) <= 280
    assert "has been taken over" in hijack_notice(ORGANISATION, account("midori-x"), lang=Lang.EN)


# ---------------------------------------------------------------- the package


FORBIDDEN = {"slack_bolt", "slack_sdk", "botbuilder", "tweepy", "aiohttp", "sqlmodel", "sqlalchemy"}


def test_the_incident_rules_import_no_platform_network_or_database_library() -> None:
    for path in (ROOT / "workflows" / "incidents").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            roots = {name.split(".")[0] for name in names}
            assert not roots & (FORBIDDEN | {"sns", "storage", "handlers", "bot"}), path.name


# ---------------------------------------------------------------- the catalogue


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_incident_messages_have_the_same_placeholders_in_both_languages() -> None:
    path = ROOT / "workflows" / "messages" / "incidents.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key in data:
        ja, en = message(key, Lang.JA), message(key, Lang.EN)
        assert _fields(ja) == _fields(en), key
