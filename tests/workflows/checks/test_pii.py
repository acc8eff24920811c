from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.conftest import DEFAULT_AT, CheckFn
from tests.workflows.checks.test_phone import CITY, MUNICIPAL_DRAFTS
from workflows.catalogue import Lang
from workflows.checks import CheckResult, CheckSettings, DraftToCheck, Finding, Severity
from workflows.checks.data import RULES_DIR, RuleDataError
from workflows.checks.engine import Checker
from workflows.checks.rules import pii
from workflows.checks.rules.phone import HYPHENS


def pii_findings(result: CheckResult) -> list[Finding]:
    return [f for f in result.findings if f.rule.split(".")[0] == "pii"]


def quoted(text: str, f: Finding) -> str:
    return text[f.start : f.end]


# --- e-mail ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "address", "domain"),
    [
        ("お問い合わせは midori.taro1985@gmail.com まで", "midori.taro1985@gmail.com", "gmail.com"),
        ("連絡先：hanako_s@docomo.ne.jp", "hanako_s@docomo.ne.jp", "docomo.ne.jp"),
        (
            "ｍｉｄｏｒｉ＠ｙａｈｏｏ．ｃｏ．ｊｐへ",
            "ｍｉｄｏｒｉ＠ｙａｈｏｏ．ｃｏ．ｊｐ",
            "yahoo.co.jp",
        ),
        ("taro@i.softbank.jp", "taro@i.softbank.jp", "i.softbank.jp"),
    ],
)
def test_free_mail_and_carrier_addresses_are_a_warning_even_without_settings(
    check: CheckFn, text: str, address: str, domain: str
) -> None:
    [f] = pii_findings(check(text))
    assert (f.rule, f.severity) == ("pii.email", Severity.WARNING)
    assert quoted(text, f) == address
    assert f"（{domain}）" in f.message
    assert "個人" in f.message


def test_an_address_on_another_domain_is_a_warning_once_official_domains_are_known(
    check: CheckFn,
) -> None:
    text = "申込は yamada@example.co.jp へ"
    assert pii_findings(check(text)) == []
    [f] = pii_findings(check(text, settings=CITY))
    assert (f.rule, f.severity) == ("pii.email", Severity.WARNING)
    assert quoted(text, f) == "yamada@example.co.jp"
    assert "公式ドメイン以外" in f.message


@pytest.mark.parametrize(
    "text",
    [
        "申込：kikaku@city.midori.lg.jp",
        "shimin@mail.city.midori.lg.jp まで",
        "taro.yamada@city.midori.lg.jp（担当：山田）",
    ],
)
def test_addresses_on_the_city_s_domains_are_fine(check: CheckFn, text: str) -> None:
    assert pii_findings(check(text, settings=CITY)) == []


def test_an_e_mail_address_is_not_also_reported_as_a_link(check: CheckFn) -> None:
    rules = [f.rule for f in check("連絡 taro@gmail.com", settings=CITY).findings]
    assert "pii.email" in rules
    assert not any(r.startswith("url") for r in rules)


# --- mobile numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("担当：山田（090-1234-5678）", "090-1234-5678"),
        ("携帯：０８０－１２３４－５６７８", "０８０－１２３４－５６７８"),
        ("07012345678までお電話を", "07012345678"),
        ("+81-90-1234-5678", "+81-90-1234-5678"),
        ("(090)1234-5678", "(090)1234-5678"),
        ("090 1234 5678", "090 1234 5678"),
    ],
)
def test_mobile_numbers_are_an_error(check: CheckFn, text: str, number: str) -> None:
    [f] = pii_findings(check(text))
    assert (f.rule, f.severity) == ("pii.mobile", Severity.ERROR)
    assert quoted(text, f) == number
    assert "携帯電話" in f.message


def test_an_official_mobile_number_is_allowed(check: CheckFn) -> None:
    city = CheckSettings(official_phone_numbers=("090-1111-2222",))
    assert pii_findings(check("災害時の連絡先 090-1111-2222", settings=city)) == []
    assert [f.rule for f in pii_findings(check("090-1111-2223", settings=city))] == ["pii.mobile"]


@pytest.mark.parametrize(
    "text",
    ["電話 0277-12-3400", "受付 09:00-12:00", "整理番号 0901234567890", "050-1234-5678"],
)
def test_other_numbers_are_not_mobiles(check: CheckFn, text: str) -> None:
    assert [f for f in pii_findings(check(text)) if f.rule == "pii.mobile"] == []


# --- My Number ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first11", "check_digit"),
    [("12345678901", 8), ("98765432109", 3), ("11111111111", 8), ("31415926535", 2)],
)
def test_the_my_number_check_digit(first11: str, check_digit: int) -> None:
    assert pii.check_digit(first11) == check_digit


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_exactly_one_last_digit_completes_a_my_number(first11: str) -> None:
    assert 0 <= pii.check_digit(first11) <= 9


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("123456789018", "123456789018"),
        ("番号は1234 5678 9018です", "1234 5678 9018"),
        ("マイナンバー：1234-5678-9012", "1234-5678-9012"),
        ("123456789012（個人番号）", "123456789012"),
        ("個人番号：１２３４５６７８９０１２", "１２３４５６７８９０１２"),
    ],
)
def test_a_my_number_is_an_error_when_its_check_digit_holds_or_it_is_named(
    check: CheckFn, text: str, number: str
) -> None:
    [f] = pii_findings(check(text))
    assert (f.rule, f.severity) == ("pii.mynumber", Severity.ERROR)
    assert quoted(text, f) == number
    assert "マイナンバー" in f.message


