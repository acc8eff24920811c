from __future__ import annotations

import itertools
import shutil
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import DEFAULT_AT, CheckFn
from workflows.catalogue import Lang
from workflows.checks import Checker, CheckResult, CheckSettings, DraftToCheck, Finding, Severity
from workflows.checks.data import RuleDataError, load_yaml
from workflows.checks.rules import terminology
from workflows.checks.rules.terminology import STARTER, anchor, dictionary, load_file

# Ordinary municipal drafts, written the way staff write them: none of them may produce a finding
# of the terminology, typo or style families (test_typo and test_style use them too).
CLEAN_DRAFTS = [
    "【みどり市民まつり開催のお知らせ】\n11月23日(月・祝)10時から、みどり中央公民館で市民まつりを"
    "開催します。地元の農産物の販売や、子どもたちによるステージ発表、消防車の展示など、楽しい催しが"
    "たくさんあります。駐車場には限りがありますので、公共交通機関をご利用ください。雨天の場合は一部"
    "内容を変更して実施します。詳しくは市ホームページをご覧ください。\n問い合わせ：シティ・プロモー"
    "ション課 電話048-123-4567 https://www.city.midori.lg.jp/event/matsuri.html "
    "#みどり市 #市民まつり",
    "【パブリックコメントを実施します】\n「みどり市環境基本計画（案）」について、市民の皆さまのご意見"
    "を募集します。\n■募集期間：12月1日(火)～12月28日(月)\n■提出方法：郵送、ファクス、電子メール又は"
    "環境推進課窓口へ持参\n計画案は市ホームページ、市役所情報コーナー、各公民館で閲覧できます。",
    "ごみの収集日が変わります。\n12月29日(火)から1月3日(日)までは、ごみの収集をお休みします。\n年末は"
    "大変混み合いますので、早めに出していただくようご協力をお願いします。\n資源物（びん・缶・ペット"
    "ボトル等）の収集日は地区ごとに異なります。\n詳しくは「ごみカレンダー」をご確認ください。",
    "特定健診のお知らせ\n40歳から74歳までの国民健康保険加入者の方が対象です。\n受診期間は11月30日(月)"
    "まで。まだ受診していない方は、お早めにお申し込みください。\n問い合わせ：健康づくり課（電話 "
    "048-123-4568）",
    "【防災訓練を実施します】\n11月29日(日)午前9時から、市内全域で総合防災訓練を実施します。当日は防災"
    "行政無線から訓練放送が流れます。\n災害時に慌てないよう、避難場所や避難経路を家族で確認しておき"
    "ましょう。\n※雨天時は一部内容を変更します。",
    "みどり市立図書館からのお知らせ📚\n12月の「おはなし会」は12月12日(土)14時からです。絵本の読み聞かせ"
    "や手遊びを行います。対象は3歳から小学校低学年のお子さんと保護者の方です。申し込みは不要です。\n"
    "#みどり市立図書館 #おはなし会",
    "みどり市立博物館では、企画展「みどりの昔のくらし」を開催中です！\n昔の道具や写真など約200点を展示"
    "しています。\n会期：1月31日(日)まで\n休館日：月曜日（祝日の場合は翌日）\n観覧料：無料",
    "【個人住民税の納期限】\n第3期分の納期限は11月30日(月)です。納め忘れのないようご注意ください。\n"
    "口座振替をご利用の方は、前日までに残高のご確認をお願いします。\nスマートフォン決済アプリ（PayPay、"
    "LINE Pay等）でも納付できます。",
    "市民体育祭を開催しました！\n10月11日(日)に開催した市民体育祭には、約1,500人の市民の皆さまにご参加"
    "いただきました。ご協力いただいた関係者の皆さま、ありがとうございました。\n当日の様子は市Facebook"
    "ページでご紹介しています。",
    "【講座のご案内】はじめてのスマホ教室\nスマートフォンの基本的な使い方を、一人一人に合わせて丁寧に"
    "お教えします。\n日時：12月5日(土)13時30分～15時30分\n会場：みどり中央公民館 2階 学習室\n定員："
    "先着20名（申込順）\n申し込み：11月24日(火)から電話で生涯学習・スポーツ課へ",
    "X（旧Twitter）でも情報を発信しています。フォローをお願いします！\nLINE公式アカウントでは、ごみの"
    "分別や収集日をお知らせしています。友だち登録はこちらから→ https://lin.ee/abcdEF",
    "インフルエンザの予防接種を実施しています。\n65歳以上の方は自己負担額1,500円で接種できます。接種を"
    "希望する方は、実施医療機関へ直接予約してください。\n予診票を紛失したときは、長寿はつらつ課まで"
    "ご連絡ください。",
    "道路工事のお知らせ\n市道123号線で舗装工事を行うため、11月25日(水)から12月4日(金)まで通行止めと"
    "なります。工事期間中はご不便をおかけしますが、ご理解とご協力をお願いいたします。",
    "みどり市の魅力を発信する「みどり大使」を募集します。\n応募資格は市内在住・在勤・在学の18歳以上の"
    "方です。\n応募方法など詳しくは、市ホームページ（https://www.city.midori.lg.jp/taishi）をご覧"
    "ください。",
    "熱中症に注意しましょう\n・こまめに水分を補給する\n・暑い日は無理をしない\n・エアコンを適切に使う"
    "\n高齢者や子どもは特に注意が必要です。",
    "本日、みどり市長が市内の小学校を訪問し、子どもたちと給食を共にしました。\n子どもたちからは「市長"
    "さんと話せて楽しかった」との声が聞かれました。",
    "市民会館の大ホールは改修工事のため、令和9年3月まで休館します。\nご不便をおかけしますが、ご理解の"
    "ほどよろしくお願いいたします。\nなお、小ホールと会議室は通常どおりご利用いただけます。",
    "図書館の本の返却期限は、貸出日から2週間です。返却ポストは24時間ご利用いただけます。ただし、CD・"
    "DVDは破損のおそれがあるため、カウンターへ返却してください。",
    "○日時　12月6日(日)午前8時30分スタート\n○会場　みどり市総合運動公園\n○種目　10km、5km、3km"
    "（親子ペア）\n○参加費　一般3,000円、高校生以下1,000円",
    "1) 申込書に必要事項を記入\n2) 本人確認書類のコピーを添付\n3) 市民課窓口へ提出\n"
    "ア）郵送の場合は消印有効\nイ）窓口の場合は平日のみ",
    "事業者の皆さまへ。事業所から出るごみは、家庭ごみの集積所には出せません。許可業者に収集を依頼して"
    "ください。",
    "地震が起きたときは、まず身の安全を確保してください。火災のときは119番へ。",
    "今年のテーマは「未来へつなぐ」。市民の皆さんと一緒に考えるワークショップを開催します。",
    "市長のコメント「市民の安全を守ることが市の責務である。」",
    "市内の小中学校で、eスポーツ体験会を開催します。dポイントやPayPayも使えます。",
    "本日の給食は、地元産の野菜をたっぷり使ったカレーです(^^)",
    "博物館ニュース：二〇〇〇年に発見された土器を特別公開します。",
    "フリーマーケット出店者募集！Tシャツ（XXLサイズ）も販売予定です。",
    "「みどり市史」は各図書館で閲覧できます。『広報みどり』11月号もあわせてご覧ください。",
    "お問い合わせは info@city.midori.lg.jp まで。",
    "いろいろな催しがあります。それぞれの会場で、ここでしか味わえない体験を！",
    "きょうは市ののぼり旗を新しくしました。",
    "サイズはＳ・Ｍ・Ｌの３種類です。",
    "会場：みどり市民会館（みどり市中町1-2-3）\n駐車場：あり（50台）\n料金：無料",
    "台風第14号の接近に伴い、市内全域に高齢者等避難を発令しました。避難所を開設しています。",
    "市では、平等な社会の実現に向けて取り組んでいます。高等学校との連携事業も行っています。",
    "新しい時代の図書館づくりについて、市民の皆さんの意見を聞く会を開きます。",
    "ボランティア募集\n子ども食堂の運営を手伝ってくださる方を募集しています。料理が得意な方、子どもが"
    "好きな方、大歓迎です。",
    "受付時間：9時〜17時\n※土日祝日を除く",
    "昨年度の市民意識調査では、約7割の方が「住みやすい」と回答しました。",
    "今年もやります！みどりの夏祭り\n盆踊りや屋台など、楽しい企画が盛りだくさん。ぜひ遊びに来て"
    "くださいね。",
    "秋の味覚を楽しむ\n市内の農産物直売所では、新米やさつまいもが並んでいます。",
    "【確定申告の相談会】\n2月16日(月)から3月16日(月)まで、市役所1階の特設会場で確定申告の相談を受け付け"
    "ます。マイナンバーカードをお持ちの方は、スマートフォンからe-Taxで申告できます。",
    "みどり市公式LINEでは、子育てに関する情報を配信しています。",
    "ご参加いただいた皆さん、ありがとうございました！来年もお楽しみに。",
    "ぼぼたんの写真展を開催中です。会場はみどり中央公民館1階ロビーです。ぜひお越しください♪",
]


