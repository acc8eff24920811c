from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.workflows.incidents.conftest import ACCOUNTS, ALLOWLIST, ORGANISATION
from workflows.catalogue import Lang
from workflows.checks.model import Platform
from workflows.incidents.impersonation import (
    MAX_LOOKUP,
    Candidate,
    ImpersonationRules,
    Likeness,
    assess,
    best_match,
    compare,
    detect,
    handle_variants,
    is_x_handle,
    lookup_batches,
    skeleton,
    watches,
)
from workflows.incidents.model import Cause, IncidentKind

RULES = ImpersonationRules.for_organisation(ORGANISATION, ACCOUNTS, ALLOWLIST)
WATCHES = watches(ACCOUNTS)
CYRILLIC_O = "\u043e"


def score(candidate: Candidate) -> tuple[int, tuple[str, ...]]:
    found = best_match(candidate, WATCHES, RULES)
    return found.score, found.reason_texts()


# ---------------------------------------------------------------- the cases


def test_a_fake_official_with_a_look_alike_handle_alerts_with_its_reasons() -> None:
    fake = Candidate("midori_clty", "みどり市公式(偽)", url="https://x.com/midori_clty")
    [signal] = detect([fake], WATCHES, RULES)
    assert signal.kind is IncidentKind.IMPERSONATION
    assert signal.cause is Cause.LOOKALIKE
    assert signal.account_id == "midori-x"
    assert signal.dedupe_key == "impersonation:lookalike:x:midori_clty"
    assert signal.summary() == (
        "みどり市（X @midori_city）によく似たアカウント @midori_clty（みどり市公式(偽)）が"
        "見つかりました。なりすましのおそれがあります（スコア 100/100）。"
    )
    rows = dict(signal.rows())
    assert rows["疑わしいアカウント"] == "@midori_clty"
    assert rows["スコア"] == "100 / 100（しきい値 60）"
    assert rows["リンク"] == "https://x.com/midori_clty"
    assert rows["理由"].splitlines() == [
        "・ユーザー名 @midori_clty は市のアカウント @midori_city と見分けにくい文字を使っています"
        "（「l」 ↔ 「i」）。",
        "・表示名「みどり市公式(偽)」が「みどり市公式」とよく似ています（類似度 92）。",
        "・市のアカウントではないのに「公式」を名乗っています（表示名）。",
    ]
    assert "look-alike characters" in dict(signal.rows(Lang.EN))["Reasons"]
    stored = json.loads(json.dumps(signal.to_dict()))
    assert stored["evidence"]["score"] == 100
    assert [r["key"] for r in stored["evidence"]["reasons"]] == [
        "handle_confusable",
        "name_similar",
        "official_claim",
    ]


def test_the_real_account_never_alerts() -> None:
    real = Candidate("midori_city", "みどり市", "みどり市の公式アカウントです。", verified=True)
    found = best_match(real, WATCHES, RULES)
    assert found.known
    assert not found.alert
    assert found.score == 0
    assert found.reason_texts() == (
        "市の管理アカウント、または許可リストにあるアカウントです（警告しません）。",
    )
    assert detect([real], WATCHES, RULES) == []


def test_an_allow_listed_account_never_alerts_on_any_platform() -> None:
    tourism = Candidate("midori_tourism", "みどり市観光協会【公式】", "みどり市の観光情報")
    assert detect([tourism], WATCHES, RULES) == []
    on_instagram = Candidate("Midori_Tourism", "みどり市観光協会", platform=Platform.INSTAGRAM)
    assert best_match(on_instagram, WATCHES, RULES).known


def test_an_unrelated_account_does_not_alert() -> None:
    weather = Candidate("tokyo_weather", "東京の天気", "東京の天気を毎朝お届けします。")
    assert score(weather) == (0, ())
    assert detect([weather], WATCHES, RULES) == []


def test_a_cyrillic_letter_in_the_handle_alerts() -> None:
    fake = Candidate(f"mid{CYRILLIC_O}ri_city", "みどり市")
    points, reasons = score(fake)
    assert points == 100
    assert reasons == (
        f"ユーザー名 @mid{CYRILLIC_O}ri_city は市のアカウント @midori_city と見分けにくい文字を"
        f"使っています（「{CYRILLIC_O}」(U+043E CYRILLIC SMALL LETTER O) ↔ 「o」）。",
        "表示名「みどり市」が、市の名前として監視している「みどり市」と同じです。",
    )
    assert len(detect([fake], WATCHES, RULES)) == 1


# ---------------------------------------------------------------- more look-alikes