def test_other_twelve_digit_numbers_are_a_warning_to_check(check: CheckFn) -> None:
    text = "番号 123456789012 をお控えください"
    [f] = pii_findings(check(text))
    assert (f.rule, f.severity) == ("pii.mynumber", Severity.WARNING)
    assert quoted(text, f) == "123456789012"
    assert "確認" in f.message


@pytest.mark.parametrize(
    "text",
    [
        "受付番号 123456789012",
        "お問合せ番号：1234-5678-9018",
        "1234-5678-9018-1234",
        "https://www.city.midori.lg.jp/item/123456789018",
        "予算 123,456,789,012円",
        "1234567890123",
        "マイナンバーカードの申請は市民課へ",
        "12345678901",
    ],
)
def test_numbers_that_are_not_my_numbers_are_left_alone(check: CheckFn, text: str) -> None:
    assert [f for f in pii_findings(check(text)) if f.rule == "pii.mynumber"] == []


# --- payment cards --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number", "brand"),
    [
        ("カード番号 4111 1111 1111 1111 で決済", "4111 1111 1111 1111", "Visa"),
        ("5555-5555-5555-4444", "5555-5555-5555-4444", "Mastercard"),
        ("JCB 3530111333300000", "3530111333300000", "JCB"),
        ("3782 822463 10005", "3782 822463 10005", "American Express"),
        ("6011111111111117", "6011111111111117", "Discover"),
        ("30569309025904", "30569309025904", "Diners Club"),
        ("2223000048400011", "2223000048400011", "Mastercard"),
    ],
)
def test_a_payment_card_number_is_an_error(
    check: CheckFn, text: str, number: str, brand: str
) -> None:
    [f] = pii_findings(check(text))
    assert (f.rule, f.severity) == ("pii.card", Severity.ERROR)
    assert quoted(text, f) == number
    assert f"（{brand}）" in f.message


@pytest.mark.parametrize(
    "text",
    [
        "4111 1111 1111 1112",  # fails Luhn
        "1234 5678 1234 5670",  # Luhn-valid, no issuer starts with 1
        "4111-1111 1111-1111",  # mixed separators: not written as one number
        "電話 0277-12-3400 0277-12-3411",
        "4901234567894",  # a Luhn-valid JAN code: 13 digits, which no card issued today has
        "会員番号 4111 1111 1111 1111",  # labelled as another number
    ],
)
def test_numbers_that_are_not_card_numbers_are_left_alone(check: CheckFn, text: str) -> None:
    assert [f for f in pii_findings(check(text)) if f.rule == "pii.card"] == []


def test_luhn() -> None:
    assert pii.luhn_valid("4111111111111111")
    assert not pii.luhn_valid("4111111111111112")
    assert pii.luhn_valid("0")


# --- a person's home address ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("山田太郎さん（緑町1-2-3）が受賞しました", "緑町1-2-3"),
        ("住所：みどり市大間々町1234-5 佐藤花子", "みどり市大間々町1234-5"),
        ("佐藤花子さん宅（みどり市大間々町1234-5）", "みどり市大間々町1234-5"),
        ("拾得者の鈴木一郎様方 みどり市笠懸町阿左美2-3-4", "みどり市笠懸町阿左美2-3-4"),
        ("落とし主の自宅（緑町3丁目4番5号）へ届けました", "緑町3丁目4番5号"),
        ("佐藤花子様（住所：みどり市大間々町1234番地）", "みどり市大間々町1234番地"),
        ("山田太郎さん（75歳、大間々町1234）", "大間々町1234"),
        ("みどり市大間々町1234-5 佐藤花子様", "みどり市大間々町1234-5"),
        (
            "〒376-0101 みどり市大間々町大間々1234-5 山田太郎様",
            "〒376-0101 みどり市大間々町大間々1234-5",
        ),
        ("スミス・ジョンさん（緑町1丁目2-3）", "緑町1丁目2-3"),
        ("山田太郎さん（緑町１－２－３）", "緑町１－２－３"),
        ("佐藤花子様の住所：笠懸町阿左美12番地の3", "笠懸町阿左美12番地の3"),
        # A name without an honorific, or any honorific after the address.
        ("受賞者：高橋美咲（みどり市本町1-1-1）", "みどり市本町1-1-1"),
        ("鈴木一郎（みどり市東町1-2-3）さんが受賞しました", "みどり市東町1-2-3"),
        ("みどり市南町5-6-7 佐々木恵子さん宅で子ども食堂", "みどり市南町5-6-7"),
        ("届けてくれたのは鈴木太郎さん（本町3-4-5在住）です", "本町3-4-5"),
        ("本町2-3-4にお住まいの田中一郎さんから寄付", "本町2-3-4"),
    ],
)
def test_a_private_person_s_home_address_is_a_warning(
    check: CheckFn, text: str, address: str
) -> None:
    [f] = pii_findings(check(text, settings=CITY))
    assert (f.rule, f.severity) == ("pii.address", Severity.WARNING)
    assert quoted(text, f) == address
    assert f"「{address}」" in f.message
    assert "番地" in f.message