# Only this family runs: its tests must not depend on the data of the others.
ONLY = CheckSettings(enabled_rules=("terminology",))


def found(result: CheckResult, family: str = "terminology") -> list[Finding]:
    return [f for f in result.findings if f.rule.split(".")[0] == family]


def quoted(text: str, findings: list[Finding]) -> list[str]:
    return [text[f.start : f.end] for f in findings]


# ------------------------------------------------------------------ official names

# The city's own names, as app.yaml gives them (organisation, sections) with checks.official_names.
CITY_NAMES = (
    "みどり市",
    "シティ・プロモーション課",
    "環境推進課",
    "生涯学習・スポーツ課",
    "健康づくり課",
    "障害福祉課",
    "産業振興課",
    "保育課",
    "長寿はつらつ課",
    "デジタル推進課",
    "まちづくり推進課",
    "博物館",
    "みどり市立博物館",
    "みどり市民会館",
    "みどり中央公民館",
    "みどり市役所",
)
NAMED = CheckSettings(enabled_rules=("terminology",), official_names=CITY_NAMES)


def test_official_section_name_without_its_middle_dot(check: CheckFn) -> None:
    text = "詳しくはシティプロモーション課までお問い合わせください。"
    [f] = found(check(text, settings=NAMED))
    assert f.rule == "terminology"
    assert f.severity is Severity.WARNING
    assert text[f.start : f.end] == "シティプロモーション課"
    assert f.suggestion == "シティ・プロモーション課"
    assert f.message == (
        "「シティプロモーション課」は正式名称の「シティ・プロモーション課」と書いてください。"
    )