@pytest.mark.parametrize(
    ("handle", "name"),
    [
        ("midori_city_jp", "みどり市"),
        ("midoricity", "みどり市"),
        ("rnidori_city", "Midori City"),
        ("midori_info", "みどり市公式"),
        ("random_user_42", "ﾐﾄﾞﾘ市"),  # half-width katakana: the same name to the eye
        ("random_user_43", "みどり\u5dff"),  # 巿 (fu) for 市
        ("midorikankyo", "みどり市 環境推進課"),
    ],
)
def test_look_alikes_alert(handle: str, name: str) -> None:
    assert best_match(Candidate(handle, name), WATCHES, RULES).alert


@pytest.mark.parametrize(
    ("handle", "name", "description"),
    [
        ("midori_cafe", "Midori Cafe", "駅前のカフェです"),
        ("yamada_taro", "山田太郎", "みどり市在住。カフェ巡りが趣味です。"),
        ("midori_gikai", "みどり市議会", "みどり市議会の公式アカウントです。"),
        ("midori_city_fan", "みどり市が好きな人", "非公式のファンアカウントです。"),
        ("greenfan", "みどり", ""),
    ],
)
def test_neighbours_and_fans_do_not_alert(handle: str, name: str, description: str) -> None:
    assert not best_match(Candidate(handle, name, description), WATCHES, RULES).alert


def test_a_disclaimer_lowers_the_score_and_says_why() -> None:
    with_claim = Candidate("midori_city_pr", "みどり市公式PR", "")
    disclaimed = Candidate("midori_city_pr", "みどり市公式PR", "※非公式のパロディです")
    claimed, _ = score(with_claim)
    lowered, reasons = score(disclaimed)
    assert lowered == claimed - RULES.disclaimer_points
    assert reasons[-1] == (
        "「非公式」と明記しています（プロフィール文）。市を名乗る意図は低いと考えられます。"
    )


def test_unofficial_is_not_a_claim_to_be_official() -> None:
    _, reasons = score(Candidate("midori_lover", "みどり市ファン", "非公式です"))
    assert not any("を名乗っています" in r for r in reasons)


def test_a_handle_of_ours_on_another_platform_is_not_known_there() -> None:
    # midori_city is our X account; on Instagram it is someone else.
    squatter = Candidate("midori_city", "みどり市", platform=Platform.INSTAGRAM)
    found = best_match(squatter, WATCHES, RULES)
    assert found.alert
    assert not found.known
    assert found.watch is not None
    assert found.watch.account.id == "midori-x"
    assert found.reason_texts()[0] == (
        "ユーザー名 @midori_city が市のアカウント @midori_city と同じです。"
    )
    [signal] = detect([squatter], WATCHES, RULES)
    assert signal.dedupe_key == "impersonation:lookalike:instagram:midori_city"


def test_a_badge_adds_weight_only_to_a_look_alike() -> None:
    plain = Candidate("midori_koushiki", "みどり市役所")
    badge = Candidate("midori_koushiki", "みどり市役所", verified=True)
    assert score(badge)[0] == score(plain)[0] + RULES.verified_points
    assert score(Candidate("tokyo_weather", "東京の天気", verified=True))[0] == 0


def test_the_threshold_is_configurable() -> None:
    strict = ImpersonationRules.for_organisation(ORGANISATION, ACCOUNTS, ALLOWLIST, threshold=95)
    fake = Candidate("random_user", "みどり市公式")
    assert best_match(fake, WATCHES, RULES).alert
    assert not best_match(fake, WATCHES, strict).alert
    with pytest.raises(ValueError, match="threshold"):
        ImpersonationRules(threshold=0)


def test_one_signal_per_impostor_even_if_it_is_seen_twice() -> None:
    fake = Candidate("midori_clty", "みどり市公式(偽)")
    again = Candidate("Midori_Clty", "みどり市公式(偽)")
    signals = detect([fake, again], WATCHES, RULES)
    assert [s.dedupe_key for s in signals] == ["impersonation:lookalike:x:midori_clty"]
    assert [s.dedupe_key for s in detect([again], WATCHES, RULES)] == [signals[0].dedupe_key]


def test_without_watches_nothing_alerts() -> None:
    assert detect([Candidate("midori_clty", "みどり市公式")], (), RULES) == []


def test_an_account_without_watch_names_is_not_watched() -> None:
    assert {w.account.id for w in WATCHES} == {
        "midori-x",
        "midori-instagram",
        "midori-facebook",
        "kankyo-x",
    }
    x_watch = next(w for w in WATCHES if w.account.id == "midori-x")
    assert x_watch.handles == ("midori_city",)


# ---------------------------------------------------------------- folding and comparing