@pytest.mark.parametrize(
    "text",
    [
        "会場：みどり市民会館（大間々町1234）",
        "会場：みどり市民会館（みどり市大間々町大間々1234-5）",
        "みどり市役所（みどり市笠懸町鹿4952）",
        "住所：みどり市笠懸町鹿4952 みどり市役所",
        "住所：みどり市大間々町1234-5 大間々観光協会",
        "住所：みどり市大間々町1234-5 電話0277-12-3400",
        "受賞者：山田太郎さん（大間々町）",
        "山田太郎さん（大間々中学校3-1）",
        "会場 みどり市大間々町1234-5 講師 山田太郎さん",
        "会場：大間々公民館（大間々町1234-5） 講師：山田太郎様",
        "市民の皆様（緑町1-2-3地区）",
        "お客様（駐車場1-2番）",
        "山田さん（電話0277-12-3400）",
        "提出先：みどり市大間々町1234-5 みどり市教育委員会 山田様",
        "市営住宅（緑町1-2-3）の入居者を募集します",
        "自宅でできる運動を紹介します（全3回）",
        "講師：山田太郎さん（みどり大学教授）",
        "山田太郎さん（80歳）",
        "利用者様（2026年4月1日以降）",
        "農家さん（大間々町1234-5）の直売所",
        "送付先住所：みどり市大間々町1234-5",
        "旧山田邸（緑町1-2-3）を一般公開します",
        "みどり市営住宅（緑町1-2-3）",
        "大間々公民館（大間々町1234-5）で開きます",
    ],
)
def test_venues_facilities_and_names_without_a_home_address_are_left_alone(
    check: CheckFn, text: str
) -> None:
    assert [f for f in pii_findings(check(text, settings=CITY)) if f.rule == "pii.address"] == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        # No honorific: a common surname with the given name, a household, or alone at the end.
        ("本町1-2-3 田中一郎が拾って届けました。", "本町1-2-3"),
        ("中野さくら・北町5-1-1・小学3年", "北町5-1-1"),
        ("佐藤ひろし（本町１丁目５番地）", "本町１丁目５番地"),
        ("落とし主：南町2-2-9 藤井", "南町2-2-9"),
        ("優秀賞\n東町1-2-3\n村上 翼", "東町1-2-3"),
        ("西町3-1-1の藤本家では、毎年餅つきをしています。", "西町3-1-1"),
        ("田村家（南町2-8-1）のひな飾りを紹介します。", "南町2-8-1"),
        # The news: address, occupation, name (age); ＝address＝; a suspect.
        ("森本ゆうた＝北町1-3-5＝", "北町1-3-5"),
        ("窃盗の疑いで逮捕されたのは、南町1-9-9、無職、岡本誠被告（61）。", "南町1-9-9"),
        # A household, someone introduced as 方, a room.
        ("松田さんご一家（本町4-1-1）が、農業体験を受け入れてくださいました。", "本町4-1-1"),
        ("緑町1-1-5にお住まいの方、松原健二様から、絵本を寄贈いただきました。", "緑町1-1-5"),
        ("コーポみどり102号の佐藤さんから、落とし物が届きました。", "コーポみどり102号"),
        ("県営みどり団地5-302の佐藤さん", "県営みどり団地5-302"),
        ("Mariko Sato, 4-5-6 Kitamachi", "4-5-6 Kitamachi"),
    ],
)
def test_a_name_without_an_honorific_a_household_or_a_room_is_reported_with_what_to_write(
    check: CheckFn, text: str, address: str
) -> None:
    # (a suspect's name is also reported with what it says of them: pii.sensitive)
    [f] = [f for f in pii_findings(check(text, settings=CITY)) if f.rule != "pii.sensitive"]
    assert (f.rule, f.severity, quoted(text, f)) == ("pii.address", Severity.WARNING, address)
    assert f.message == (
        f"個人の住所「{address}」が氏名と一緒に書かれているようです。個人情報は投稿できません"
        "（マニュアル5③）。本人の同意がない限り、番地や部屋番号は載せず、"
        "「緑町にお住まいの方」のように町名までにしてください。"
    )


@pytest.mark.parametrize(
    "text",
    [
        # What follows an address is a business, a facility, an event or a direction, and the
        # business may bear a family name.
        "本町3-3-3 建物火災（鎮火）",
        "断水地域・本町1-2-3付近",
        "南町2-2-9 鈴木建設",
        "東町1-1-8 田中歯科医院",
        "本町1-2-3 東側の道路",
        "本町1-2-3の吉田屋で、新そばが食べられます。",
        "医師 田中一郎（田中医院・本町1-2-3）",
        "旧山本家住宅（北町2-2-2）を公開します。",
        "会場は本町1-2-3の山田邸跡です。",
        "みどりハイツ（東町2-3-4）は市営住宅です。",
        "市役所の301号室で、山田さんが説明します。",
        "記入例：本町1-2-3 山田太郎",
        "記入例：氏名「緑 太郎（みどり たろう）」、住所「みどり市中央町1丁目1番1号」\n"
        "※記入例は架空のものです。ご自身の住所・氏名をご記入ください。",
        "Midori City Hall, 1-2-3 Honcho",
        "Tanaka Clinic, 1-2-3 Honcho",
    ],
)
def test_a_family_name_beside_an_address_that_is_no_person_s_home_is_left_alone(
    check: CheckFn, text: str
) -> None:
    assert [f for f in pii_findings(check(text, settings=CITY)) if f.rule == "pii.address"] == []