def test_span_points_into_the_half_width_original(check: CheckFn) -> None:
    text = "ｼﾃｨﾌﾟﾛﾓｰｼｮﾝ課のお知らせです。"
    [f] = found(check(text, settings=NAMED))
    assert text[f.start : f.end] == "ｼﾃｨﾌﾟﾛﾓｰｼｮﾝ課"
    assert f.suggestion == "シティ・プロモーション課"


@pytest.mark.parametrize(
    ("text", "wrong", "right"),
    [
        ("生涯学習スポーツ課が主催します。", "生涯学習スポーツ課", "生涯学習・スポーツ課"),
        ("生涯学習 ・ スポーツ課が主催します。", "生涯学習 ・ スポーツ課", "生涯学習・スポーツ課"),
        ("健康ずくり課の保健師がお答えします。", "健康ずくり課", "健康づくり課"),
        ("【健康作り課】特定健診のお知らせ", "健康作り課", "健康づくり課"),
        ("長寿ハツラツ課", "長寿ハツラツ課", "長寿はつらつ課"),
        ("まちつくり推進課", "まちつくり推進課", "まちづくり推進課"),
        ("みどり市博物館で企画展", "みどり市博物館", "みどり市立博物館"),
        ("みどり中央公民舘で開催", "みどり中央公民舘", "みどり中央公民館"),
        ("ミドリ市の公式アカウント", "ミドリ市", "みどり市"),
    ],
)
def test_spelling_variants_of_official_names(
    check: CheckFn, text: str, wrong: str, right: str
) -> None:
    [f] = found(check(text, settings=NAMED))
    assert (text[f.start : f.end], f.suggestion) == (wrong, right)


@pytest.mark.parametrize(
    "text",
    [
        "環境課までご連絡ください。",
        "生涯学習課の講座です。",
        "シティプロモーション課からのお知らせです。",
        "みどり市博物館で企画展を開きます。",
    ],
)
def test_the_starter_dictionary_carries_no_organisation_names(check: CheckFn, text: str) -> None:
    """Another city's 環境課 is its own official name: only the city's settings name sections."""
    assert found(check(text, settings=ONLY)) == []