@pytest.mark.parametrize(
    ("a", "b", "likeness"),
    [
        ("midori_city", "MIDORI_CITY", Likeness.SAME),
        ("midori_city", "midoricity", Likeness.NOTATION),
        ("みどり市", "ミドリ市", Likeness.NOTATION),
        ("midori_city", "midori_clty", Likeness.CONFUSABLE),
        ("midori_city", "rnidori_city", Likeness.CONFUSABLE),
        ("midori_city", "midorí_city", Likeness.CONFUSABLE),
        ("みどり市公式", "みどり市ハム式", Likeness.CONFUSABLE),
        ("シティ・プロモーション課", "シティプロモ一ション課", Likeness.CONFUSABLE),
        ("midori_city", "tokyo_weather", Likeness.NONE),
    ],
)
def test_compare(a: str, b: str, likeness: Likeness) -> None:
    assert compare(b, a).likeness is likeness


def test_skeleton_drops_invisible_characters_and_width() -> None:
    assert skeleton("ｍｉｄｏｒｉ\u200b＿ｃｉｔｙ") == skeleton("midori_city")


@settings(max_examples=300)
@given(st.text(max_size=40), st.text(max_size=20), st.text(max_size=80), st.booleans())
def test_any_unicode_scores_between_0_and_100(
    name: str, handle: str, description: str, verified: bool
) -> None:
    candidate = Candidate(handle, name, description, verified)
    for watch in WATCHES:
        found = assess(candidate, watch, RULES)
        assert 0 <= found.score <= 100
        assert all(text for text in found.reason_texts())
        assert all(text for text in found.reason_texts(Lang.EN))


@given(st.text(max_size=30))
def test_a_text_is_the_same_as_itself(text: str) -> None:
    assert compare(text, text).likeness is Likeness.SAME


# ---------------------------------------------------------------- handle variants


def test_variants_of_midori_city_are_the_usual_tricks() -> None:
    variants = handle_variants("midori_city")
    for expected in (
        "midori_clty",
        "midorl_city",
        "midori__city",
        "midoricity",
        "midori_city_",
        "midori_city1",
        "rnidori_city",
        "mid0ri_city",
        "midori_city_jp",
        "midori_koushiki",
        "midori_official",
    ):
        assert expected in variants
    assert "midori_city" not in variants
    assert "midori_cíty" not in variants  # not a valid X handle
    assert variants.index("midori_clty") < variants.index("midori_city_jp")  # look-alikes first


def test_variants_are_valid_unique_bounded_and_deterministic() -> None:
    variants = handle_variants("midori_city")
    assert variants == handle_variants("@midori_city")
    assert 0 < len(variants) <= MAX_LOOKUP
    assert all(re.fullmatch(r"[A-Za-z0-9_]{1,15}", v) for v in variants)
    assert len({v.casefold() for v in variants}) == len(variants)
    assert len(handle_variants("midori_city", limit=5)) == 5


def test_no_variants_of_a_handle_x_would_not_accept() -> None:
    assert handle_variants("midori.city") == ()
    assert handle_variants("a_very_long_handle_name") == ()
    assert not is_x_handle("midori_admin")


@given(st.from_regex(r"[A-Za-z0-9_]{1,15}", fullmatch=True))
def test_variants_of_any_valid_handle_are_valid(handle: str) -> None:
    variants = handle_variants(handle)
    assert len(variants) <= MAX_LOOKUP
    assert all(is_x_handle(v) and v.casefold() != handle.casefold() for v in variants)
    assert len({v.casefold() for v in variants}) == len(variants)


def test_lookup_batches_cover_every_watched_handle_without_our_own() -> None:
    batches = lookup_batches(WATCHES, RULES)
    names = [n for batch in batches for n in batch]
    assert all(0 < len(batch) <= MAX_LOOKUP for batch in batches)
    assert len(names) == len({n.casefold() for n in names})
    assert "midori_city" not in names
    assert "midori_kankyo" not in names
    assert "midori_clty" in names
    assert "midori_kankyo1" in names
    assert "midori_city_official" not in names  # 20 characters: not possible on X
    assert lookup_batches(WATCHES, RULES) == batches
    with pytest.raises(ValueError, match="1 to 100"):
        lookup_batches(WATCHES, RULES, size=101)


def test_a_watched_handle_that_is_not_ours_on_x_is_looked_up_first() -> None:
    x = next(a for a in ACCOUNTS if a.id == "midori-x")
    watching_more = x.model_copy(update={"watch_names": ("みどり市", "midori_city", "midori_shi")})
    batches = lookup_batches(watches([watching_more]), RULES)
    assert batches[0][0] == "midori_shi"
    assert len(batches) == 2  # over 100 handles: two requests
    assert all("midori_city" not in batch for batch in batches)