# --- what a name must never come with (pii.sensitive) -----------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "word"),
    [
        (
            "最年長の西田 ヨシ子さん（86）は、昨年脳梗塞で倒れ、今も薬を飲んでいます。",
            "西田 ヨシ子さん",
            "脳梗塞",
        ),
        (
            "年中組の森 ゆいちゃんは卵アレルギーのため、別メニューです。",
            "森 ゆいちゃん",
            "アレルギー",
        ),
        (
            "本町の藤田ミツさん（84）が、ATMで約80万円をだまし取られました。",
            "藤田ミツさん",
            "だまし取られ",
        ),
        ("自営業、宮本 孝さんの預金を差し押さえました。", "宮本 孝さん", "差し押さえ"),
        (
            "吉田 信也様（被保険者番号 10382741）の確認書を再発行しました。",
            "吉田 信也様",
            "被保険者番号",
        ),
        ("佐藤花子さんは要介護3で、デイサービスに通っています。", "佐藤花子さん", "要介護"),
        ("窃盗の疑いで、山本健二容疑者（38）を逮捕しました。", "山本健二容疑者", "逮捕"),
        (
            "本町の鈴木一郎さん（82）が、訪れた男に現金300万円を手渡してしまいました。",
            "鈴木一郎さん",
            "万円を手渡してしま",
        ),
        (
            "1年近く学校を休んでいた2年1組の長谷川 湊さんが、登校を始めました。",
            "長谷川 湊さん",
            "学校を休ん",
        ),
        ("3年2組 出席番号12番の山田 ゆうとくんの作品です。", "山田 ゆうとくん", "出席番号"),
        (
            # a profession they aim at makes nobody an expert
            "母子家庭で育った平野 葵さんは「看護師を目指します」と話しています。",
            "平野 葵さん",
            "母子家庭で",
        ),
    ],
)
def test_a_private_person_s_illness_crime_or_debt_beside_their_name_is_reported(
    check: CheckFn, text: str, name: str, word: str
) -> None:
    [f] = [f for f in pii_findings(check(text, settings=CITY)) if f.rule == "pii.sensitive"]
    assert (f.severity, quoted(text, f)) == (Severity.WARNING, name)
    assert f.message == (
        f"「{name}」という個人の名前と一緒に、病気・障害・犯罪の被害や容疑・滞納や番号など、"
        f"本人が知られたくない情報（「{word}」）が書かれています。個人情報は投稿できません"
        "（マニュアル5③）。名前を出さず「80代の女性」のように書くか、その情報を削除してください。"
    )


@pytest.mark.parametrize(
    "text",
    [
        # No name, an expert or a speaker who chose to tell it, staff, a role, prevention.
        "市内の80代女性が、ATMで約80万円をだまし取られました。",
        "認知症サポーター養成講座。講師は山田花子さん（認知症看護認定看護師）です。",
        "がん経験者の田中一郎さんが、治療と仕事の両立について講演します。",
        "防犯ボランティアの藤田さんが、詐欺被害を防ぐ呼びかけをしています。",
        "アレルギー対応メニューは、栄養士の山田さんが考えました。",
        "市長が入院したため、式典のあいさつは副市長が行います。",
        "滞納のご相談は、納税課の佐藤さんまで。",
        "市民のみなさん、入院中のご家族への面会は15時までです。",
        # The word in another sentence than the name.
        "山田さんの畑を見学しました。入院患者さんへの差し入れは受付へ。",
    ],
)
def test_a_sensitive_word_without_a_private_person_s_name_beside_it_is_left_alone(
    check: CheckFn, text: str
) -> None:
    assert [f for f in pii_findings(check(text, settings=CITY)) if f.rule == "pii.sensitive"] == []


@pytest.mark.parametrize(
    ("text", "name", "word"),
    [
        # Reported speech is no talk they give: the dismissal stays theirs.
        (
            "参加した菊地 幸雄さん（56歳）は、9月に前の会社を解雇されたとのことで、"
            "「地元で働きたい」と話していました。",
            "菊地 幸雄さん",
            "解雇",
        ),
        (
            "夫からの暴力に悩み相談に来られた村上 千尋さんは、元気になりました。",
            "村上 千尋さん",
            "暴力に悩",
        ),
        ("3月出産予定の三浦 彩さんご夫婦も参加されました。", "三浦 彩さん", "出産予定"),
        ("約300万円を借りていた谷口 直美さんが、見通しを立てました。", "谷口 直美さん", "借りてい"),
    ],
)
def test_newer_kinds_of_what_a_name_must_not_come_with_are_reported(
    check: CheckFn, text: str, name: str, word: str
) -> None:
    [f] = [f for f in pii_findings(check(text, settings=CITY)) if f.rule == "pii.sensitive"]
    assert quoted(text, f) == name
    assert f"本人が知られたくない情報（「{word}」）" in f.message


# --- what identifies a person beyond their name (pii.identity, pii.child, pii.home_phone) ----


@pytest.mark.parametrize(
    ("text", "name", "word"),
    [
        ("最優秀賞は、緑ヶ丘小学校5年2組の佐伯 陽菜さんの作品です。", "佐伯 陽菜さん", "5年2組"),
        (
            "受賞された杉浦 清さん（昭和17年11月4日生まれ）は喜んでいました。",
            "杉浦 清さん",
            "11月4日生まれ",
        ),
        ("前回は、三浦 彩さん（29歳）ご夫婦が参加されました。", "三浦 彩さん", "29歳"),
        ("大原在住の田中一郎さんが、市長賞に選ばれました。", "田中一郎さん", "在住"),
        # An age in brackets without 歳, right after the name.
        ("完走者の最高齢は、松田茂さん（82）でした。", "松田茂さん", "82"),
        ("ご協力いただいた鈴木花子様（75、ボランティア）に感謝します。", "鈴木花子様", "75"),
    ],
)
def test_a_private_person_s_birth_date_class_age_or_town_beside_their_name_is_reported(
    check: CheckFn, text: str, name: str, word: str
) -> None:
    [f] = pii_findings(check(text, settings=CITY))
    assert (f.rule, f.severity, quoted(text, f)) == ("pii.identity", Severity.WARNING, name)
    assert f.message == (
        f"「{name}」という個人の名前と一緒に、生年月日・学校のクラス・年齢・住んでいる町など、"
        f"本人を特定できる情報（「{word}」）が書かれています。個人情報は本人（お子さんは保護者）の"
        "同意なしに投稿できません（マニュアル5③）。同意を確認できなければ、名前か"
        f"「{word}」の情報を削除してください。"
    )