@pytest.mark.parametrize(
    "text",
    [
        "環境課までご連絡ください。",
        "生涯学習課の講座です。",
        "市立博物館で企画展",
        # the city's name, then a facility not listed (みどり市 + 立図書館)
        "みどり市立図書館の冬休みおはなし会",
        "みどり市立第二小学校の児童が描いた絵を展示します。",
    ],
)
def test_other_names_are_not_variants_of_an_official_name(check: CheckFn, text: str) -> None:
    assert found(check(text, settings=NAMED)) == []


def test_an_official_name_is_never_rewritten(check: CheckFn, tmp_path: Path) -> None:
    org = write(
        tmp_path / "org.yaml",
        """
version: 1
rules:
  - expected: 障害
    pattern: 障がい
    kind: house
    specs:
      - {from: 障がいのある方, to: 障害のある方}
""",
    )
    settings = CheckSettings(
        terminology=org, enabled_rules=("terminology",), official_names=("障がい福祉課",)
    )
    text = "障がい福祉課では、障がいのある方の相談を受けています。"
    findings = found(check(text, settings=settings))
    assert [(text[f.start : f.end], f.start) for f in findings] == [("障がい", 9)]


@pytest.mark.parametrize(
    "text",
    [
        "シティ・プロモーション課、環境推進課、生涯学習・スポーツ課、健康づくり課、障害福祉課",
        "産業振興課、保育課、長寿はつらつ課、デジタル推進課、まちづくり推進課",
        "みどり市立博物館、みどり市民会館、みどり中央公民館、みどり市役所",
        "市立博物館で企画展を開催中です。",
        "地球環境課題を考える講座を開きます。",
        "新緑市民ハイキングに参加しませんか。",
    ],
)
def test_official_names_written_correctly_pass(check: CheckFn, text: str) -> None:
    assert found(check(text, settings=NAMED)) == []


# ------------------------------------------------------------------ 公用文 spellings


@pytest.mark.parametrize(
    ("text", "wrong", "right"),
    [
        ("お気軽にお越し下さい。", "下さい", "ください"),
        ("ご参加頂きありがとうございました。", "頂き", "いただき"),
        ("よろしくお願い致します。", "致し", "いたし"),
        ("どなたでも参加出来ます。", "出来", "でき"),
        ("参加する事ができます。", "事", "こと"),
        ("困った時は市役所へご相談ください。", "時", "とき"),
        ("安全の為にヘルメットを着用してください。", "為", "ため"),
        ("遅れない様にお越しください。", "様", "よう"),
        ("11月30日迄に提出してください。", "迄", "まで"),
        ("以下の通り開催します。", "以下の通り", "以下のとおり"),
        ("天候に関わらず開催します。", "関わらず", "かかわらず"),
        ("但し、雨天の場合は中止します。", "但し", "ただし"),
        ("尚、駐車場はありません。", "尚", "なお"),
        ("予約無しで参加できます。", "無し", "なし"),
        ("お問合わせ先", "問合わせ", "問い合わせ"),
    ],
)
def test_kobun_spellings(check: CheckFn, text: str, wrong: str, right: str) -> None:
    [f] = found(check(text, settings=ONLY))
    assert (text[f.start : f.end], f.suggestion) == (wrong, right)
    assert f.message.startswith(f"公用文では「{wrong}」を「{right}」と書きます。")


@pytest.mark.parametrize(
    "text",
    [
        "市が行う事業の説明会を開きます。道路工事のお知らせです。事故に注意してください。",
        "事務局からのお知らせ。秋の行事を紹介します。知事が出席します。",
        "子どもの習い事の相談会。お祝い事やお困り事のご相談も受け付けます。",
        "災害時の避難場所を確認しましょう。雨天時は中止します。",
        "10時から受付開始。開館時間は9時から17時まで。日時は後日お知らせします。",
        "申し込んだ時点で受付完了です。その時々の話題を取り上げます。",
        "資料を下さい。記念品を頂きました。意見が一致しました。企業を誘致します。",
        "申請書等を提出してください。平等な社会。高等学校。",
        "電話又はメールで申し込んでください。及び、並びに。",
        "今年の出来事を振り返ります。出来上がりをお楽しみに。",
        "皆様にお知らせします。同様に、様々な催しがあります。当日の様子をご覧ください。",
        "駅前の通りで朝市を開きます。中央通りは通行止めです。",
        "係員の指示に従って、避難してください。",
        "お問合せ先：環境推進課。お問い合わせはこちら。",
    ],
)
def test_look_alike_words_pass(check: CheckFn, text: str) -> None:
    assert found(check(text, settings=ONLY)) == []


