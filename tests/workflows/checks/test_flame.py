from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import DEFAULT_AT, CheckFn
from workflows import catalogue
from workflows.catalogue import Lang
from workflows.checks import Checker, CheckResult, DraftToCheck, Finding, Severity
from workflows.checks.data import RULES_DIR, RuleDataError
from workflows.checks.lexicon import load_lexicon
from workflows.checks.settings import CheckSettings

# Hits are checked with this family alone; the clean drafts go through the whole checker.
FLAME_ONLY = CheckSettings(enabled_rules=("flame",))


def flame_findings(check: CheckFn, text: str) -> list[Finding]:
    return of_family(check(text, settings=FLAME_ONLY), "flame")


def of_family(result: CheckResult, *families: str) -> list[Finding]:
    return [f for f in result.findings if f.rule.split(".", 1)[0] in families]


def quote(text: str, f: Finding) -> str:
    return text[f.start : f.end]


# (draft, rule, quoted words, theme named in the message)
HITS = [
    # 災害
    (
        "被災地を巡るバスツアー、映える写真がたくさん撮れて楽しかったです！",
        "flame.disaster",
        "被災地",
        "災害",
    ),
    ("昨夜の地震、ちょっとワクワクしちゃいましたw", "flame.disaster", "地震", "災害"),
    (
        "年度末の書庫はまるで被災地みたいな散らかりようです。",
        "flame.disaster",
        "被災地みたい",
        "災害",
    ),
    (
        "台風一過の大特価！台風に負けるなセールを商店街で開催中。",
        "flame.disaster",
        "台風一過の大特価",
        "災害",
    ),
    ("みどり市は災害が起きない安全なまちです。", "flame.disaster", "災害が起きない", "災害"),
    # 差別
    ("父兄の皆さまへ。運動会の観覧席のご案内です。", "flame.discrimination", "父兄", "差別"),
    (
        "車いすの方でも楽しめる散策コースを作りました。",
        "flame.discrimination",
        "車いすの方でも楽しめ",
        "差別",
    ),
    (
        "外国人の方による万引きが増えています。",
        "flame.discrimination",
        "外国人の方による万引き",
        "差別",
    ),
    # 思想
    (
        "憲法改正について、市民の皆さんも賛成の声を上げましょう。",
        "flame.ideology",
        "憲法改正",
        "思想",
    ),
    ("日本人なら国旗を掲げるのが当然です。", "flame.ideology", "日本人なら", "思想"),
    # 宗教
    ("お布施をすれば運気が上がります。", "flame.religion", "お布施", "宗教"),
    (
        "創価学会の青年部の皆さんが公園の清掃に協力してくださいました。",
        "flame.religion",
        "創価学会",
        "宗教",
    ),
    ("キリスト教こそ本物の教えです。", "flame.religion", "キリスト教こそ本物", "宗教"),
    # スパム
    ("【拡散希望】ボランティアを募集しています", "flame.spam", "拡散希望", "スパム"),
    ("今だけ！先着100名様に無料プレゼント", "flame.spam", "今だけ", "スパム"),
    ("相互フォロー募集中です", "flame.spam", "相互フォロー", "スパム"),
    ("秋祭り🎉🎊🎉🎊🎉開催", "flame.spam", "🎉🎊🎉🎊🎉", "スパム"),
    # スポーツ
    ("明日の決勝戦、相手チームなんて雑魚ばかり！", "flame.sports", "雑魚", "スポーツ"),
    ("昨日の試合は審判がおかしいとしか言えません。", "flame.sports", "審判がおかしい", "スポーツ"),
    # スキャンダル
    (
        "本市出身の俳優〇〇さんの熱愛報道で、ロケ地巡りが人気です。",
        "flame.scandal",
        "熱愛",
        "スキャンダル",
    ),
    (
        "書類送検された元選手のトークショーは中止しました。",
        "flame.scandal",
        "書類送検された",
        "スキャンダル",
    ),
    # 政治
    ("公明党の市議の皆さんと意見交換しました。", "flame.politics", "公明党", "政治"),
    ("今の政権は地方を軽視しています。", "flame.politics", "政権は", "政治"),
    ("〇〇候補に清き一票を！", "flame.politics", "候補に清き一票を", "政治"),
    # セクシャル
    ("女子力アップのメイク講座を開きます。", "flame.sexual", "女子力", "セクシャル"),
    (
        "男のくせに料理ができないなんて言わせない！男性料理教室",
        "flame.sexual",
        "男のくせに",
        "セクシャル",
    ),
    ("看護婦さんによる健康相談会", "flame.sexual", "看護婦", "セクシャル"),
    ("イケメンすぎる消防士が登場します！", "flame.sexual", "イケメンすぎる", "セクシャル"),
    ("同性婚に反対する意見もあります。", "flame.sexual", "同性婚に反対", "セクシャル"),
    # 操作ミス
    ("まじで眠い…", "flame.misfire", "まじで", "操作ミス"),
    ("会議おわったｗｗｗ", "flame.misfire", "ｗｗｗ", "操作ミス"),
    ("今日の晩ご飯なににしよう", "flame.misfire", "晩ご飯", "操作ミス"),
    ("@yamada_hanako 明日の件、了解です", "flame.misfire", "@yamada_hanako", "操作ミス"),
    ("テスト投稿です", "flame.misfire", "テスト投稿", "操作ミス"),
]