@pytest.mark.parametrize(
    "text",
    [
        # A winner named with school and grade (posted with consent), a lecturer, a class, the
        # city's residents at large, an age of a group.
        "英語スピーチコンテストの優勝は、東中学校2年の菊地翔太さんです。",
        "講師の山田花子さん（1975年5月1日生まれ）が、子育てについてお話しします。",
        "5年2組のみなさん、見学ありがとうございました。",
        "市内在住の山田さんが、市長賞に選ばれました。",
        "対象は市内在住の65歳以上の方（要介護認定を受けている方を除く）です。",
        "ひまわり組（5歳児）のみんなとゆいちゃんが、ハンドベルを演奏しました。",
        "市の除雪は、道路河川課の佐藤さん 0277-12-3400 へお問い合わせください。",
        # A number in brackets that is no age: a list's number, a count, not after a name.
        "申込方法（2）郵送の場合は、担当の山田さんあてにお送りください。",
        "ボランティアのみなさん（12）と、山田さんが清掃しました。",
    ],
)
def test_what_identifies_nobody_in_particular_is_left_alone(check: CheckFn, text: str) -> None:
    assert pii_findings(check(text, settings=CITY)) == []


# --- where a private person lives, at town level (pii.residence) -----------------------------


@pytest.mark.parametrize(
    ("text", "quote", "name", "place"),
    [
        (
            "大間々町塩原にお住まいの石井清さん・和子さんご夫妻から、寄付をいただきました。",
            "大間々町塩原にお住まいの石井清さん",
            "石井清さん",
            "大間々町塩原",
        ),
        (
            "桜台3丁目の川口弘子様から、花の苗をいただきました。",
            "桜台3丁目の川口弘子様",
            "川口弘子様",
            "桜台3丁目",
        ),
        (
            "完走者の最高齢は、笠懸町鹿の松田茂さん（82）でした。",
            "笠懸町鹿の松田茂さん",
            "松田茂さん",
            "笠懸町鹿",
        ),
        (
            "桜台にお住まいで車いすを利用している斉藤亮さん（34）も参加しました。",
            "桜台にお住まいで車いすを利用している斉藤亮さん",
            "斉藤亮さん",
            "桜台",
        ),
        (
            "中央町在住の宮崎隆さんが、3日続けて駐車しています。",
            "中央町在住の宮崎隆さん",
            "宮崎隆さん",
            "中央町",
        ),
        (
            "#小池トヨさん83歳 #大間々町塩原",
            "小池トヨさん83歳 #大間々町塩原",
            "小池トヨさん",
            "大間々町塩原",
        ),
        (
            "参加した田中一郎さん（緑町）は、毎朝歩いています。",
            "田中一郎さん（緑町）",
            "田中一郎さん",
            "緑町",
        ),
        (
            "ご協力いただいた鈴木花子様（82、東町）に感謝します。",
            "鈴木花子様（82、東町）",
            "鈴木花子様",
            "東町",
        ),
        (
            "南町の自営業、宮本孝さんの畑で収穫体験をしました。",
            "南町の自営業、宮本孝さん",
            "宮本孝さん",
            "南町",
        ),
        (
            "みどり団地にお住まいの佐野良子さんから、お便りが届きました。",
            "みどり団地にお住まいの佐野良子さん",
            "佐野良子さん",
            "みどり団地",
        ),
        (
            "南地区在住の荒井隆氏から寄付がありました。",
            "南地区在住の荒井隆氏",
            "荒井隆氏",
            "南地区",
        ),
        (
            "大字塩原の小林和夫さんが、新米を届けてくださいました。",
            "大字塩原の小林和夫さん",
            "小林和夫さん",
            "大字塩原",
        ),
    ],
)
def test_a_private_person_s_name_with_the_town_they_live_in_is_a_warning(
    check: CheckFn, text: str, quote: str, name: str, place: str
) -> None:
    [f] = pii_findings(check(text, settings=CITY))
    assert (f.rule, f.severity, quoted(text, f)) == ("pii.residence", Severity.WARNING, quote)
    assert f.message == (
        f"「{quote}」は、「{name}」という個人の方の名前と、住んでいる地域（「{place}」）を一緒に"
        "書いています。番地がなくても、町名・丁目・地区と名前がそろうと、近所の人には本人の家が"
        "分かってしまいます（マニュアル5③）。本人の同意を得ていなければ、お住まいの地域を外すか、"
        "名前を出さずに「市内にお住まいの方」のように書いてください。"
    )


@pytest.mark.parametrize(
    "text",
    [
        # Staff and people in their role, organisations, groups, public figures and lecturers.
        "中央町の公民館長 山田さんがあいさつしました。",
        "東町の区長 山田さんが、防災訓練の説明をしました。",
        "若葉町自治会様から、防犯灯の寄付をいただきました。",
        "大間々町の事業者の皆さん、ご協力ありがとうございました。",
        "東地区の皆さん、清掃活動おつかれさまでした。",
        "講師は、笠懸町在住の料理研究家 山田花子さんです。",
        "笠懸町在住の作家 山田花子さんの作品展を開きます。",
        "大間々町出身の歌手、山田花子さんが一日市長を務めます。",
        "大間々町商工会の山田さんにお話を伺いました。",
        "大間々町長の石井さんがあいさつしました。",
        # Nobody in particular: anonymised, a number of people, the city at large.
        "Aさん（40代・中央町）の体験をご紹介します。",
        "山田さん（仮名・東町）の体験をご紹介します。",
        "市内にお住まいの70代の方から、お便りをいただきました。",
        "市内在住の山田さんが、市長賞に選ばれました。",
        "東町にお住まいでお困りの方は山田さんへご相談ください。",
        # Words that end like a place (舞台, 工業団地, この地区) and a town that is a venue.
        "舞台の山田さんに大きな拍手を。",
        "工業団地の鈴木さんが、企業見学を案内します。",
        "本町の交差点で、市職員の山本さんが交通整理をしました。",
        "東町の会場には、鈴木さんも来てくれました。#本町",
        # A prize list: the winner's town in brackets is published with the entrants' consent.
        "市長賞：山田太郎さん（大間々町）、教育長賞：佐藤花子さん（笠懸町）",
    ],
)
def test_staff_groups_public_figures_and_anonymised_people_with_a_town_are_left_alone(
    check: CheckFn, text: str
) -> None:
    # (pii.identity still reads 在住 beside any name: 笠懸町在住の作家 山田花子さん)
    found = pii_findings(check(text, settings=CITY))
    assert [f for f in found if f.rule == "pii.residence"] == []