# ------------------------------------------------------------------ services, house style, severity


def test_twitter_is_now_x(check: CheckFn) -> None:
    text = "市公式Twitterで発信しています。"
    [f] = found(check(text, settings=ONLY))
    assert (text[f.start : f.end], f.suggestion, f.severity) == ("Twitter", "X", Severity.WARNING)
    assert "2023年" in f.message


@pytest.mark.parametrize(
    "text",
    [
        "X（旧Twitter）でも発信しています。",
        "X(旧ツイッター)をフォロー",
        "詳しくは https://twitter.com/midori_city をご覧ください。",
        "#Twitter を見てね",
    ],
)
def test_twitter_where_it_belongs(check: CheckFn, text: str) -> None:
    assert found(check(text, settings=ONLY)) == []


def test_severity_comes_from_the_dictionary(check: CheckFn) -> None:
    text = "詳しくは市HPをご覧ください。子供向けの工作教室もあります。"
    findings = found(check(text, settings=ONLY))
    assert [(text[f.start : f.end], f.suggestion, f.severity) for f in findings] == [
        ("HP", "ホームページ", Severity.INFO),
        ("子供", "子ども", Severity.INFO),
    ]
    assert "市の表記ルール" in findings[1].message


def test_hp_inside_a_longer_word_passes(check: CheckFn) -> None:
    assert found(check("HPVワクチンの接種について", settings=ONLY)) == []


def test_a_residents_words_in_quotation_marks_keep_their_own_spelling(check: CheckFn) -> None:
    # 「」 holds a resident's voice or a title: the city's spelling rules are the city's own.
    voice = "利用者の声：「つらかった時に、保健師さんが来て下さいました」（Aさん・30代）"
    assert found(check(voice, settings=ONLY)) == []
    title = "講演会『子供の時間を守る』を開きます。"
    assert found(check(title, settings=ONLY)) == []
    # The city's own sentence around the quote is still read; a service name is a fact.
    around = "困った時は「相談窓口」へ。「市公式Twitterを見た」という声も。"
    findings = found(check(around, settings=ONLY))
    assert [(around[f.start : f.end], f.suggestion) for f in findings] == [
        ("時", "とき"),
        ("Twitter", "X"),
    ]


def test_hashtags_links_and_mail_addresses_are_left_alone(check: CheckFn) -> None:
    text = "#子供の日 #みどり博物館 https://example.jp/Youtube/HP info@hp.example.jp"
    assert found(check(text, settings=ONLY)) == []


def test_english_message() -> None:
    [f] = found(Checker(ONLY, lang=Lang.EN).check(DraftToCheck("お越し下さい。", DEFAULT_AT)))
    assert f.message == (
        'Official writing (公用文) spells "下さい" as "ください". '
        "The auxiliary ください is written in kana."
    )


# ------------------------------------------------------------------ realistic drafts


@pytest.mark.parametrize("text", CLEAN_DRAFTS)
def test_clean_municipal_drafts_have_no_terminology_finding(check: CheckFn, text: str) -> None:
    assert quoted(text, found(check(text, settings=ONLY))) == []


def test_a_flawed_draft_reports_each_slip_once(check: CheckFn) -> None:
    text = "シティプロモーション課からのお知らせ。どなたでも参加出来ます。お気軽にお越し下さい。"
    findings = found(check(text, settings=NAMED))
    assert quoted(text, findings) == ["シティプロモーション課", "出来", "下さい"]


# ------------------------------------------------------------------ the dictionary format