# The kinds of drafts a held-out review found missed: each theme as a reviewer reads it, not only
# the words the first lexicon happened to list.
GENERALISED_HITS = [
    # 災害: making light of it, joking about alerts, "thanks to" a disaster
    (
        "停電なんて大したことありません。ろうそくの夜を楽しみましょう。",
        "flame.disaster",
        "停電なんて大したこと",
        "災害",
    ),
    (
        "【緊急】市内で大地震が発生！…というのはウソです。エイプリルフールでした。",
        "flame.disaster",
        "地震が発生！…というのはウソ",
        "災害",
    ),
    ("地震のおかげで、防災グッズがよく売れています。", "flame.disaster", "地震のおかげ", "災害"),
    # 差別: ageism, looking down on rural residents, backhanded praise
    ("年寄りには難しい手続きですが、頑張ってください。", "flame.discrimination", "年寄り", "差別"),
    (
        "田舎の人でも分かるように、やさしく説明します。",
        "flame.discrimination",
        "田舎の人でも",
        "差別",
    ),
    ("外国人なのに日本語がとても上手です。", "flame.discrimination", "外国人なのに", "差別"),
    # 思想: slogans, health conspiracies
    ("憲法9条を守れ！", "flame.ideology", "憲法9条を守れ", "思想"),
    ("ワクチンは毒なので打たないほうがいいです。", "flame.ideology", "ワクチンは毒", "思想"),
    # 宗教: blessings and warding off misfortune presented as fact
    (
        "今年も氏神様のご加護で、市民の皆さまが健康に過ごせますように。",
        "flame.religion",
        "ご加護",
        "宗教",
    ),
    (
        "〇〇神社でお祓いを受ければ厄除け効果はばっちりです。",
        "flame.religion",
        "お祓いを受ければ",
        "宗教",
    ),
    # スパム: begging for likes and reposts
    ("この投稿にいいねお願いします！", "flame.spam", "いいねお願い", "スパム"),
    ("フォロー＆いいねで応援してください！", "flame.spam", "フォロー＆いいね", "スパム"),
    # スポーツ: calling the other side unfair, blaming the referee
    (
        "昨日の試合、相手チームは卑怯なプレーばかりでした。",
        "flame.sports",
        "相手チームは卑怯",
        "スポーツ",
    ),
    ("負けたのは審判のせいです。", "flame.sports", "審判のせい", "スポーツ"),
    # スキャンダル: politicians' money
    ("〇〇議員の裏金問題、どうなるんでしょうね。", "flame.scandal", "裏金", "スキャンダル"),
    (
        "政務活動費の私的流用で話題の市議が来賓として出席します。",
        "flame.scandal",
        "政務活動費の私的",
        "スキャンダル",
    ),
    # 政治: judging the government, lecturing voters
    ("今の政府には、地方の声が届いていません。", "flame.politics", "今の政府には", "政治"),
    (
        "選挙に行かない人は、市政に文句を言う資格はありません。",
        "flame.politics",
        "選挙に行かない人は、市政に文句",
        "政治",
    ),
    # セクシャル: looks, addressing women as housewives
    (
        "今日の講師の先生は、とてもイケメンでした！",
        "flame.sexual",
        "先生は、とてもイケメン",
        "セクシャル",
    ),
    ("主婦の皆さんも気軽にご参加ください。", "flame.sexual", "主婦の皆", "セクシャル"),
    ("奥様方に大人気の料理教室です。", "flame.sexual", "奥様方", "セクシャル"),
    # 操作ミス: a private chat, moods, a post for the wrong account
    ("お昼なに食べよう？", "flame.misfire", "昼なに食べ", "操作ミス"),
    ("眠い…早く帰りたい", "flame.misfire", "眠い", "操作ミス"),
    ("すみません、誤爆しました", "flame.misfire", "誤爆", "操作ミス"),
    # 操作ミス: a message to one person or a firm, a staff chat or grumble pasted into a notice
    ("坂井様\n先日ご相談の件、明日の午前に伺います。", "flame.misfire", "坂井様", "操作ミス"),
    (
        "年末の窓口は28日までです。\nっていうかこの告知、係長のチェックが遅すぎ。",
        "flame.misfire",
        "っていうか",
        "操作ミス",
    ),
    (
        "係長、この案内文で問題なければ確認お願いします。",
        "flame.misfire",
        "係長、この案内文で問題なければ確認お願い",
        "操作ミス",
    ),
    # スパム: clickbait
    ("【驚愕】住民税の申告、8割の人が知らない手続きとは？", "flame.spam", "【驚愕】", "スパム"),
]


