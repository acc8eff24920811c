"""The sentence model: a second opinion next to the flame and prohibited lexicons.

It must quote the sentence with why and what to write instead, stay silent on ordinary city
business, never repeat a sentence the lexicon already reported, and be exactly what the training
script builds from the repository's data.
"""

from __future__ import annotations

import json
import math

import pytest

from benchmarks import train_meaning
from tests.conftest import CheckFn
from workflows.checks import CheckSettings, Finding
from workflows.checks.data import RuleDataError
from workflows.checks.sentence_model import (
    CLASSES,
    MAX_SCORED,
    MODEL_FILE,
    SURE,
    SURE_NEEDS,
    TOPIC_OF,
    from_json,
    model,
)

MEANING = CheckSettings(enabled_rules=("flame", "prohibited"))
# The model's messages say the judgement came from the sentence as a whole.
FROM_THE_SENTENCE = "文全体の言い回しから判定しました"


def findings(check: CheckFn, text: str) -> list[Finding]:
    return list(check(text, platforms=("facebook",), settings=MEANING).findings)


@pytest.mark.parametrize(
    ("text", "rule", "advice"),
    [
        (
            "年配の方はすぐ怒るので、窓口の対応には若い職員を当てています。",
            "flame.discrimination",
            "行為や事実を書き",
        ),
        (
            "外国人の方は夜に騒ぐことが多いので、公園の利用時間を短くしました。",
            "flame.discrimination",
            "ひとまとめに評価",
        ),
        (
            "粗大ごみを道ばたに置いていっても、そのうち誰かが片付けてくれます。",
            "prohibited.illegal",
            "正しい方法を書いてください",
        ),
        (
            "市長選挙を前に、この4年間で市長が実現した成果をまとめたパンフレットを全戸に配ります。",
            "flame.politics",
            "事実の案内だけにしてください",
        ),
        (
            "議会で市長の提案に反対し続ける会派の議員たちには、市民の皆さんから厳しい声を届けてください。",
            "flame.politics",
            "中立でなければなりません",
        ),
        # The rarer kinds of the manual (炎上さしすせそ, §5 ③).
        (
            "市の考えとして、原子力発電所は一日も早く再稼働させるべきです。",
            "flame.ideology",
            "中立でなければなりません",
        ),
        (
            "新年は光明寺の住職の説法を聞いて、正しい信仰を身につけましょう。",
            "flame.religion",
            "政教分離",
        ),
        (
            "隣町のチームは毎年弱いので、今年も楽勝でしょう。",
            "flame.sports",
            "両者の健闘をたたえる",
        ),
        (
            "駅前の大型スーパーは、来年の春で撤退することになったそうです。",
            "prohibited.rumor",
            "出典",
        ),
        (
            "正直、この補助金は市民の役に立っていない気がします。",
            "prohibited.opinion",
            "市として決まった方針や事実に改めてください",
        ),
        (
            "4月に異動する職員は、3月末までに机を片付けておいてください。",
            "prohibited.internal",
            "住民向けのお知らせだけにしてください",
        ),
        (
            "窓口の新人さんは顔もスタイルも抜群なので、手続きのついでにぜひ見に来てください。",
            "flame.sexual",
            "容姿や体ではなく",
        ),
    ],
)
def test_a_problem_sentence_without_listed_wording_is_quoted_with_why_and_what_instead(
    check: CheckFn, text: str, rule: str, advice: str
) -> None:
    found = findings(check, f"お知らせです。{text}詳しくは市のホームページをご覧ください。")
    assert [(f.rule, f.severity.value) for f in found] == [(rule, "warning")]
    message = found[0].message
    assert f"「{text}」" in message
    assert FROM_THE_SENTENCE in message
    assert advice in message


@pytest.mark.parametrize(
    "text",
    [
        "12月4日から10日は人権週間です。国籍や年齢、障害の有無にかかわらず、互いを認め合いましょう。",
        "外国人住民のための生活相談会を開きます。通訳がつきますので、お気軽にお越しください。",
        "市長選挙の期日前投票は、市役所1階で午後8時まで行っています。(選挙管理委員会)",
        "市長選挙の候補者は次の3人です。届出順に掲載しています。",
        "知事選挙の開票結果：新人の木村氏が初当選しました。投票率は47.5%でした。",
        "路上駐車は緊急車両の妨げになります。お車の方は市営駐車場をご利用ください。",
        "会場の駐車場が満車のときは、第2駐車場に停めていただいても構いません。",
        "今回の大雨で被害を受けた隣の市へ、給水車と職員を派遣しました。",
        "ごみは収集日の朝8時30分までに出してください。分け方は環境推進課へお問い合わせください。",
        "決勝の相手は昨年の優勝校でしたが、最後まで粘り強く戦い、すばらしい試合になりました。",
        "5月3日の憲法記念日にあわせ、図書館で日本国憲法の成り立ちを紹介する展示を行います。",
        "大みそかの夜は、光明寺の除夜の鐘にあわせて循環バスの臨時便を運行します。",
        "入札結果を公表しました。落札者と落札金額は市ホームページでご覧いただけます。",
    ],
)
def test_ordinary_city_business_on_the_same_topics_stays_silent(check: CheckFn, text: str) -> None:
    assert [(f.rule, f.message) for f in findings(check, text)] == []


