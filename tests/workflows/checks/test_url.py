from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import DEFAULT_AT, CheckFn
from tests.workflows.checks.test_phone import CITY, MUNICIPAL_DRAFTS
from workflows.catalogue import Lang
from workflows.checks import CheckResult, CheckSettings, DraftToCheck, Finding, Severity
from workflows.checks.data import RULES_DIR, RuleDataError
from workflows.checks.engine import Checker
from workflows.checks.rules import url


def url_findings(result: CheckResult) -> list[Finding]:
    return [f for f in result.findings if f.rule.split(".")[0] == "url"]


def quoted(text: str, f: Finding) -> str:
    return text[f.start : f.end]


@pytest.mark.parametrize(
    ("text", "link", "fixed"),
    [
        (
            "申込：https//www.city.midori.lg.jp/form",
            "https//www.city.midori.lg.jp/form",
            "https://www.city.midori.lg.jp/form",
        ),
        (
            "http:/www.city.midori.lg.jp/ をご覧ください",
            "http:/www.city.midori.lg.jp/",
            "http://www.city.midori.lg.jp/",
        ),
        (
            "htps://www.city.midori.lg.jp/event",
            "htps://www.city.midori.lg.jp/event",
            "https://www.city.midori.lg.jp/event",
        ),
        (
            "詳細 https:// www.city.midori.lg.jp/event",
            "https:// www.city.midori.lg.jp/event",
            "https://www.city.midori.lg.jp/event",
        ),
        (
            "https:///www.city.midori.lg.jp/",
            "https:///www.city.midori.lg.jp/",
            "https://www.city.midori.lg.jp/",
        ),
    ],
)
def test_a_broken_scheme_is_an_error_with_the_repaired_link(
    check: CheckFn, text: str, link: str, fixed: str
) -> None:
    [f] = url_findings(check(text, settings=CITY))
    assert (f.rule, f.severity) == ("url.malformed", Severity.ERROR)
    assert quoted(text, f) == link
    assert f.suggestion == fixed
    assert f"URL「{link}」" in f.message


@pytest.mark.parametrize(
    ("text", "link", "fixed"),
    [
        (
            "ｈｔｔｐｓ：／／ｗｗｗ．ｃｉｔｙ．ｍｉｄｏｒｉ．ｌｇ．ｊｐ",
            "ｈｔｔｐｓ：／／ｗｗｗ．ｃｉｔｙ．ｍｉｄｏｒｉ．ｌｇ．ｊｐ",
            "https://www.city.midori.lg.jp",
        ),
        (
            "詳しくは https://www.ｃｉｔｙ.midori.lg.jp/event をご覧ください",
            "https://www.ｃｉｔｙ.midori.lg.jp/event",
            "https://www.city.midori.lg.jp/event",
        ),
        (
            "https://www.city.midori.lg.jp／event",
            "https://www.city.midori.lg.jp／event",
            "https://www.city.midori.lg.jp/event",
        ),
    ],
)
def test_full_width_characters_inside_a_link_are_an_error(
    check: CheckFn, text: str, link: str, fixed: str
) -> None:
    [f] = url_findings(check(text, settings=CITY))
    assert (f.rule, f.severity) == ("url.malformed", Severity.ERROR)
    assert quoted(text, f) == link
    assert f.suggestion == fixed
    assert "全角" in f.message


def test_a_space_inside_a_link_is_an_error_covering_both_halves(check: CheckFn) -> None:
    text = "詳しくは https://www.city.midori.lg.jp /event/2026.html へ"
    [f] = url_findings(check(text, settings=CITY))
    assert f.rule == "url.malformed"
    assert quoted(text, f) == "https://www.city.midori.lg.jp /event/2026.html"
    assert f.suggestion == "https://www.city.midori.lg.jp/event/2026.html"
    assert "空白" in f.message