def test_a_town_before_a_winner_s_name_is_reported_even_in_a_prize_list(check: CheckFn) -> None:
    text = "市長賞：大間々町塩原の山田太郎さん、教育長賞：佐藤花子さん（笠懸町）"
    found = [(f.rule, quoted(text, f)) for f in pii_findings(check(text, settings=CITY))]
    assert found == [("pii.residence", "大間々町塩原の山田太郎さん")]


def test_a_town_and_an_age_of_one_person_are_one_finding_the_town(check: CheckFn) -> None:
    # The town says where to find them: it is what is reported, once (not also pii.identity).
    text = "前回は、桜台の三浦 彩さん（29歳）ご夫婦が参加されました。"
    found = pii_findings(check(text, settings=CITY))
    assert [(f.rule, quoted(text, f)) for f in found] == [("pii.residence", "桜台の三浦 彩さん")]
    assert "「桜台」" in found[0].message


def test_a_town_beside_a_house_number_or_an_illness_leaves_the_finding_to_those(
    check: CheckFn,
) -> None:
    text = (
        "本町の鈴木一郎さん（82）が、訪れた男に現金300万円を手渡してしまいました。"
        "桜台にお住まいの田中花子さん（本町1-2-3）にも届きました。"
    )
    found = [(f.rule, quoted(text, f)) for f in pii_findings(check(text, settings=CITY))]
    assert found == [("pii.sensitive", "鈴木一郎さん"), ("pii.address", "本町1-2-3")]


def test_each_neighbour_named_with_their_town_is_reported(check: CheckFn) -> None:
    text = "（未受診：西原の山下 博さん、桜ヶ丘の内田 恵子さん、東町の福田 昭さん）"
    found = [(f.rule, quoted(text, f)) for f in pii_findings(check(text, settings=CITY))]
    assert found == [
        ("pii.residence", "桜ヶ丘の内田 恵子さん"),
        ("pii.residence", "東町の福田 昭さん"),
    ]


@pytest.mark.parametrize(
    "consent",
    [
        "（ご本人の了解を得て掲載しています）",
        "※掲載についてはご本人の同意をいただいています。",
        "保護者の方の承諾を得て紹介します。",
    ],
)
def test_a_named_person_s_town_age_or_story_told_with_their_consent_is_information(
    check: CheckFn, consent: str
) -> None:
    names = (
        "通学路の見守りを続けてこられた方です。\n・渡辺正雄さん（大間々町、見守り歴22年）\n"
        "百歳を迎えられた皆さんをお祝いしました。今年は市内で最高齢の方も元気です。\n"
        "・松田茂さん（82）\n"
    )
    warned = [(f.rule, f.severity) for f in pii_findings(check(names, settings=CITY))]
    assert warned == [
        ("pii.residence", Severity.WARNING),
        ("pii.identity", Severity.WARNING),
    ]
    told = [(f.rule, f.severity) for f in pii_findings(check(names + consent, settings=CITY))]
    assert told == [("pii.residence", Severity.INFO), ("pii.identity", Severity.INFO)]


def test_consent_to_be_named_leaves_a_private_number_and_a_refusal_a_warning(
    check: CheckFn,
) -> None:
    text = "ご本人の了解を得て掲載しています。山田太郎さん（090-1234-5678）"
    assert [(f.rule, f.severity) for f in pii_findings(check(text, settings=CITY))] == [
        ("pii.mobile", Severity.ERROR)
    ]
    refused = "渡辺正雄さん（大間々町）。ご本人の同意を得ずに掲載しました。"
    assert [(f.rule, f.severity) for f in pii_findings(check(refused, settings=CITY))] == [
        ("pii.residence", Severity.WARNING)
    ]


def test_an_age_beside_a_home_address_is_one_finding_the_address(check: CheckFn) -> None:
    text = "山田太郎さん（75歳、大間々町1234）"
    assert [(f.rule, quoted(text, f)) for f in pii_findings(check(text, settings=CITY))] == [
        ("pii.address", "大間々町1234")
    ]


def test_a_child_s_full_name_is_reported(check: CheckFn) -> None:
    text = "写真左から、野村 結衣ちゃん、安藤 大和くん、菅原芽依ちゃん。ゆいちゃんも一緒です。"
    found = pii_findings(check(text, settings=CITY))
    assert [(f.rule, quoted(text, f)) for f in found] == [
        ("pii.child", "野村 結衣ちゃん"),
        ("pii.child", "安藤 大和くん"),
        ("pii.child", "菅原芽依ちゃん"),
    ]
    assert found[0].message == (
        "「野村 結衣ちゃん」とお子さんの名前が姓と名で書かれています。お子さんの個人情報は"
        "保護者の同意なしに投稿できません（マニュアル5③）。同意を確認できなければ、名前を"
        "削除するか「ひまわり組のお子さんたち」のように書いてください。"
    )


