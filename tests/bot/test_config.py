from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config, parse_config
from workflows.catalogue import Lang
from workflows.checks import Platform

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = (REPO / "app.yaml").read_text(encoding="utf-8")


def problems_of(text: str) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="app.yaml")
    return tuple(caught.value.lines(Lang.EN))


def test_the_shipped_example_is_valid() -> None:
    config = load_config(REPO / "app.yaml")
    assert config.organisation.name == "みどり市"
    official = [a for a in config.accounts if a.official]
    assert {a.platform for a in official} == set(Platform)
    assert all(a.approving_section == "シティ・プロモーション課" for a in official)
    museum = config.account("museum-facebook")
    assert museum is not None
    assert museum.approving_section == "博物館"
    # The museum posts on weekends and rests on Mondays; the city's default is weekdays.
    assert config.calendar(museum).is_open_day(date(2026, 11, 21))
    assert not config.calendar(museum).is_open_day(date(2026, 11, 30))
    assert not config.calendar().is_open_day(date(2026, 11, 21))


def test_unknown_section_is_reported_with_its_key_path() -> None:
    text = EXAMPLE.replace("approving_section: 博物館", "approving_section: 広報課")
    assert "accounts[6].approving_section: unknown section '広報課'" in problems_of(text)


def test_every_problem_is_listed_at_once() -> None:
    text = (
        EXAMPLE.replace("chief: inoue.tomoya", "chief: nobody")
        .replace("peer_checks: 1", "peer_checks: many")
        .replace("handle: midori_kankyo", "handel: midori_kankyo")
        .replace("section: 健康づくり課, slack", "section: 保健課, slack")
    )
    problems = problems_of(text)
    assert "sections[4].chief: unknown member 'nobody'" in problems
    assert any(p.startswith("accounts[0].peer_checks:") for p in problems)
    assert "accounts[5].handel: unknown key (a typo?)" in problems
    assert "accounts[5].handle: required key is missing" in problems
    assert "members[14].section: unknown section '保健課'" in problems


def test_a_secret_pasted_instead_of_a_variable_name_is_refused_without_echo() -> None:
    text = EXAMPLE.replace("MIDORI_LINE_CHANNEL_TOKEN", "sk-live-abcdef123")
    [problem] = problems_of(text)
    assert problem.startswith("accounts[3].credentials: channel_access_token: must be the NAME")
    assert "sk-live" not in problem


def test_credentials_must_match_the_platform() -> None:
    text = EXAMPLE.replace("page_access_token: MIDORI_FB_PAGE_TOKEN", "token: MIDORI_FB_PAGE_TOKEN")
    problems = problems_of(text)
    assert "accounts[1].credentials.page_access_token: required for facebook" in problems
    assert any(
        p.startswith("accounts[1].credentials.token: unknown for facebook") for p in problems
    )


def test_duplicates_and_dangling_references() -> None:
    text = EXAMPLE.replace("- id: kankyo-x", "- id: midori-x").replace(
        "default_accounts: [museum-facebook]", "default_accounts: [museum-fb]"
    )
    problems = problems_of(text)
    assert "accounts[5].id: 'midori-x' is used more than once" in problems
    assert "channels.drafts[2].default_accounts[0]: unknown account 'museum-fb'" in problems


def test_chief_must_belong_to_the_section() -> None:
    text = EXAMPLE.replace("chief: yamada.hanako", "chief: sasaki.emi\n    deputies: [sato.keiko]")
    text = text.replace(
        "section: 博物館, slack_user_id: U0SASAEMI", "section: 環境推進課, slack_user_id: U0SASAEMI"
    )
    problems = problems_of(text)
    assert (
        "sections[3].chief: member 'sasaki.emi' belongs to '環境推進課', not '博物館'" in problems
    )


def test_broken_yaml_names_the_line() -> None:
    [problem] = problems_of("organisation:\n  name: みどり市\nsections: [\n")
    assert problem.startswith("line ")
    assert "not valid YAML" in problem


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ファイルがありません"):
        load_config(tmp_path / "nope.yaml")