@pytest.mark.parametrize(
    ("text", "link"),
    [
        ("https://www..midori.lg.jp/", "https://www..midori.lg.jp/"),
        ("https://www/event", "https://www/event"),
        ("https://-city.midori.lg.jp/", "https://-city.midori.lg.jp/"),
    ],
)
def test_a_broken_domain_name_is_an_error(check: CheckFn, text: str, link: str) -> None:
    [f] = url_findings(check(text, settings=CITY))
    assert (f.rule, f.severity) == ("url.malformed", Severity.ERROR)
    assert quoted(text, f) == link
    assert "ドメイン名" in f.message


def test_http_is_a_warning_suggesting_https(check: CheckFn) -> None:
    text = "申込：http://www.city.midori.lg.jp/form?id=3。"
    [f] = url_findings(check(text, settings=CITY))
    assert (f.rule, f.severity) == ("url.insecure", Severity.WARNING)
    assert quoted(text, f) == "http://www.city.midori.lg.jp/form?id=3"
    assert f.suggestion == "https://www.city.midori.lg.jp/form?id=3"
    assert "https://" in f.message


@pytest.mark.parametrize(
    ("text", "link", "host"),
    [
        ("申し込みはこちら https://bit.ly/3AbCdEf", "https://bit.ly/3AbCdEf", "bit.ly"),
        ("詳細→tinyurl.com/midori-event", "tinyurl.com/midori-event", "tinyurl.com"),
        ("https://t.co/xyz123 をタップ", "https://t.co/xyz123", "t.co"),
        ("本はこちら amzn.to/3xyz", "amzn.to/3xyz", "amzn.to"),
        ("http://x.gd/abcde", "http://x.gd/abcde", "x.gd"),
    ],
)
def test_shortened_links_are_a_warning(check: CheckFn, text: str, link: str, host: str) -> None:
    [f] = url_findings(check(text, settings=CITY))
    assert (f.rule, f.severity) == ("url.shortener", Severity.WARNING)
    assert quoted(text, f) == link
    assert f"短縮URL（{host}）" in f.message
    assert "正式なURL" in f.message


def test_a_google_maps_short_link_says_where_it_goes(check: CheckFn) -> None:
    assert url_findings(check("地図：https://maps.app.goo.gl/AbCdEf")) == []


@pytest.mark.parametrize(
    ("text", "link", "category"),
    [
        ("https://www.pornhub.com/view_video", "https://www.pornhub.com/view_video", "アダルト"),
        ("xvideos.com/abc", "xvideos.com/abc", "アダルト"),
        ("http://anything.xxx/", "http://anything.xxx/", "アダルト"),
        ("https://www.bet365.com/ja で観戦", "https://www.bet365.com/ja", "ギャンブル"),
        ("https://lucky.casino/", "https://lucky.casino/", "ギャンブル"),
        ("https://thepiratebay.org/search", "https://thepiratebay.org/search", "海賊版"),
    ],
)
def test_links_to_blocked_sites_are_an_error(
    check: CheckFn, text: str, link: str, category: str
) -> None:
    [f] = url_findings(check(text, settings=CITY))
    assert (f.rule, f.severity) == ("url.blocked", Severity.ERROR)
    assert quoted(text, f) == link
    assert category in f.message
    assert "マニュアル5③" in f.message


def test_the_city_can_block_more_domains_and_their_subdomains(check: CheckFn) -> None:
    city = CheckSettings(
        official_domains=("city.midori.lg.jp",), blocked_domains=("rival.example",)
    )
    text = "https://shop.rival.example/sale と www.rival.example"
    found = url_findings(check(text, settings=city))
    assert [(f.rule, quoted(text, f)) for f in found] == [
        ("url.blocked", "https://shop.rival.example/sale"),
        ("url.blocked", "www.rival.example"),
    ]
    assert "リンクを禁止" in found[0].message


def test_blocking_matches_whole_domain_labels_only(check: CheckFn) -> None:
    assert [f.rule for f in url_findings(check("https://notpornhub.com/"))] == []