@pytest.mark.parametrize(("text", "rule", "words", "theme"), HITS + GENERALISED_HITS)
def test_flame_theme_is_a_warning_on_the_offending_words(
    check: CheckFn, text: str, rule: str, words: str, theme: str
) -> None:
    found = [f for f in flame_findings(check, text) if f.rule == rule]
    # A sentence-level judgement of the same rule may come first; the words are their own finding.
    found = [f for f in found if quote(text, f) == words] or found
    assert [quote(text, f) for f in found][:1] == [words]
    f = found[0]
    assert f.severity is Severity.WARNING
    assert f"{theme}（炎上さしすせそ）" in f.message or f"{theme}・" in f.message
    assert f"「{words}」" in f.message


@pytest.mark.parametrize("hits", [HITS, GENERALISED_HITS], ids=["first", "generalised"])
def test_every_flame_theme_is_covered_by_the_hits(hits: list[tuple[str, str, str, str]]) -> None:
    themes = {rule for _, rule, _, _ in hits}
    assert themes == {
        "flame.disaster",
        "flame.discrimination",
        "flame.ideology",
        "flame.religion",
        "flame.spam",
        "flame.sports",
        "flame.scandal",
        "flame.politics",
        "flame.sexual",
        "flame.misfire",
    }


def test_outdated_term_has_its_replacement(check: CheckFn) -> None:
    text = "痴呆症の方の介護について、父兄向けの講座を開きます。"
    found = flame_findings(check, text)
    assert [(quote(text, f), f.suggestion) for f in found] == [
        ("痴呆症", "認知症"),
        ("父兄", "保護者"),
    ]
    assert "「認知症」に言い換えてください" in found[0].message


def test_gendered_job_title_has_its_replacement(check: CheckFn) -> None:
    text = "保健婦が家庭訪問します。"
    [f] = flame_findings(check, text)
    assert (f.rule, quote(text, f), f.suggestion) == ("flame.sexual", "保健婦", "保健師")
    assert "「保健師」としてください" in f.message


def test_repeated_marks_point_into_the_full_width_original(check: CheckFn) -> None:
    text = "市民まつり開催！！！！！"
    [f] = flame_findings(check, text)
    assert (f.rule, quote(text, f), f.suggestion) == ("flame.spam", "！！！！！", "！")


