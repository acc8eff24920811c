"""The organisation the incident tests use: みどり市, modelled on app.yaml (all fictional)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from workflows.checks.model import Platform
from workflows.org import Account, Directory, Member, Organisation, Section

JST = ZoneInfo("Asia/Tokyo")
# Friday 20 November 2026, 10:00 in Tokyo.
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=JST)

ORGANISATION = Organisation(name="みどり市", name_en="Midori City")

SECTIONS = (
    Section(
        name="シティ・プロモーション課",
        chief="sato.keiko",
        deputies=("suzuki.hiroshi",),
        city_promotion=True,
    ),
    Section(name="デジタル推進課", chief="kobayashi.takeshi", digital_promotion=True),
    Section(name="環境推進課", chief="yamamoto.jun", deputies=("nakamura.ai",)),
)

MEMBERS = (
    Member(id="sato.keiko", name="佐藤 恵子", section="シティ・プロモーション課"),
    Member(id="suzuki.hiroshi", name="鈴木 博", section="シティ・プロモーション課"),
    Member(id="takahashi.yui", name="高橋 結衣", section="シティ・プロモーション課"),
    Member(id="kobayashi.takeshi", name="小林 剛", section="デジタル推進課"),
    Member(id="yamamoto.jun", name="山本 純", section="環境推進課"),
    Member(id="nakamura.ai", name="中村 愛", section="環境推進課"),
    Member(id="kato.shota", name="加藤 翔太", section="環境推進課"),
)


def _account(**fields: object) -> Account:
    base: dict[str, object] = {
        "owner_section": "シティ・プロモーション課",
        "approving_section": "シティ・プロモーション課",
    }
    return Account.model_validate(base | fields)


ACCOUNTS = (
    _account(
        id="midori-x",
        platform=Platform.X,
        handle="midori_city",
        display_name="みどり市",
        official=True,
        watch_names=("みどり市", "midori_city", "みどり市公式"),
    ),
    _account(
        id="midori-instagram",
        platform=Platform.INSTAGRAM,
        handle="midori_city_official",
        display_name="みどり市",
        official=True,
        watch_names=("みどり市", "midori_city_official"),
    ),
    _account(
        id="midori-facebook",
        platform=Platform.FACEBOOK,
        handle="midori.city",
        display_name="みどり市",
        official=True,
        watch_names=("みどり市",),
    ),
    _account(
        id="kankyo-x",
        platform=Platform.X,
        handle="midori_kankyo",
        display_name="みどり市環境推進課",
        owner_section="環境推進課",
        approving_section="環境推進課",
        watch_names=("みどり市環境推進課", "midori_kankyo"),
    ),
    _account(
        id="museum-facebook",
        platform=Platform.FACEBOOK,
        handle="midori.museum",
        display_name="みどり市立博物館",
        allow_native_posts=True,
    ),
)

ALLOWLIST = ("midori_tourism", "midori_shakyo")


@pytest.fixture
def directory() -> Directory:
    return Directory(SECTIONS, MEMBERS, ACCOUNTS)


def account(account_id: str) -> Account:
    return next(a for a in ACCOUNTS if a.id == account_id)


def member(member_id: str) -> Member:
    return next(m for m in MEMBERS if m.id == member_id)