@pytest.mark.parametrize(
    ("text", "link", "host"),
    [
        ("詳しくは example.com/event をご覧ください", "example.com/event", "example.com"),
        ("https://www.furusato-tax.jp/city/info/10213", None, "www.furusato-tax.jp"),
        ("会場の地図はwww.example.co.jp/mapへ", "www.example.co.jp/map", "www.example.co.jp"),
    ],
)
def test_links_outside_the_city_are_information(
    check: CheckFn, text: str, link: str | None, host: str
) -> None:
    [f] = url_findings(check(text, settings=CITY))
    assert (f.rule, f.severity) == ("url.external", Severity.INFO)
    assert quoted(text, f) == (link or text)
    assert f"（{host}）" in f.message
    assert "公式サイト以外" in f.message


@pytest.mark.parametrize(
    "text",
    [
        "https://www.pref.gunma.jp/page/12345.html",
        "https://www.mhlw.go.jp/stf/covid-19.html",
        "https://www.city.kiryu.lg.jp/",
        "https://www.town.example.gunma.jp/",
    ],
)
def test_other_public_bodies_are_information_with_their_own_message(
    check: CheckFn, text: str
) -> None:
    [f] = url_findings(check(text, settings=CITY))
    assert (f.rule, f.severity) == ("url.external", Severity.INFO)
    assert "他の公的機関" in f.message


def test_without_official_domains_outside_links_are_not_reported(check: CheckFn) -> None:
    assert url_findings(check("https://www.example.com/ と example.org/page")) == []


def test_official_subdomains_are_the_city_s_own(check: CheckFn) -> None:
    text = (
        "https://city.midori.lg.jp/a と https://www.city.midori.lg.jp/b と "
        "kosodate.city.midori.lg.jp"
    )
    assert url_findings(check(text, settings=CITY)) == []


@pytest.mark.parametrize(
    ("text", "link"),
    [
        (
            "詳しくは市ホームページ（https://www.example.com/event/2026.html）をご覧ください。",
            "https://www.example.com/event/2026.html",
        ),
        ("(https://www.example.com/a_(b))。", "https://www.example.com/a_(b)"),
        ("https://www.example.com/event.", "https://www.example.com/event"),
        (
            "https://www.example.com/form?id=12&lang=ja！",
            "https://www.example.com/form?id=12&lang=ja",
        ),
        ("https://www.example.com/map.pdf（ＰＤＦ：1.2MB）", "https://www.example.com/map.pdf"),
        ("「https://www.example.com/」", "https://www.example.com/"),
        ("https://www.example.com/ #みどり市", "https://www.example.com/"),
        ("https://www.example.com:8443/path", "https://www.example.com:8443/path"),
    ],
)
def test_the_span_is_exactly_the_link(check: CheckFn, text: str, link: str) -> None:
    [f] = url_findings(check(text, settings=CITY))
    assert f.rule == "url.external"
    assert quoted(text, f) == link


@pytest.mark.parametrize(
    "text",
    [
        "申込書.pdfをダウンロードしてください",
        "R8.11.23 開催",
        "ver.2.0に更新",
        "Node.jsの講座",
        "e.g. 例えば",
        "ASP.NET入門",
        "httpとhttpsの違いを学ぶ講座",
        "10:00-12:00、午後1時からも",
        "問い合わせ info@example.com",
        "https://city.midori.lg.jp/kurashi/gomi/ #みどり市 #ごみ分別",
        "申込：https://www.city.midori.lg.jp/form?id=12&lang=ja。",
        "地図：https://maps.app.goo.gl/AbCdEf",
        "https://www.boatrace.jp/ で桐生のレースを見よう",
    ],
)
def test_text_that_is_not_a_problem_link_is_left_alone(check: CheckFn, text: str) -> None:
    assert [f for f in url_findings(check(text, settings=CITY)) if f.rule != "url.external"] == []
    assert all(f.severity is Severity.INFO for f in url_findings(check(text, settings=CITY)))


@pytest.mark.parametrize("text", MUNICIPAL_DRAFTS)
def test_ordinary_municipal_drafts_pass(check: CheckFn, text: str) -> None:
    assert url_findings(check(text, settings=CITY)) == []


def test_a_shortened_http_link_is_reported_once_as_a_shortener(check: CheckFn) -> None:
    assert [f.rule for f in url_findings(check("http://bit.ly/abc", settings=CITY))] == [
        "url.shortener"
    ]