def write(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


def test_organisation_dictionary_adds_entries(check: CheckFn, tmp_path: Path) -> None:
    org = write(
        tmp_path / "org.yaml",
        """
version: 1
rules:
  - expected: みどりの森公園
    patterns: [緑の森公園, みどりの森こうえん]
    kind: official
    specs:
      - {from: 緑の森公園で開催, to: みどりの森公園で開催}
""",
    )
    text = "緑の森公園で植樹祭を開きます。子供も参加できます。"
    findings = found(
        check(text, settings=CheckSettings(terminology=org, enabled_rules=ONLY.enabled_rules))
    )
    assert [(text[f.start : f.end], f.suggestion) for f in findings] == [
        ("緑の森公園", "みどりの森公園"),
        ("子供", "子ども"),  # the starter dictionary still applies
    ]


def test_organisation_entry_overrides_the_starter_entry(check: CheckFn, tmp_path: Path) -> None:
    org = write(
        tmp_path / "override.yaml",
        """
rules:
  - expected: 子ども
    patterns: [子供, こども]
    severity: warning
    specs:
      - {from: こども, to: 子ども}
  - expected: ホームページ
    disabled: true
""",
    )
    text = "こども向けの講座です。詳しくはHPへ。"
    findings = found(
        check(text, settings=CheckSettings(terminology=org, enabled_rules=ONLY.enabled_rules))
    )
    assert [(text[f.start : f.end], f.severity) for f in findings] == [("こども", Severity.WARNING)]


def test_the_local_rule_example_in_the_starter_dictionary_works(
    check: CheckFn, tmp_path: Path
) -> None:
    """The commented 障がい example in terminology.yaml, used as an organisation's dictionary."""
    comment = STARTER.read_text(encoding="utf-8").split("for example:\n", 1)[1]
    lines = itertools.takewhile(lambda line: line.startswith("#     "), comment.splitlines())
    example = textwrap.dedent("\n".join(line[1:] for line in lines))
    assert example.startswith("- expected: 障がい")
    org = write(tmp_path / "local.yaml", "rules:\n" + example + "\n")
    text = "障害のある方への支援について、障害福祉課がご説明します。"
    settings = CheckSettings(terminology=org, enabled_rules=ONLY.enabled_rules)
    findings = found(check(text, settings=settings))
    assert [(text[f.start : f.end], f.suggestion) for f in findings] == [("障害", "障がい")]
    assert "市の表記ルール" in findings[0].message


def test_imports_and_ignore_rules(check: CheckFn, tmp_path: Path) -> None:
    write(
        tmp_path / "shared.yaml",
        """
rules:
  - expected: ウェブサイト
    pattern: ウエブサイト
  - expected: メールアドレス
    pattern: メアド
""",
    )
    org = write(
        tmp_path / "org.yaml",
        """
imports:
  - path: shared.yaml
    ignoreRules: [メールアドレス]
""",
    )
    text = "ウエブサイトとメアドを確認してください。"
    findings = found(
        check(text, settings=CheckSettings(terminology=org, enabled_rules=ONLY.enabled_rules))
    )
    assert quoted(text, findings) == ["ウエブサイト"]


def test_regex_patterns_with_groups_and_word_boundary(tmp_path: Path) -> None:
    org = write(
        tmp_path / "regex.yaml",
        r"""
rules:
  - expected: $1年度
    pattern: /(令和\d+)年度?分/
    specs:
      - {from: 令和8年分, to: 令和8年度}
  - expected: JavaScript
    options: {wordBoundary: true}
    specs:
      - {from: javascript講座, to: JavaScript講座}
      - {from: javascripts, to: javascripts}
  - expected: 申請
    pattern: /(しん)?申請/
    options: {regexpMustEmpty: $1}
    specs:
      - {from: 申請, to: 申請}
""",
    )
    terms = {t.expected: t for t in load_file(org).values() if t is not None}
    assert terms["$1年度"].apply("令和8年分と令和9年度分") == "令和8年度と令和9年度"
    assert terms["JavaScript"].apply("JAVASCRIPT と javascripts") == "JavaScript と javascripts"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "rules:\n  - expected: ください\n    pattern: 下さい\n"
            "    specs:\n      - {from: 下さい, to: 下さい}\n",
            "spec fails: from '下さい' gives 'ください', not '下さい'",
        ),
        ("rules:\n  - expected: A\n    colour: red\n", "unknown key(s) ['colour']"),
        ("version: 2\nrules: []\n", "only version 1"),
        ("rules:\n  - expected: A\n    pattern: /(/\n", "not a valid regex"),
        ("rules:\n  - {expected: A}\n  - {expected: A}\n", "already defined in this file"),
        ("rules:\n  - {expected: $2, pattern: /(a)/}\n", "refers to group $2"),
        ("rules:\n  - {expected: A, severity: fatal}\n", "severity must be"),
        ("imports: [org.yaml]\n", "imports itself"),
    ],
)
def test_broken_organisation_dictionary_names_file_and_entry(
    tmp_path: Path, body: str, message: str
) -> None:
    org = write(tmp_path / "org.yaml", body)
    with pytest.raises(RuleDataError) as caught:
        dictionary(org)
    assert str(org) in str(caught.value)
    assert message in str(caught.value)