def test_a_mobile_number_after_a_name_is_one_finding_and_other_shapes_of_numbers_count_too(
    check: CheckFn,
) -> None:
    text = "・東町　小林 和夫さん　090-4512-8873\n・大原　野口 弘子さん　(0277)45-1183"
    found = [(f.rule, quoted(text, f)) for f in pii_findings(check(text, settings=CITY))]
    assert found == [("pii.mobile", "090-4512-8873"), ("pii.home_phone", "(0277)45-1183")]


def test_a_private_person_s_phone_number_after_their_name_is_reported(check: CheckFn) -> None:
    text = "・東町地区　小林 和夫さん　0277-45-1183\n・大原地区　野口 弘子さん（自宅 0277-47-2290）"
    found = [f for f in pii_findings(check(text, settings=CITY)) if f.rule == "pii.home_phone"]
    assert [quoted(text, f) for f in found] == ["0277-45-1183", "0277-47-2290"]
    assert found[1].message == (
        "「0277-47-2290」は「野口 弘子さん」という個人の方の電話番号と考えられます。"
        "個人の電話番号は本人の同意なしに投稿できません（マニュアル5③）。市の担当課の番号にして、"
        "個人への連絡は担当課が取り次ぐようにしてください。"
    )


@pytest.mark.parametrize(
    ("text", "address"),
    [
        # Where a person named before lives (…で暮らしています), a sentence or two on.
        (
            "留学生の Nguyen Van An（グエン・ヴァン・アン）さんが優勝しました。"
            "現在、みどり国際寮204号室で暮らしながら介護を学んでいます。",
            "国際寮204号室",
        ),
        ("山田さんは、みどり団地5-302に住んでいます。", "団地5-302"),
        # A town and its 丁目 in brackets after a named person (a child's caption).
        ("写真右：2年1組 井上 さくらさん（旭町4丁目）", "旭町4丁目"),
        ("山田ゆいさん（本町1-2-3）", "本町1-2-3"),
    ],
)
def test_where_a_named_person_lives_is_reported_as_their_address(
    check: CheckFn, text: str, address: str
) -> None:
    found = [f for f in pii_findings(check(text, settings=CITY)) if f.rule == "pii.address"]
    assert [quoted(text, f) for f in found] == [address]


@pytest.mark.parametrize(
    "text",
    [
        "優勝は田中一郎さん（緑町）でした。",  # the town alone, as prize lists give it
        "会場は市民会館（本町3丁目）です。",
        "市民のみなさん（本町3丁目の方）へ",
        "市役所の301号室で、山田さんが説明します。会議は本町1-2-3で開かれます。",
    ],
)
def test_a_town_a_venue_or_a_meeting_room_near_a_name_is_no_home(check: CheckFn, text: str) -> None:
    assert [f for f in pii_findings(check(text, settings=CITY)) if f.rule == "pii.address"] == []


# --- whole drafts ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", MUNICIPAL_DRAFTS)
def test_ordinary_municipal_drafts_pass(check: CheckFn, text: str) -> None:
    assert pii_findings(check(text, settings=CITY)) == []


def test_a_draft_with_several_personal_data_reports_each(check: CheckFn) -> None:
    text = "落とし物のお知らせ：持ち主の山田太郎さん（緑町1-2-3、090-1234-5678、taro@gmail.com）"
    found = pii_findings(check(text, settings=CITY))
    assert sorted((f.rule, quoted(text, f)) for f in found) == [
        ("pii.address", "緑町1-2-3"),
        ("pii.email", "taro@gmail.com"),
        ("pii.mobile", "090-1234-5678"),
    ]


def test_messages_come_in_english_too() -> None:
    draft = DraftToCheck("担当 090-1234-5678", DEFAULT_AT)
    [f] = [f for f in Checker(lang=Lang.EN).check(draft).findings if f.rule == "pii.mobile"]
    assert 'mobile number "090-1234-5678"' in f.message


# --- the data -------------------------------------------------------------------------------


def _broken_copy(tmp_path: Path, section: str, mutate: Callable[[Any], object]) -> Path:
    target = tmp_path / "pii.yaml"
    shutil.copy(RULES_DIR / "pii.yaml", target)
    raw = yaml.safe_load(target.read_text(encoding="utf-8"))
    mutate(raw[section])
    target.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return target


def test_the_shipped_data_loads_with_all_its_specs() -> None:
    assert pii.load(str(RULES_DIR / "pii.yaml")).brands


def test_a_venue_spec_that_hits_makes_loading_fail(tmp_path: Path) -> None:
    path = _broken_copy(
        tmp_path, "address", lambda e: e["specs"]["miss"].append("山田太郎さん（緑町1-2-3）")
    )
    with pytest.raises(RuleDataError, match=r"pii\.yaml: address: spec '山田太郎さん"):
        pii.load(str(path))


def test_an_honorific_dropped_from_the_data_is_caught_by_its_specs(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, "address", lambda e: e["honorifics"].remove("様"))
    with pytest.raises(RuleDataError, match=r"address: spec .* should report pii\.address"):
        pii.load(str(path))


def test_a_surname_dropped_from_the_data_is_caught_by_its_specs(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, "address", lambda e: e["surnames"].remove("田中"))
    with pytest.raises(RuleDataError, match=r"address: spec '本町1-2-3 田中一郎"):
        pii.load(str(path))


def test_a_surname_of_one_character_is_refused(tmp_path: Path) -> None:
    # One kanji starts too many words (林道, 関係): the look-up takes two or three.
    path = _broken_copy(tmp_path, "address", lambda e: e["surnames"].append("林"))
    with pytest.raises(RuleDataError, match="two or three characters"):
        pii.load(str(path))