def test_a_broken_shortened_link_is_both_broken_and_short(check: CheckFn) -> None:
    rules = [f.rule for f in url_findings(check("https//bit.ly/abc", settings=CITY))]
    assert rules == ["url.malformed", "url.shortener"]


def test_messages_come_in_english_too() -> None:
    draft = DraftToCheck("http://www.city.midori.lg.jp/", DEFAULT_AT)
    [f] = [f for f in Checker(lang=Lang.EN).check(draft).findings if f.rule == "url.insecure"]
    assert "unencrypted http:// link" in f.message


def test_host_in_matches_domains_and_subdomains_only() -> None:
    assert url.host_in("www.city.midori.lg.jp", ("city.midori.lg.jp",))
    assert url.host_in("CITY.midori.lg.jp.", ("city.midori.lg.jp",))
    assert not url.host_in("evilcity.midori.lg.jp", ("city.midori.lg.jp",))


def _broken_copy(tmp_path: Path, section: str, mutate: Callable[[Any], object]) -> Path:
    target = tmp_path / "url.yaml"
    shutil.copy(RULES_DIR / "url.yaml", target)
    raw = yaml.safe_load(target.read_text(encoding="utf-8"))
    mutate(raw[section])
    target.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return target


def test_the_shipped_data_loads_with_all_its_specs() -> None:
    assert "bit.ly" in url.load(str(RULES_DIR / "url.yaml")).shorteners


def test_a_domain_dropped_from_a_list_is_caught_by_its_specs(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, "shorteners", lambda e: e["domains"].remove("bit.ly"))
    with pytest.raises(
        RuleDataError, match=r"url\.yaml: shorteners: spec .*bit\.ly.* should report"
    ):
        url.load(str(path))


def test_a_miss_spec_that_hits_makes_loading_fail(tmp_path: Path) -> None:
    path = _broken_copy(
        tmp_path, "blocked", lambda e: e[1]["specs"]["miss"].append("https://stake.com/")
    )
    with pytest.raises(RuleDataError, match=r"blocked\[gambling\]: spec 'https://stake.com/'"):
        url.load(str(path))


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from("htps:/.wexamplcomjp-_?#()（）ｈｔｐｓ：／．　 あ漢")
        | st.characters(),
        max_size=60,
    )
)
def test_any_text_gives_spans_inside_it(text: str) -> None:
    draft = DraftToCheck(text, DEFAULT_AT)
    for f in Checker(CITY, rules=(url.RULE,)).check(draft).findings:
        assert 0 <= f.start < f.end <= len(text)
        assert f.rule.startswith("url.")


def test_a_comma_typed_for_a_dot_in_the_host(check: CheckFn) -> None:
    text = "詳しくは https://www.city.midori.lg,jp/event をご覧ください。"
    found = [f for f in check(text, settings=CITY).findings if f.rule.startswith("url")]
    assert [(f.rule, f.severity) for f in found] == [("url.malformed", Severity.ERROR)]
    assert text[found[0].start : found[0].end] == "https://www.city.midori.lg,jp"
    assert found[0].suggestion == "https://www.city.midori.lg.jp"


def _bad_host_by_its_labels(host: str) -> bool:
    """What url._bad_host decides, label by label (its definition, written out)."""
    labels = host.split(".")
    if re.fullmatch(r"\d{1,3}(?:\.\d{1,3}){3}", host) or host.lower() == "localhost":
        return False
    return (
        len(labels) < 2
        or any(not label or label.startswith("-") or label.endswith("-") for label in labels)
        or not re.fullmatch(r"[A-Za-z]{2,63}|xn--[a-z0-9\-]+", labels[-1])
    )


@settings(max_examples=500, deadline=None)
@given(
    st.text(alphabet="ab1-.xn", max_size=16)
    | st.sampled_from(
        ["localhost", "1.2.3.4", "a.xn--p1ai", "a.xn---", "-a.jp", "a-.jp", "a..jp", "a.jp.", "a.b"]
    )
)
def test_a_host_is_malformed_exactly_when_one_of_its_labels_is(host: str) -> None:
    assert url._bad_host(host) == _bad_host_by_its_labels(host)