def test_credentials_come_from_the_environment() -> None:
    config = parse_config(EXAMPLE)
    account = config.account("midori-line")
    assert account is not None
    assert account.credentials_from({}) is None
    assert account.credentials_from({"MIDORI_LINE_CHANNEL_TOKEN": "t"}) == {
        "channel_access_token": "t"
    }
    no_creds = config.account("midorin-x")
    assert no_creds is not None
    assert no_creds.credentials_from({"ANY": "x"}) is None


def test_terminology_path_is_resolved_beside_the_file(tmp_path: Path) -> None:
    (tmp_path / "local.yaml").write_text("version: 1\nrules: []\n", encoding="utf-8")
    (tmp_path / "app.yaml").write_text(
        EXAMPLE.replace("# terminology: terminology.local.yaml", "terminology: local.yaml"),
        encoding="utf-8",
    )
    config = load_config(tmp_path / "app.yaml")
    assert config.checks.terminology == tmp_path / "local.yaml"
    (tmp_path / "local.yaml").unlink()
    with pytest.raises(ConfigError, match=r"checks\.terminology: 用語辞書のファイルがありません"):
        load_config(tmp_path / "app.yaml")


def test_the_organisation_and_its_sections_are_official_names_for_the_checker() -> None:
    names = parse_config(EXAMPLE).checks.official_names
    assert names[:4] == ("みどり市立博物館", "みどり市民会館", "みどり中央公民館", "みどり市役所")
    assert {"みどり市", "シティ・プロモーション課", "環境推進課", "博物館"} <= set(names)


def test_a_broken_city_dictionary_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "local.yaml").write_text(
        "version: 1\nrules:\n  - expected: みどり市役所\n    pattern: 緑市役所\n"
        "    specs:\n      - from: 緑市役所へ\n        to: 緑市役所へ\n",
        encoding="utf-8",
    )
    (tmp_path / "app.yaml").write_text(
        EXAMPLE.replace("# terminology: terminology.local.yaml", "terminology: local.yaml"),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "app.yaml")
    [problem] = caught.value.lines(Lang.EN)
    assert problem.startswith("checks.terminology:")
    assert "local.yaml" in problem


def test_timing_sections_are_validated() -> None:
    config = parse_config(EXAMPLE)
    assert config.approval.remind_after_minutes == 120
    assert config.publishing.missed_post_limit_hours == 6
    assert config.monitoring.interval_minutes == 5
    text = EXAMPLE.replace("deputies_after_minutes: 240", "deputies_after_minutes: 60")
    assert problems_of(text) == (
        "approval: deputies_after_minutes must not be before remind_after_minutes",
    )
    text = EXAMPLE.replace("interval_minutes: 5", "interval_minutes: 0")
    [problem] = problems_of(text)
    assert problem.startswith("monitoring.interval_minutes:")


def test_incident_reminders_are_read_from_monitoring_with_a_default() -> None:
    assert parse_config(EXAMPLE).monitoring.incident_remind_after_minutes == 30
    text = EXAMPLE.replace("incident_remind_after_minutes: 30", "incident_remind_after_minutes: 10")
    assert parse_config(text).monitoring.incident_remind_after_minutes == 10
    without = EXAMPLE.replace("  incident_remind_after_minutes: 30\n", "")
    assert without != EXAMPLE
    assert parse_config(without).monitoring.incident_remind_after_minutes == 30
    for bad in ("0", "1441", "soon"):
        text = EXAMPLE.replace(
            "incident_remind_after_minutes: 30", f"incident_remind_after_minutes: {bad}"
        )
        [problem] = problems_of(text)
        assert problem.startswith("monitoring.incident_remind_after_minutes:")


def test_the_weekly_digest_is_monday_nine_by_default_and_validated() -> None:
    digest = parse_config(EXAMPLE).digest
    assert (digest.enabled, digest.day.value, digest.at) == (True, "mon", time(9, 0))
    without = EXAMPLE.replace('digest:\n  day: mon\n  at: "09:00"\n', "")
    assert without != EXAMPLE
    assert parse_config(without).digest == digest
    text = EXAMPLE.replace('  day: mon\n  at: "09:00"', '  day: fri\n  at: "16:30"')
    assert (parse_config(text).digest.day.value, parse_config(text).digest.at) == (
        "fri",
        time(16, 30),
    )
    text = EXAMPLE.replace('  day: mon\n  at: "09:00"', '  day: monday\n  at: "9時"')
    problems = japanese_problems_of(text)
    assert any(p.startswith("digest.day: 'monday' は使えません。'mon'") for p in problems), problems
    assert "digest.at: 時刻として読めません（'9時'）。HH:MM の形で書いてください" in problems[1]
    [problem] = problems_of(EXAMPLE.replace("  day: mon\n", "  day: mon\n  hour: 9\n"))
    assert problem.startswith("digest.hour:")