def test_a_sentence_the_lexicon_reported_gets_no_second_finding(check: CheckFn) -> None:
    text = "高齢ドライバーは判断力が落ちているので、早く免許を返納してください。"
    assert [v[2] for v in model().flagged(text)] == ["flame.discrimination"]
    found = findings(check, text)
    assert [f.rule for f in found] == ["flame.discrimination"]
    assert FROM_THE_SENTENCE not in found[0].message


def test_a_repeated_sentence_is_reported_each_time_and_a_huge_draft_is_read_only_so_far(
    check: CheckFn,
) -> None:
    sentence = "外国人の方は夜に騒ぐことが多いので、公園の利用時間を短くしました。"
    assert [f.rule for f in findings(check, sentence * 3)] == ["flame.discrimination"] * 3
    # Past MAX_SCORED characters of distinct sentences nothing more is read.
    filler = "".join(f"市民会館の催しは第{i}回です。" for i in range(MAX_SCORED // 10))
    assert [f.rule for f in findings(check, filler + sentence)] == []


def _always(label: str, probability: float = 0.8) -> dict[str, object]:
    """A model file that gives ``label`` this probability for every sentence."""
    # softmax over len(CLASSES) logits, all 0 but the label's
    logit = math.log(probability * (len(CLASSES) - 1) / (1 - probability))
    bias = [round(100 * logit) if c == label else 0 for c in CLASSES[:-1]]
    return {
        "classes": list(CLASSES),
        "scale": 100,
        "bias": bias,
        "thresholds": dict.fromkeys(CLASSES[:-1], 0.5),
        "weights": {},
    }


def test_an_election_verdict_needs_a_stance_in_the_sentence_and_the_election_in_the_draft() -> None:
    politics = from_json(_always("flame.politics"))

    def flagged(text: str) -> list[str]:
        return [text[start:end] for start, end, _, _ in politics.flagged(text)]

    # The election commission's plain reports take no stance: never a politics verdict.
    result = "市長選挙の開票結果：現職の山田氏が当選しました。(選挙管理委員会)"
    booth = "期日前投票所を、市役所の1階に開設しました。"
    assert flagged(f"{result}\n{booth}") == []
    # A stance (urging, praise, a condition) in a sentence about the election is judged.
    urging = "市長選挙では、現職に一票をお願いします。"
    assert flagged(f"{result}\n{urging}") == [urging]
    # A stance whose election is named only in another sentence of the draft is judged too,
    # but not in a draft that names no election at all.
    rally = "市長も応援に駆けつけます。"
    assert flagged("佐藤候補が市民会館で話をします。" + rally) == [rally]
    assert flagged("少年野球の決勝戦を市民球場で開きます。" + rally) == []


def test_a_sentence_the_model_is_sure_of_needs_no_topic_word_but_a_veto_still_holds() -> None:
    # No word of a group, a disaster or an election: silent unless the model is SURE.
    plain = "あの通りの人たちには、いつも困らされています。"
    for label in TOPIC_OF:
        unsure = from_json(_always(label, SURE - 0.05))
        sure = from_json(_always(label, (SURE + 1) / 2))
        assert unsure.flagged(plain) == []
        # The rarer themes need their subject however sure: a sport, a faith, a national question.
        needed = SURE_NEEDS.get(label) == TOPIC_OF[label]
        expected = [] if needed else [(plain, label)]
        assert [(plain[s:e], c) for s, e, c, _ in sure.flagged(plain)] == expected
    sports = from_json(_always("flame.sports", 0.999))
    rival = "ライバルの東高校は、今年も口ほどにもありませんでしたね。"
    assert [c for _, _, c, _ in sports.flagged(rival)] == ["flame.sports"]
    assert sports.flagged("お隣の家とは、今年も口ほどにもありませんでしたね。") == []
    # A judgement of a group must still speak of people, however sure the model is.
    weekend = "週末は騒がしいので、静かに過ごせる図書館の自習室をご利用ください。"
    sure = from_json(_always("flame.discrimination", 0.999))
    assert sure.flagged(weekend) == []
    assert sure.flagged(weekend.replace("週末は", "あの辺の人は")) != []
    # A plain statement of a rule is never condoning it, however sure the model is.
    illegal = from_json(_always("prohibited.illegal", 0.999))
    assert illegal.flagged("空き地に家電を捨てるのは不法投棄で、犯罪です。") == []
    assert illegal.flagged("空き地に家電を捨てても構いません。") != []


@pytest.mark.parametrize(
    ("label", "plain", "anyway"),
    [
        (
            "flame.politics",
            "市役所として、4月の市長選挙で特定の候補者を応援することはありません。",
            "市役所として中立ですが、個人的には現職に頑張ってほしいです。",
        ),
        (
            "flame.politics",
            "問い：新しい庁舎を建設することに賛成ですか、反対ですか。",
            "賛否はいろいろですが、庁舎の建設に賛成の一票をお願いします。",
        ),
        (
            "flame.disaster",
            "地震で大きな被害を受けたあおば町の皆さまに、心からお見舞い申し上げます。",
            "あおば町の皆さまにお見舞い申し上げますが、みどり市は無事です。",
        ),
        (
            "flame.disaster",
            "過去の地震の教訓を生かし、避難所のトイレを整備しました。",
            "過去の地震の教訓を生かした、よそより進んだ整備です！",
        ),
    ],
)
def test_neutrality_and_sympathy_said_plainly_are_never_a_side_or_a_boast(
    label: str, plain: str, anyway: str
) -> None:
    # However sure the model is: unless the sentence boasts, compares or takes a side all the same.
    sure = from_json(_always(label, 0.999))
    assert sure.flagged(plain) == []
    assert [c for _, _, c, _ in sure.flagged(anyway)] == [label]


def test_a_resident_s_question_in_a_q_and_a_is_never_condoning_or_contempt() -> None:
    # However sure the model is: the question is asked, the city's answer follows.
    politics = from_json(_always("flame.politics", 0.999))
    asked = "Q. 市は住民投票で、賛成と反対のどちらを勧めているのですか？"
    assert politics.flagged(asked) == []
    said = "住民投票では、ぜひ賛成に一票をお願いします。"
    assert [c for _, _, c, _ in politics.flagged(said)] == ["flame.politics"]
    # Nor is any sentence asking whether something is allowed condoning it.
    illegal = from_json(_always("prohibited.illegal", 0.999))
    for question in ("「コピーして配ってもいいの？", "夜なら路上に停めても大丈夫ですか？"):
        assert illegal.flagged(question) == [], question
    for label in ("prohibited.illegal", "prohibited.disrespect"):
        sure = from_json(_always(label, 0.999))
        for question in (
            "Q. 家の前の道路に少しの間なら車を停めてもいいですか？",
            "問：空き地で枝を燃やしてもいいですか？",
            "・Q3：分別がよく分からないときは、どうすればよいですか？",
        ):
            assert sure.flagged(question) == [], question
        said = "家の前の道路なら、少しの間は車を停めても構いません。"
        assert [(said[s:e], c) for s, e, c, _ in sure.flagged(said)] == [(said, label)]


def test_a_malformed_model_file_names_the_file() -> None:
    with pytest.raises(RuleDataError, match=MODEL_FILE):
        from_json({"classes": list(CLASSES), "scale": 100, "bias": [0], "weights": {}})
    with pytest.raises(RuleDataError, match=MODEL_FILE):
        from_json(["not", "a", "model"])


def test_the_shipped_model_is_what_the_training_script_builds_from_the_repository() -> None:
    built, _ = train_meaning.build(cv=False)
    shipped = train_meaning.shipped_path().read_text(encoding="utf-8")
    assert train_meaning.differences(json.loads(built), json.loads(shipped)) == []


def test_a_model_differs_by_more_than_the_last_unit_of_rounding() -> None:
    head = {"classes": list(CLASSES), "scale": 100, "thresholds": {"x": 0.6}, "bias": [1, 2]}
    shipped = {**head, "weights": {"市長": [40, -3], "端": [15, 0]}}
    differences = train_meaning.differences
    # One unit apart, and a feature at the pruning edge dropped: the same model.
    assert differences({**head, "weights": {"市長": [41, -2]}}, shipped) == []
    # Two units apart, a real feature missing, another threshold: a different model.
    assert differences({**head, "weights": {"市長": [42, -3], "端": [15, 0]}}, shipped) == [
        "'市長': [42, -3] != [40, -3]"
    ]
    assert differences({**head, "weights": {"端": [15, 0]}}, shipped) == [
        "'市長': only in the shipped model"
    ]
    assert differences({**shipped, "thresholds": {"x": 0.7}}, shipped) == [
        "thresholds: {'x': 0.7} != {'x': 0.6}"
    ]
