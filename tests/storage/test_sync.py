from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.config import AppConfig, load_config, parse_config
from storage import audit
from storage.engine import Database
from storage.sync import sync_config
from storage.tables import Account, AuditEvent, Member, Section

JST = ZoneInfo("Asia/Tokyo")
AT = datetime(2026, 11, 20, 8, 0, tzinfo=JST)
REPO = Path(__file__).resolve().parents[2]

SMALL = """
organisation: {name: みどり市}
sections:
  - {name: 環境推進課, chief: yamamoto.jun, deputies: [nakamura.ai]}
  - {name: 博物館, chief: yamada.hanako}
members:
  - {id: yamamoto.jun, name: 山本 純, section: 環境推進課, slack_user_id: U0YAMAJUN}
  - {id: nakamura.ai, name: 中村 愛, section: 環境推進課, slack_user_id: U0NAKAAI0}
  - {id: kato.shota, name: 加藤 翔太, section: 環境推進課, slack_user_id: U0KATOSHO}
  - {id: yamada.hanako, name: 山田 花子, section: 博物館}
accounts:
  - id: kankyo-x
    platform: x
    handle: midori_kankyo
    display_name: みどり市環境推進課
    owner_section: 環境推進課
    approving_section: 環境推進課
    purpose: ごみ・リサイクルの情報発信
    hours: {start: "08:30", end: "17:15"}
  - id: museum-facebook
    platform: facebook
    handle: midori.museum
    display_name: みどり市立博物館
    owner_section: 博物館
    approving_section: 博物館
    peer_checks: 2
"""


def _config(text: str = SMALL) -> AppConfig:
    return parse_config(text)


def _sync(db: Database, config: AppConfig) -> list[tuple[str, str, dict[str, Any]]]:
    with db.session() as session:
        events = sync_config(session, config, at=AT)
    return [(e.action, e.subject, e.details) for e in events]


def _rows(db: Database) -> tuple[dict[str, Section], dict[str, Member], dict[str, Account]]:
    with db.session() as session:
        return (
            {s.name: s for s in session.exec(select(Section))},
            {m.id: m for m in session.exec(select(Member))},
            {a.id: a for a in session.exec(select(Account))},
        )


def _audit_is_intact(db: Database) -> int:
    with db.session(read_only=True) as session:
        broken, head = audit.walk(session)
    assert broken is None
    return head.count


def test_first_sync_adds_everything_and_audits_each_row(db: Database) -> None:
    events = _sync(db, _config())
    assert [(action, subject) for action, subject, _ in events] == [
        ("config.section.added", "section:環境推進課"),
        ("config.section.added", "section:博物館"),
        ("config.member.added", "member:yamamoto.jun"),
        ("config.member.added", "member:nakamura.ai"),
        ("config.member.added", "member:kato.shota"),
        ("config.member.added", "member:yamada.hanako"),
        ("config.account.added", "account:kankyo-x"),
        ("config.account.added", "account:museum-facebook"),
    ]
    assert events[0][2] == {
        "chief": "yamamoto.jun",
        "deputies": ["nakamura.ai"],
        "city_promotion": False,
        "digital_promotion": False,
    }
    sections, members, accounts = _rows(db)
    assert sections["環境推進課"].deputies == ["nakamura.ai"]
    assert members["kato.shota"].slack_user_id == "U0KATOSHO"
    assert members["yamada.hanako"].slack_user_id is None
    kankyo = accounts["kankyo-x"]
    assert (kankyo.platform, kankyo.approving_section, kankyo.peer_checks) == ("x", "環境推進課", 1)
    assert kankyo.settings["purpose"] == "ごみ・リサイクルの情報発信"
    assert kankyo.settings["hours"]["start"] == "08:30:00"
    assert accounts["museum-facebook"].peer_checks == 2
    assert all(s.active for s in sections.values())
    assert all(m.active for m in members.values())
    assert all(a.active for a in accounts.values())


def test_syncing_the_same_config_again_changes_nothing(db: Database) -> None:
    _sync(db, _config())
    count = _audit_is_intact(db)
    assert _sync(db, _config()) == []
    assert _audit_is_intact(db) == count == 8


def test_the_real_app_yaml_syncs_idempotently(db: Database) -> None:
    config = load_config(REPO / "app.yaml")
    events = _sync(db, config)
    assert len(events) == len(config.sections) + len(config.members) + len(config.accounts)
    assert _sync(db, config) == []
    _, members, accounts = _rows(db)
    assert len(members) == len(config.members)
    official = [a for a in accounts.values() if a.official]
    assert official
    assert {a.approving_section for a in official} == {
        s.name for s in config.sections if s.city_promotion
    }


def test_a_removed_member_becomes_inactive_and_is_kept(db: Database) -> None:
    _sync(db, _config())
    removed = SMALL.replace(
        "  - {id: kato.shota, name: 加藤 翔太, section: 環境推進課, slack_user_id: U0KATOSHO}\n", ""
    )
    assert _sync(db, _config(removed)) == [
        ("config.member.deactivated", "member:kato.shota", {"changes": {}})
    ]
    _, members, _ = _rows(db)
    assert not members["kato.shota"].active
    # Still known by chat identity, so a click from them can be recognised and refused.
    assert members["kato.shota"].slack_user_id == "U0KATOSHO"
    assert _sync(db, _config(removed)) == []

    # Back in app.yaml: active again.
    assert _sync(db, _config()) == [
        ("config.member.reactivated", "member:kato.shota", {"changes": {}})
    ]
    _, members, _ = _rows(db)
    assert members["kato.shota"].active
    assert _audit_is_intact(db) == 10