def test_half_width_katakana_is_matched_and_quoted_as_written(check: CheckFn) -> None:
    text = "ﾃｽﾄ投稿です"
    [f] = flame_findings(check, text)
    assert (f.rule, quote(text, f)) == ("flame.misfire", "ﾃｽﾄ投稿")
    assert "「ﾃｽﾄ投稿」" in f.message


def test_reply_only_at_the_start_of_a_line(check: CheckFn) -> None:
    assert flame_findings(check, "詳しくは@midori_museumをご覧ください。") == []
    text = "お知らせです。\n@suzuki_k 例の件よろしく"
    [f] = flame_findings(check, text)
    assert (f.rule, quote(text, f)) == ("flame.misfire", "@suzuki_k")


def test_message_in_english(check: CheckFn) -> None:
    draft = DraftToCheck(text="【拡散希望】講座のお知らせ", at=DEFAULT_AT)
    [f] = of_family(Checker(FLAME_ONLY, lang=Lang.EN).check(draft), "flame")
    assert f.message.startswith("Spam (flame-prone theme)")
    assert '"拡散希望"' in f.message


def test_severity_can_be_tuned_per_theme(check: CheckFn) -> None:
    tuned = CheckSettings(enabled_rules=("flame",), severities={"flame.spam": Severity.INFO})
    result = check("【拡散希望】講座のお知らせ", settings=tuned)
    assert [f.severity for f in of_family(result, "flame")] == [Severity.INFO]
    disabled = check(
        "【拡散希望】講座のお知らせ", settings=CheckSettings(disabled_rules=("flame.spam",))
    )
    assert of_family(disabled, "flame") == []


# Drafts on the same themes that are normal city business: none may produce a flame finding.
CLEAN_ON_THEME = [
    "11月29日(日)は総合防災訓練です。起震車で地震の揺れを体験し、楽しく防災を学べます。",
    "被災地支援のチャリティーコンサートを開きます。収益は全額、義援金として寄付します。",
    "12月4日～10日の人権週間にあわせ、部落差別の解消をテーマにした講演会を開催します。",
    "市長選挙の投票日は11月29日(日)です。期日前投票は市役所1階で受け付けています。",
    "参議院議員選挙の候補者の選挙公報を配布します。政見放送もご覧ください。",
    "市議会12月定例会の代表質問（自民党市議団）をインターネットで中継します。",
    "市民体育祭の地区対抗リレーで、北地区が優勝しました！おめでとうございます。",
    "地元クラブ「みどりグリーンズ」を応援しよう！ホームゲームは市民招待デーです。",
    "博物館の企画展「仏教美術と祈りのかたち」では、市指定文化財の仏像を公開します。",
    "初詣の期間中、八幡宮周辺では交通規制を行います。公共交通機関をご利用ください。",
    "LGBTQの方やご家族のための相談窓口を、毎月第2土曜日に開いています。",
    "男女共同参画セミナー「家事・育児をみんなで」を開催します。どなたでも参加できます。",
    "成人式を1月11日(月・祝)に市民会館で行います。振袖・スーツでご参加ください。",
    "ハンセン病問題の歴史を学ぶパネル展を市役所ロビーで開きます。",
    "図書館の新聞・週刊誌コーナーは2階に移りました。",
    "スケッチ大会の入賞作品を公民館に展示しています。",
    "草刈り作業のため、河川敷の一部を通行止めにします。",
    "Jアラートの全国一斉情報伝達試験を行います。「これはテストです」と放送されます。",
    "ご意見はwww.city.midori.lg.jpのフォームからお寄せください。",
    "子どもの体力テストの結果がまとまりました。",
    # near misses of the generalised entries
    "高齢者の方も安心してご参加いただけます。お年寄りにも分かりやすい大きな文字の案内です。",
    "老人クラブ連合会の輪投げ大会と、特別養護老人ホームの入所相談のお知らせです。",
    "田舎暮らし体験ツアーで、道の駅の田舎そばも味わえます。",
    "障害のある子もない子も一緒に遊べる公園が完成しました。",
    "博物館で、人々が神仏のご加護を願って奉納した絵馬を展示しています。",
    "厄除け大師の縁日に伴い、臨時駐車場を開設します。",
    "このなで牛に触れると願いが叶うと言われ、多くの参拝者が訪れます。",
    "台風並みの強風が予想されます。不要不急の外出は控えてください。",
    "台風一過の青空のもと、楽しい運動会が開かれました。",
    "「地震くらい大丈夫」と思っていませんか。家具の固定で被害を減らせます。",
    "フェアプレーの精神を学ぶ少年サッカー教室です。反則をしないためのルール講習もあります。",
    "相手チームは昨年の優勝校です。強豪相手に最後まで粘り強く戦いました。",
    "政治資金収支報告書の閲覧は、選挙管理委員会事務局で行えます。",
    "道路拡幅のための用地買収について、地権者説明会を開きます。",
    "処理水の海洋放出について、国の説明会が市民会館で開かれます。",
    "市長が国土交通大臣に道路整備の要望書を提出しました。",
    "ママさんバレーボール大会の結果をお知らせします。",
    "美人の湯として親しまれている市営温泉が、リニューアルオープンしました。",
    "専業主婦の方も、国民年金の第3号被保険者として届出が必要です。",
    "「男は仕事、女は家庭」という固定観念にとらわれない働き方を考えるセミナーです。",
    "だるい、眠いといった症状が続くときは、熱中症のおそれがあります。早めに医師に相談を。",
    "今日のお昼は何を食べよう？市役所食堂の日替わり定食はいかがですか。",
    "疲れた体を温泉で癒やしませんか。日帰り入浴は大人500円です。",
    "秋のフォトコンテスト、いいねの数ではなく審査員が選びます。",
    "公式アカウントのフォロワーが1万人を超えました。いつもありがとうございます。",
    "断水情報を、ご近所の方にもシェアしてください。給水所は中央公園です。",
]