def test_a_sensitive_word_that_starts_with_a_class_is_refused(tmp_path: Path) -> None:
    # A class first would make the whole alternation try every place of a 70,000-character draft.
    path = _broken_copy(tmp_path, "sensitive", lambda e: e["words"]["health"].append("[胃肺]がん"))
    with pytest.raises(RuleDataError, match="must start with a plain character"):
        pii.load(str(path))


def test_a_card_brand_range_changed_in_the_data_is_caught(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, "cards", lambda e: e["brands"][3].update(prefixes=["3528"]))
    with pytest.raises(RuleDataError, match=r"cards: spec 'JCB 3530111333300000'"):
        pii.load(str(path))


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(
            "0123456789-－ @.abcgmail山田太郎さん様（）()町丁目番地号住所自宅、 "
        )
        | st.characters(),
        max_size=60,
    )
)
def test_any_text_gives_spans_inside_it(text: str) -> None:
    draft = DraftToCheck(text, DEFAULT_AT)
    for f in Checker(CITY, rules=(pii.RULE,)).check(draft).findings:
        assert 0 <= f.start < f.end <= len(text)
        assert f.rule.startswith("pii.")


# Pieces of addresses and of what stands around them, so that a draft repeats house numbers in
# different surroundings (the proximity pass keeps an answer per surrounding).
_NEAR_PIECES = (
    "本町1-2-3",
    "町1-1",
    "緑町2-8",
    "の",
    "（",
    "）",
    "、",
    "。",
    " ",
    "\n",
    "さん",
    "様",
    "宅",
    "方",
    "（72）",
    "鈴木一郎",
    "山田",
    "市長",
    "市民課",
    "住所：",
    "氏名：",
    "会場",
    "商店",
    "敬称略",
    "にお住まいの",
    "の会社員、",
    "ひらがなばかりのことば",
    "ABCDEFGHIJ",
    "佐々木",
    "敬称略",
    "    ",
    "\t",
    "(72)",
    "田中医院",
    "記入例：",
)


_PIECES = st.lists(st.sampled_from(_NEAR_PIECES), max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(_PIECES, st.tuples(_PIECES, _PIECES, _PIECES, _PIECES), st.booleans())
# A person far after the number (a sentence between them), there the first time only.
@example(
    "本町1-2-3、その隣の家にずっと長く住んでいる会社員の",
    ("。\n" * 5, "鈴木一郎さん", "。\n" * 5, ""),
    False,
)
# A role written before the number the second time only.
@example("本町1-2-3 鈴木一郎さん", ("。\n" * 5, "。\n", "市民課", ""), False)
def test_a_person_after_a_house_number_is_judged_the_same_wherever_the_number_recurs(
    core: str, around: tuple[str, str, str, str], adjacent: bool
) -> None:
    # The same words twice, in different surroundings: the answers kept for the first place
    # must hold for the second only where what the rule reads is the same.
    before, after, before_again, after_again = around
    text = before + core + after + before_again + core + after_again
    p = pii.data().address
    kept = pii._PeopleAfter(text, p)
    marker = p.person_marker.compiled or p.person_marker.compile()
    for _, end, _ in pii._home_spans(text, p):
        alone = pii._person_after(
            text, end, p, pii.Sweep(marker, text, p.person_marker_reach), adjacent=adjacent
        )
        assert kept(end, adjacent=adjacent) == alone, (text, end)


def _near_one_by_one(text: str) -> list[tuple[int, int]]:
    """What pii._near finds, each house number decided on its own (nothing kept between them)."""
    p = pii.data().address
    fields = pii._NameFields(text, p)
    return [
        (start, end)
        for start, end, bare in pii._home_spans(text, p)
        if pii._Near(text, p)._decide(start, end, bare, fields.near(start, end))
    ]


@settings(max_examples=300, deadline=None)
@given(_PIECES, st.tuples(_PIECES, _PIECES, _PIECES, _PIECES))
# Each example repeats a number in the same 80 characters before it and 40 after (else the kept
# answers differ by where the draft starts or ends) but for what the rule reads furthest away:
# a role 35 characters before the number, set apart from a name with honorific, age and gap…
@example(
    "鈴木一郎さん(72)" + "、" * 15 + "東町1-1-1",
    ("。\n" * 40 + "市長" + " " * 7, "。\n" * 25, "。\n" * 40 + "会社員" + " " * 7, "。\n" * 25),
)
# … a person 27 characters after it …
@example(
    "本町1-2-3、その隣の家にずっと長く住んでいる会社員の",
    ("。\n" * 40, "鈴木一郎さん。\n", "。\n" * 40, "建物"),
)
# … and whether a plain name ends its line after a run of spaces.
@example("東町1-1-1 佐々木", ("。\n" * 40, " " * 50 + "\n", "。\n" * 40, " " * 50 + "x"))
def test_a_house_number_is_judged_the_same_wherever_it_recurs(
    core: str, around: tuple[str, str, str, str]
) -> None:
    before, after, before_again, after_again = around
    text = before + core + after + before_again + core + after_again
    assert list(pii._near(text, pii.data().address)) == _near_one_by_one(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789-ー－番町村字本大字一々様住所(1", max_size=30))
def test_a_house_number_is_a_hint_wherever_one_expression_of_the_hints_finds_it(text: str) -> None:
    p = pii.data().address
    h = re.escape(HYPHENS)
    one = re.compile(
        rf"{p.hint.pattern}|[0-9][{h}][0-9]|[0-9]番|[町村字][一-鿿々]{{0,4}}[1-9][0-9]"
    )
    split = p.hint.search(text) is not None or p.hint_number.search(text) is not None
    assert split == (one.search(text) is not None)