def test_a_changed_member_is_audited_with_before_and_after(db: Database) -> None:
    _sync(db, _config())
    moved = SMALL.replace(
        "{id: kato.shota, name: 加藤 翔太, section: 環境推進課, slack_user_id: U0KATOSHO}",
        "{id: kato.shota, name: 加藤 翔太, section: 博物館, slack_user_id: U0KATOSHO,"
        " teams_aad_id: 1f0c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a08}",
    )
    assert _sync(db, _config(moved)) == [
        (
            "config.member.changed",
            "member:kato.shota",
            {
                "changes": {
                    "section": {"before": "環境推進課", "after": "博物館"},
                    "teams_aad_id": {
                        "before": None,
                        "after": "1f0c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a08",
                    },
                }
            },
        )
    ]


def test_two_members_can_swap_slack_ids(db: Database) -> None:
    _sync(db, _config())
    swapped = (
        SMALL.replace("slack_user_id: U0NAKAAI0", "slack_user_id: TMP")
        .replace("slack_user_id: U0KATOSHO", "slack_user_id: U0NAKAAI0")
        .replace("slack_user_id: TMP", "slack_user_id: U0KATOSHO")
    )
    events = _sync(db, _config(swapped))
    assert [(a, s) for a, s, _ in events] == [
        ("config.member.changed", "member:nakamura.ai"),
        ("config.member.changed", "member:kato.shota"),
    ]
    assert events[0][2] == {
        "changes": {"slack_user_id": {"before": "U0NAKAAI0", "after": "U0KATOSHO"}}
    }
    _, members, _ = _rows(db)
    assert members["nakamura.ai"].slack_user_id == "U0KATOSHO"
    assert members["kato.shota"].slack_user_id == "U0NAKAAI0"


def test_a_slack_id_of_someone_who_left_can_go_to_a_new_member(db: Database) -> None:
    _sync(db, _config())
    replaced = SMALL.replace(
        "{id: kato.shota, name: 加藤 翔太, section: 環境推進課, slack_user_id: U0KATOSHO}",
        "{id: kato.shota2, name: 加藤 翔太, section: 環境推進課, slack_user_id: U0KATOSHO}",
    )
    events = _sync(db, _config(replaced))
    assert [(a, s) for a, s, _ in events] == [
        ("config.member.added", "member:kato.shota2"),
        ("config.member.deactivated", "member:kato.shota"),
    ]
    assert events[1][2] == {"changes": {"slack_user_id": {"before": "U0KATOSHO", "after": None}}}
    _, members, _ = _rows(db)
    assert members["kato.shota2"].slack_user_id == "U0KATOSHO"
    assert members["kato.shota"].slack_user_id is None
    assert not members["kato.shota"].active


def test_account_settings_changes_are_listed_key_by_key(db: Database) -> None:
    _sync(db, _config())
    changed = SMALL.replace(
        "purpose: ごみ・リサイクルの情報発信", "purpose: ごみ・リサイクル、環境イベントの情報発信"
    ).replace("peer_checks: 2", "peer_checks: 1")
    assert _sync(db, _config(changed)) == [
        (
            "config.account.changed",
            "account:kankyo-x",
            {
                "changes": {
                    "settings.purpose": {
                        "before": "ごみ・リサイクルの情報発信",
                        "after": "ごみ・リサイクル、環境イベントの情報発信",
                    }
                }
            },
        ),
        (
            "config.account.changed",
            "account:museum-facebook",
            {"changes": {"peer_checks": {"before": 2, "after": 1}}},
        ),
    ]


def test_a_removed_section_and_account_become_inactive(db: Database) -> None:
    _sync(db, _config())
    without_museum = parse_config(SMALL).model_copy(
        update={
            "sections": parse_config(SMALL).sections[:1],
            "members": parse_config(SMALL).members[:3],
            "accounts": parse_config(SMALL).accounts[:1],
        }
    )
    events = _sync(db, without_museum)
    assert [(a, s) for a, s, _ in events] == [
        ("config.section.deactivated", "section:博物館"),
        ("config.member.deactivated", "member:yamada.hanako"),
        ("config.account.deactivated", "account:museum-facebook"),
    ]
    sections, _, accounts = _rows(db)
    assert not sections["博物館"].active
    assert not accounts["museum-facebook"].active
    assert sections["環境推進課"].active


def test_sync_events_carry_the_actor_and_time(db: Database) -> None:
    with db.session() as session:
        sync_config(session, _config(), at=AT, actor="admin:sato.keiko")
    with db.session() as session:
        events = session.exec(select(AuditEvent)).all()
    assert {e.actor for e in events} == {"admin:sato.keiko"}
    assert {e.at for e in events} == {AT}


def test_replicas_syncing_a_fresh_database_at_once_do_not_collide(db: Database) -> None:
    import threading

    config = load_config(REPO / "app.yaml")
    start = threading.Barrier(4)
    results: list[int | BaseException] = []

    def replica() -> None:
        start.wait()
        try:
            with db.session() as session:
                results.append(len(sync_config(session, config, at=AT)))
        except BaseException as error:
            results.append(error)

    threads = [threading.Thread(target=replica) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not [r for r in results if isinstance(r, BaseException)], results
    expected = len(config.sections) + len(config.members) + len(config.accounts)
    assert sorted(results) == [0, 0, 0, expected]  # one replica mirrored, the others found it
    with db.session(read_only=True) as session:
        assert audit.verify(session) is None