def japanese_problems_of(text: str) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="app.yaml")
    assert str(caught.value).startswith(f"app.yaml: 設定の誤り {len(caught.value.problems)}件")
    return tuple(caught.value.lines(Lang.JA))


def test_each_validation_error_is_a_japanese_sentence_with_its_key_path() -> None:
    text = (
        EXAMPLE.replace('  start: "08:30"\n', '  start: "8時半"\n', 1)
        .replace("platform: x", "platform: twitter", 1)
        .replace("peer_checks: 1", "peer_checks: たくさん", 1)
        .replace("official: true", "official: [1]", 1)
    )
    problems = japanese_problems_of(text)
    assert (
        "business_hours.start: 時刻として読めません（'8時半'）。HH:MM の形で書いてください"
        '（例: "08:30"）。' in problems
    )
    assert any(
        p.startswith("accounts[0].platform: 'twitter' は使えません。'x', 'facebook', 'instagram'")
        for p in problems
    ), problems
    assert any("整数として読めません（'たくさん'）" in p for p in problems), problems
    assert any(p.startswith("accounts[") and "true か false" in p for p in problems), problems
    assert not any("Input should" in p or "valid" in p for p in problems), problems


def test_missing_unknown_and_pattern_errors_say_what_to_write() -> None:
    text = EXAMPLE.replace("handle:", "handel:", 1).replace(
        "slack_user_id: U", "slack_user_id: u", 1
    )
    problems = japanese_problems_of(text)
    assert any(
        p.endswith(".handel: 知らない項目です（綴りの誤りではありませんか）。") for p in problems
    )
    assert any(p.endswith(".handle: 必須の項目がありません。") for p in problems)
    [slack] = [p for p in problems if ".slack_user_id:" in p]
    assert slack.startswith("members[")
    assert "U で始まる英大文字と数字" in slack


def test_our_own_validators_and_references_are_japanese_too() -> None:
    text = EXAMPLE.replace("timezone: Asia/Tokyo", "timezone: Asia/Edo").replace(
        "deputies_after_minutes: 240", "deputies_after_minutes: 60"
    )
    problems = japanese_problems_of(text)
    assert (
        "business_hours.timezone: Asia/Edo というタイムゾーンはありません（例: Asia/Tokyo）。"
        in (problems)
    )
    assert any(p.startswith("approval: 代理者への回付") for p in problems)
    text = EXAMPLE.replace("approving_section: 博物館", "approving_section: 広報課")
    assert "accounts[6].approving_section: 「広報課」という所属は sections にありません。" in (
        japanese_problems_of(text)
    )


@pytest.mark.parametrize("written", ["8:30", "25", '"08:30:15"'])
def test_business_hours_that_are_not_a_quoted_clock_time_say_how_to_write_one(
    written: str,
) -> None:
    # Unquoted, YAML reads 8:30 as the number 510, which pydantic takes for seconds in UTC.
    text = EXAMPLE.replace('  start: "08:30"\n', f"  start: {written}\n", 1)
    assert text != EXAMPLE
    problems = japanese_problems_of(text)
    assert (
        'business_hours.start: 時刻は "08:30" のように引用符で囲んで時:分で書いてください。'
        in problems
    ), problems


def test_a_secret_in_a_wrong_place_is_not_echoed_in_any_language() -> None:
    text = EXAMPLE.replace(
        "channel_access_token: MIDORI_LINE_CHANNEL_TOKEN", "channel_access_token: 12345678901"
    )
    assert text != EXAMPLE
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="app.yaml")
    for lang in Lang:
        assert "12345678901" not in caught.value.message(lang)