@pytest.mark.parametrize("text", CLEAN_ON_THEME)
def test_city_business_on_a_flame_theme_is_not_flagged(check: CheckFn, text: str) -> None:
    assert flame_findings(check, text) == []


# Realistic drafts from every kind of section. None may get a flame.* or prohibited.* finding.
CLEAN_DRAFTS = [
    # events
    "【みどり市民まつり】11月23日(月・祝)10時～15時、中央公園で開催します！ステージ発表、地元野菜の販売、"
    "子ども向けの工作コーナーなど盛りだくさん。雨天時は総合体育館で行います。"
    "詳しくは https://www.city.midori.lg.jp/event/ をご覧ください。",
    "今年も「みどりイルミネーション」が点灯しました🎄 駅前けやき通りが約5万球の光に包まれています。"
    "点灯は17時～22時、1月11日(月・祝)まで。ぜひお出かけください！ #みどり市 #イルミネーション",
    "12月5日(土)、市民文化会館で市民吹奏楽団の定期演奏会を開きます。入場無料、申込不要です。"
    "すばらしい演奏をお楽しみください。",
    # tax
    "【市税の納期限】固定資産税・都市計画税（第3期）の納期限は12月28日(月)です。"
    "口座振替をご利用の方は、前日までに残高をご確認ください。スマートフォン決済でも納付できます。"
    "問い合わせ：収税課 0277-12-3400",
    "確定申告の受付が2月16日(月)から始まります。市役所会場は大変混み合いますので、e-Taxでの申告も"
    "ご検討ください。ID・パスワード方式の届出は税務署で行えます。",
    # garbage
    "年末年始のごみ収集のお知らせ。12月31日(木)～1月3日(日)は収集をお休みします。生ごみは水気を切って"
    "出してください。野菜くずは堆肥にする方法もあります。粗大ごみの申込は12月18日(金)までです。",
    "不法投棄は犯罪です。山林や空き地にごみを捨てないでください。見つけた場合は環境推進課"
    "（0277-12-3411）へご連絡ください。監視カメラによるパトロールも行っています。",
    # health
    "【インフルエンザ予防接種】65歳以上の方の定期接種は1月31日(日)までです。自己負担は1,500円。"
    "生活保護を受けている方は自己負担が免除されます。接種券をお持ちのうえ、協力医療機関で受けてください。",
    "乳がん・子宮がん検診の受診者を募集します。女性の医師・スタッフが対応する日もあります。"
    "申込は健康づくり課へ。",
    "寒い季節は、ヒートショックに注意しましょう。入浴前に脱衣所を暖め、お湯の温度は41度以下に。"
    "飲酒後の入浴は控えてください。",
    # disaster drills and disaster support
    "11月29日(日)9時から、みどり市総合防災訓練を行います。起震車で震度7の地震の揺れを体験できるほか、"
    "煙体験ハウス、非常食の試食もあります。ご家族でぜひご参加ください。",
    "地震に備えて、家具の固定と3日分の水・食料の備蓄をお願いします。ハザードマップで避難所の場所も"
    "確認しておきましょう。",
    "本日12時、防災行政無線で「これはテストです」という試験放送を行います。実際の災害ではありません。",
    "【被災地支援】能登半島地震の被災地へ、市職員2名を派遣しました。市役所1階に義援金の募金箱を"
    "設置しています。ご協力をお願いします。",
    # election administration
    "【市議会議員選挙】投票日は1月24日(日)、投票時間は7時～20時です。期日前投票は1月18日(月)から"
    "市役所1階で行えます。入場券が届いていなくても投票できます。選挙管理委員会",
    "18歳になったら選挙に行こう！あなたの一票がまちの未来をつくります。投票所の場所は入場券で"
    "ご確認ください。",
    "明日12月15日(火)10時から、12月定例会の一般質問をインターネット中継します。傍聴もできます。"
    "市議会事務局",
    # human rights week
    "12月4日から10日は人権週間です。部落差別、外国人、障害のある人、性的少数者などへの偏見や差別を"
    "なくすため、市役所ロビーでパネル展を開催します。",
    "人権講演会「誰もが自分らしく生きられるまちへ」を開催します。講師は弁護士の〇〇氏。"
    "手話通訳・要約筆記があります。",
    "インターネット上の誹謗中傷や差別的な書き込みで悩んでいる方は、人権相談をご利用ください。"
    "秘密は守られます。",
    # LGBTQ consultation desk, gender equality
    "【LGBTQ相談窓口】性のあり方について悩んでいる方、ご家族の方からの相談を受け付けています。"
    "毎月第2土曜日13時～16時、電話・面談で。匿名でも大丈夫です。",
    "みどり市パートナーシップ宣誓制度の宣誓受付を始めました。同性カップルの方も利用できます。"
    "詳しくは人権推進課まで。",
    "男女共同参画週間にあわせ、「家事・育児をみんなで」をテーマにしたパネル展を開催します。"
    "男性の育児休業についての相談会もあります。",
    # sports festival, sports classes
    "10月12日(月・祝)は市民体育祭！地区対抗リレーや綱引きで盛り上がりましょう。熱中症予防のため、"
    "水分をこまめにとってください。",
    "市民マラソン大会の参加者を募集します。5km・10km・ハーフの3部門。小学生のファンランもあります。",
    "〇〇中学校女子バレーボール部が県大会で優勝しました！おめでとうございます。全国大会での活躍も"
    "期待しています。",
    # museum, temples as cultural heritage
    "博物館の企画展「みどりの寺社と祈りのかたち」を開催中です。市指定文化財の仏像や、江戸時代の"
    "参詣図を展示しています。",
    "紅葉が見頃を迎えた妙光寺の庭園を特別公開しています。本堂は国の重要文化財です。駐車場に限りが"
    "あるため、公共交通機関でお越しください。",
    "郷土資料館で土人形の絵付け体験を行います。昔ながらの郷土人形について学芸員が解説します。",
    # library
    "中央図書館では、12月の特集展示「冬の絵本」を行っています。おはなし会は毎週土曜日11時から。"
    "年末年始は12月28日(月)から1月4日(月)まで休館します。",
    "図書館のWi-Fiは受付で配布するカードのパスワードでご利用いただけます。パスワードは定期的に変わります。",
    # childcare
    "保育園の入所申込（4月入所）の受付は12月10日(木)までです。ひとり親家庭の方は加点があります。"
    "申請書は市ホームページからダウンロードできます。",
    "子育て支援センターで「パパと遊ぼう」を開きます。お父さんもお母さんも、どなたでも参加できます。",
    # other services and notices
    "マイナンバーカードの休日交付窓口を12月13日(日)に開設します。予約制です。本人確認書類を"
    "お持ちください。",
    "特殊詐欺にご注意ください！市職員が電話で口座番号や暗証番号を聞くことは絶対にありません。"
    "不審な電話はすぐに警察署へ。",
    "闇バイトに注意！「高額報酬」「即日払い」などの募集は犯罪に加担させられるおそれがあります。"
    "困ったときは警察や消費生活センターへ相談を。",
    "冬の電気代も馬鹿になりません。省エネ家電の買い替え補助金の申請を受け付けています。",
    "噂の新名物「みどり焼き」が道の駅に登場！春らしい桜あんが人気です。めずらしい地元の食材も"
    "販売しています。",
    "公民館で「はじめてのスマホ教室」を開きます。高齢者の方も安心してご参加ください。"
    "LINEの使い方も学べます。",
    "SNSで「市内で断水する」という情報が広がっていますが、事実ではありません。市の公式発表を"
    "ご確認ください。",
    "会議は非公開です。会議録は後日、市ホームページで公開します。",
    # more sections, written after the held-out review, with the new entries' words nearby
    "【スマホ教室】シニアの方向けに、LINEの使い方を一から学べる教室です。お年寄りの方も安心して"
    "ご参加ください。講師が一人ひとりに丁寧にお教えします。",
    "梅の名所・天満宮の梅が見ごろです。学問の神様として知られ、受験シーズンには多くの参拝者が"
    "訪れます。周辺道路の混雑にご注意ください。",
    "みどり神社の秋祭りにあわせ、駅前通りを歩行者天国にします。神輿や山車が練り歩きます。",
    "熱中症警戒アラートが発表されています。エアコンを適切に使い、こまめに水分をとりましょう。"
    "「だるい」「頭が痛い」などの症状があるときは、すぐに涼しい場所で休んでください。",
    "【避難情報】大雨のため、〇〇地区に高齢者等避難を発令しました。避難所は中央公民館です。"
    "お年寄りや体の不自由な方は、早めの避難をお願いします。",
    "県大会で優勝した〇〇高校サッカー部の皆さん、おめでとうございます！決勝の相手チームも最後まで"
    "粘り強く、すばらしい試合でした。",
    "スポーツ少年団の指導者講習会では、暴言や体罰のない指導について学びました。",
    "「選挙に行こう」キャンペーンとして、市内の高校で模擬投票を行いました。期日前投票所の場所も"
    "紹介しています。",
    "市の公式Instagramのフォロワーが5,000人を超えました！これからも市の魅力を発信していきます。",
    "子育て中のパパ・ママの交流会を開きます。お子さん連れで気軽にご参加ください。",
    "夏休みの宿題、何にするか迷ったら図書館へ！自由研究のヒントになる本を集めました。",
    "みどり市環境基本計画（案）への意見を募集します。期間は12月1日から12月31日までです。",
    "この寺は江戸時代に建てられたそうです。本堂の彫刻は市の文化財に指定されています。",
    "日程が決まり次第、市ホームページでお知らせします。講師は現在調整中です。",
]


def test_enough_varied_clean_drafts() -> None:
    assert len(CLEAN_DRAFTS) >= 30


@pytest.mark.parametrize("text", CLEAN_DRAFTS)
def test_ordinary_municipal_draft_gets_no_flame_or_prohibited_finding(
    check: CheckFn, text: str
) -> None:
    assert of_family(check(text), "flame", "prohibited") == []


def test_broken_spec_in_the_shipped_data_fails_loading(tmp_path: Path) -> None:
    data = (RULES_DIR / "flame.yaml").read_text(encoding="utf-8")
    broken = data.replace("      - 女子力\n", "      - 女子カ\n", 1)  # katakana カ, a typo
    assert broken != data
    path = tmp_path / "flame.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(
        RuleDataError, match=r"flame\.yaml: entry \d+ \(gender-stereotype\): hit spec"
    ):
        load_lexicon(path, "flame", message_keys=catalogue.keys())
