"""Sentence-level meaning: what a sentence is about joined to what it says of it (meaning.yaml).

Each hit is a whole sentence the chief must see, quoted in full with why and what to write
instead; each look-alike is ordinary city business on the same topic (a human-rights notice,
the election commission, a road-safety campaign, a disaster drill) and must stay silent.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.conftest import CheckFn
from workflows import catalogue
from workflows.checks import CheckSettings, Finding, Severity
from workflows.checks.data import RuleDataError
from workflows.checks.lexicon import load_lexicon

MEANING = CheckSettings(enabled_rules=("flame", "prohibited"))


def judged(check: CheckFn, text: str, rule: str) -> list[Finding]:
    found = check(text, settings=MEANING).findings
    return [f for f in found if f.rule == rule or f.rule.startswith(rule + ".")]


# (draft, rule, the sentence quoted, words of the advice the message gives)
HITS = [
    # a group of people joined to a judgement of them
    (
        "外国籍の住民が増えた地区では、ごみの出し方が守られず困っています。",
        "flame.discrimination",
        "外国籍の住民が増えた地区では、ごみの出し方が守られず困っています。",
        "行為やルールそのもの",
    ),
    (
        "お知らせです。女性は機械に弱いので、説明会では簡単な資料を用意しました。",
        "flame.discrimination",
        "女性は機械に弱いので、説明会では簡単な資料を用意しました。",
        "行為やルールそのもの",
    ),
    (
        "障害のある方は手続きに時間がかかるので、窓口が混む月曜日はご遠慮ください。",
        "flame.discrimination",
        "障害のある方は手続きに時間がかかるので、窓口が混む月曜日はご遠慮ください。",
        "行為やルールそのもの",
    ),
    # taking sides in an election
    (
        "来月の市長選挙では、市政の継続のために現職への一票をお願いします。",
        "flame.politics",
        "来月の市長選挙では、市政の継続のために現職への一票をお願いします。",
        "選挙管理委員会",
    ),
    (
        "新人候補の主張は実現の見込みがなく、市民を混乱させるだけです。選挙では慎重な判断を。",
        "flame.politics",
        "新人候補の主張は実現の見込みがなく、市民を混乱させるだけです。",
        "中立",
    ),
    (
        "現職の市長が再選されれば、新しい体育館の建設が進みます。投票日は日曜日です。",
        "flame.politics",
        "現職の市長が再選されれば、新しい体育館の建設が進みます。",
        "中立",
    ),
    # a disaster: comparing, boasting, promoting, joking
    (
        "隣町の避難所は食事が出なかったそうですが、みどり市の避難所では温かい食事を用意しました。",
        "flame.disaster",
        "隣町の避難所は食事が出なかったそうですが、みどり市の避難所では温かい食事を用意しました。",
        "事実だけ",
    ),
    (
        "豪雨で隣県の温泉地が休業しています。今こそ、ぜひみどり市の温泉へ。",
        "flame.disaster",
        "今こそ、ぜひみどり市の温泉へ。",
        "事実だけ",
    ),
    (
        "台風で3人が亡くなりました。みどりんも毎日元気に避難所を回っているよ♪",
        "flame.disaster",
        "みどりんも毎日元気に避難所を回っているよ♪",
        "日を改めて",
    ),
    # condoning an illegal act
    (
        "駐車場が満車のときは、お店の前の道路に停めても、短い時間なら大丈夫です。",
        "prohibited.illegal",
        "駐車場が満車のときは、お店の前の道路に停めても、短い時間なら大丈夫です。",
        "正しい方法",
    ),
    (
        "川の鮎は遊漁券がなくても、実際にはほとんど注意されません。",
        "prohibited.illegal",
        "川の鮎は遊漁券がなくても、実際にはほとんど注意されません。",
        "正しい方法",
    ),
    (
        "市の資料のイラストは、許可なくネットに転載してもかまいません。",
        "prohibited.illegal",
        "市の資料のイラストは、許可なくネットに転載してもかまいません。",
        "正しい方法",
    ),
    (
        "空き家に残っている物は持ち主がいないので、ご自由にお持ち帰りください。",
        "prohibited.illegal",
        "空き家に残っている物は持ち主がいないので、ご自由にお持ち帰りください。",
        "正しい方法",
    ),
    (
        "隣の市は台風で大変なことになっていますが、こちらは快晴です！絶好の行楽日和です。",
        "flame.disaster",
        "隣の市は台風で大変なことになっていますが、こちらは快晴です！",
        "事実だけ",
    ),
    (
        "隣町の土砂崩れの現場、すごいことになっています！",
        "flame.disaster",
        "隣町の土砂崩れの現場、すごいことになっています！",
        "事実だけ",
    ),
    (
        "ルール上は禁止されていますが、地元の人はみんな使っています。",
        "prohibited.illegal",
        "ルール上は禁止されていますが、地元の人はみんな使っています。",
        "正しい方法",
    ),
    (
        "市議会の佐藤議員は、市の提案にいつも賛成してくださる心強い議員です。今回の選挙でのご健闘をお祈りしています。",
        "flame.politics",
        "市議会の佐藤議員は、市の提案にいつも賛成してくださる心強い議員です。",
        "中立",
    ),
    (
        "大雨で被害を受けた地域の皆さん、お見舞い申し上げます。みどり市は被害がなく、今週末の物産展は盛り上がります！",
        "flame.disaster",
        "みどり市は被害がなく、今週末の物産展は盛り上がります！",
        "事実だけ",
    ),
    (
        "住民投票では、新庁舎の建設に賛成への一票をお願いします。",
        "flame.politics",
        "住民投票では、新庁舎の建設に賛成への一票をお願いします。",
        "中立",
    ),
    (
        "公園では、小型犬ならリードを外して遊ばせても問題ありません。",
        "prohibited.illegal",
        "公園では、小型犬ならリードを外して遊ばせても問題ありません。",
        "正しい方法",
    ),
    (
        "河川敷でのゴルフの練習は禁止ですが、平日の朝は人が少ないので大丈夫です。",
        "prohibited.illegal",
        "河川敷でのゴルフの練習は禁止ですが、平日の朝は人が少ないので大丈夫です。",
        "正しい方法",
    ),
    (
        "花見の季節です。場所取りのシートを前の晩から置いておいても、誰にも注意されません。",
        "prohibited.illegal",
        "場所取りのシートを前の晩から置いておいても、誰にも注意されません。",
        "正しい方法",
    ),
    (
        "近隣の市が断水で困っている中、みどり市の水道水のおいしさを改めて実感しました。",
        "flame.disaster",
        "近隣の市が断水で困っている中、みどり市の水道水のおいしさを改めて実感しました。",
        "事実だけ",
    ),
    (
        "豪雨で亡くなった方もいますが、週末の音楽祭は楽しく開催します！",
        "flame.disaster",
        "豪雨で亡くなった方もいますが、週末の音楽祭は楽しく開催します！",
        "日を改めて",
    ),
    (
        "夜中なら警察も見ていないので、少しくらいの騒音は大丈夫です。",
        "prohibited.illegal",
        "夜中なら警察も見ていないので、少しくらいの騒音は大丈夫です。",
        "正しい方法",
    ),
    # contempt for residents
    (
        "何度も同じことをお伝えしていますが、いまだに守らない方がいます。",
        "prohibited.disrespect",
        "何度も同じことをお伝えしていますが、いまだに守らない方がいます。",
        "お願いの形",
    ),
    (
        "毎年のことですが、なぜ分別ができないのでしょうか。",
        "prohibited.disrespect",
        "毎年のことですが、なぜ分別ができないのでしょうか。",
        "お願いの形",
    ),
]


@pytest.mark.parametrize(("text", "rule", "sentence", "advice"), HITS)
def test_a_judgement_quotes_its_sentence_says_why_and_what_to_write(
    check: CheckFn, text: str, rule: str, sentence: str, advice: str
) -> None:
    found = [f for f in judged(check, text, rule) if text[f.start : f.end] == sentence]
    assert found, [text[f.start : f.end] for f in judged(check, text, rule)]
    f = found[0]
    assert f.severity is Severity.WARNING
    assert f"「{sentence}」" in f.message
    assert f.message.startswith(("炎上のおそれ", "発信禁止のおそれ"))
    assert advice in f.message


LOOK_ALIKES = [
    # groups named in ordinary city business
    "外国人住民の皆さん向けに、やさしい日本語のごみ出しガイドを作りました。",
    "人権週間にあわせて、外国人への偏見をなくすための講演会を開きます。",
    "高齢の方はスマホの操作が苦手な方も多いため、窓口でもご案内します。",
    "子どもが苦手な野菜を使った料理教室を開きます。",
    "道に迷っている高齢の方を見かけたら、声をかけて交番へご連絡ください。",
    # the election commission
    "市長選挙の期日前投票は、市役所1階で受け付けています。（選挙管理委員会）",
    "前回の市議会議員選挙の投票率は40%でした。あなたの一票を、ぜひ投票所へ。",
    "みどりFC後援会の総会を市民会館で開きます。",
    # a road-safety campaign, the city's own permissions
    "年末の交通安全運動にあわせ、警察と一緒に飲酒運転の根絶を呼びかけます。",
    "空き家への無断の立ち入りは法律で禁じられています。見回りにご協力ください。",
    "車でお越しの方は、臨時駐車場に停めていただいても構いません。",
    "パンフレットはご自由にお持ち帰りください。",
    "少量の落ち葉は、燃やすごみの日に出しても構いません。",
    "児童手当の増額分は申請不要です。",
    # disasters, drills and support
    "大雨で被害を受けた山川町へ、給水車と職員を派遣しました。",
    "県内各地で停電が起きていますが、みどり市では被害の報告はありません。",
    "台風が接近していますが、みどり市では引き続き警戒を続けています。",
    "例年と違い、今年の防災訓練は夜に行います。",
    "紅葉が見ごろです。ぜひみどり市へお越しください。",
    "自転車用ヘルメットの着用は努力義務で、罰則はありませんが、命を守るためにご協力をお願いします。",
    "起震車で震度7の揺れを体験できます。迫力満点です。",
    "被災現場の見物や撮影はおやめください。復旧作業の妨げになります。",
    "市長選挙の開票結果：現職の山田氏が当選しました。（選挙管理委員会）",
    "市議会議員選挙の立候補者による公開討論会を、市民会館で開きます。",
    "市長選挙の投票日は12月13日です。候補者の政策を選挙公報でよく比べてください。",
    "隣の市で停電が続いています。みどり市では現在、被害の報告はありません。引き続きご注意ください。",
    "県内で大雨の被害が出ています。みどり市は予定どおり、あすの市民まつりを開催します。",
    "高齢者の消費者トラブルが増えています。不審な電話にご注意ください。",
    "足の悪い高齢者のために、送迎バスを運行します。",
    "子どもたちの安全のため、通学路のパトロールを強化します。",
    "申請の手続きをしなくても、給付金は自動的に振り込まれます。",
    "ごみの出し方は自治会の方に確認していただいても構いません。",
    "未就学児は安全のため、ご入場いただけません。",
    "妊娠中の方は、体調を考慮し、激しい運動はお控えください。",
    "忘れ物をしても、誰にも注意されませんので、落ち着いてお越しください。",
    "週末の音楽祭は楽しく開催します！",
    # polite requests to residents
    "ホームページをご覧になってから、お問い合わせください。",
    "何度でも無料で相談できます。",
]


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_the_same_topics_in_ordinary_city_business_stay_silent(check: CheckFn, text: str) -> None:
    found = check(text, settings=MEANING).findings
    assert [(f.rule, text[f.start : f.end]) for f in found if f.severity is not Severity.INFO] == []


def test_neither_the_topic_nor_the_stance_alone_is_reported(check: CheckFn) -> None:
    topic = "外国人観光客の皆さんに、神社の周辺の案内板を多言語で用意しました。"
    stance = "週末は騒がしいので、静かに過ごせる図書館の自習室をご利用ください。"
    both = "外国人観光客は騒がしいので、神社の周辺では静かに過ごすよう看板を立てました。"
    assert judged(check, topic, "flame.discrimination") == []
    assert judged(check, stance, "flame.discrimination") == []
    assert [both[f.start : f.end] for f in judged(check, both, "flame.discrimination")] == [both]


# ── the lexicon format: about / says ─────────────────────────────────────────────────────────


def lexicon_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "test.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_about_and_says_name_the_topics_and_stances_of_meaning_yaml(tmp_path: Path) -> None:
    path = lexicon_file(
        tmp_path,
        """
        entries:
          - id: flame.politics
            severity: warning
            message: flame.politics.election
            report: sentence
            says: [partisanship]
            about: [election]
            hits: [市長選挙では現職への一票をお願いします。]
            clean: [現職への感謝状を贈りました。]
        """,
    )
    lexicon = load_lexicon(path, "flame", message_keys=catalogue.keys())
    [entry] = lexicon.entries
    assert entry.requires is not None
    assert "選挙" in entry.requires.source


def test_an_unknown_topic_names_the_entry_and_meaning_yaml(tmp_path: Path) -> None:
    path = lexicon_file(
        tmp_path,
        """
        entries:
          - id: flame.politics
            severity: warning
            message: flame.politics.election
            says: [partisanship]
            about: [weather]
            hits: [x]
            clean: [y]
        """,
    )
    with pytest.raises(RuleDataError, match=r"entry 1 .*'about' names no topics of meaning.yaml"):
        load_lexicon(path, "flame", message_keys=catalogue.keys())