def test_broken_spec_in_the_starter_dictionary_stops_loading(tmp_path: Path) -> None:
    copy = tmp_path / "terminology.yaml"
    shutil.copy(STARTER, copy)
    text = copy.read_text(encoding="utf-8")
    broken = text.replace(
        "{from: 大切な事は, to: 大切なことは}", "{from: 事業のお知らせ, to: こと業のお知らせ}"
    )
    assert broken != text
    copy.write_text(broken, encoding="utf-8")
    with pytest.raises(RuleDataError, match=r"rules\[\d+\] \(expected 'こと'\): spec fails"):
        load_file(copy, strict=True)


def test_starter_entries_need_hits_and_misses(tmp_path: Path) -> None:
    only_hit = write(
        tmp_path / "t.yaml",
        "rules:\n  - expected: ください\n    pattern: 下さい\n"
        "    specs:\n      - {from: 下さい, to: ください}\n",
    )
    assert load_file(only_hit)  # fine for an organisation's own dictionary
    with pytest.raises(RuleDataError, match="specs that leave it alone"):
        load_file(only_hit, strict=True)


def test_every_starter_entry_has_specs() -> None:
    raw = load_yaml(STARTER)
    assert all(entry.get("specs") for entry in raw["rules"])
    assert len(dictionary().terms) == len(raw["rules"])


# ------------------------------------------------------------------ the anchor pre-check


@pytest.mark.parametrize(
    ("pattern", "strings", "leading"),
    [
        ("(?<![をがは])下さ([いる])(?!たま)", {"下さ"}, True),
        ("(?:(?<=[るた])|(?<=[なた]い))事(?=[がを])", {"事"}, True),
        ("(次|以下)の通り", {"の通り"}, False),
        ("みどり市?博物館", {"みどり"}, True),
        ("(?:緑|みどり)中央公民館", {"中央公民館"}, False),
        ("[頂戴]([かき])", {"頂", "戴"}, True),
        ("ホーム[ぺべ]ージ|ホームペイジ", {"ホーム", "ホームペイジ"}, True),
        (r"\d+年", {"年"}, False),
        (r"\d+|年", None, None),
    ],
)
def test_anchor(pattern: str, strings: set[str] | None, leading: bool | None) -> None:
    found_anchor = anchor(pattern)
    if strings is None:
        assert found_anchor is None
    else:
        assert found_anchor is not None
        assert (set(found_anchor.strings), found_anchor.leading) == (strings, leading)


_ALPHABET = (
    "事時下さい頂き致し出来るたのなをがは業故。、市役所みどりシティプロモーション課"
    "HPhpTwitter旧X 子供等通り次以下"
)


def _plain_hits(term: terminology.Term, index: int, text: str) -> list[tuple[int, int]]:
    """What the term reports when every pattern is run with plain ``finditer``."""
    out = []
    for m in term.patterns[index].finditer(text):
        fixed = m.expand(term.template) if term.references else term.expected
        if m.end() > m.start() and terminology._nfkc(fixed) != m.group():
            out.append((m.start(), m.end()))
    return out


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=40))
def test_the_pre_check_never_loses_a_match(text: str) -> None:
    for term in dictionary().terms:
        for index in range(len(term.patterns)):
            anchored = [(s, e) for s, e, _ in term.hits(index, text, text.lower())]
            assert anchored == _plain_hits(term, index, text), (term.expected, index, text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_spans_stay_inside_any_text(text: str) -> None:
    result = Checker(ONLY).check(DraftToCheck(text, DEFAULT_AT))
    for f in found(result):
        assert 0 <= f.start < f.end <= len(text)
        assert f.suggestion
