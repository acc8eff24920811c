"""workflows.xtext against X's conformance data and, differentially, twitter-text-parser."""

from __future__ import annotations

import ast
import importlib
import re
import sys
import unicodedata
import warnings
from encodings import idna
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from workflows import xtext


@cache
def reference() -> ModuleType:
    """twitter-text-parser (a dev dependency): it imports the deprecated pkg_resources."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        importlib.import_module("twitter_text.regexp.emoji")  # with the emoji list used below
    return importlib.import_module("twitter_text")


def ref_length(text: str) -> int:
    length: int = reference().parse_tweet(text).weightedLength
    return length


def ref_urls(text: str) -> list[tuple[int, int]]:
    return [(u["indices"][0], u["indices"][1]) for u in reference().extract_urls_with_indices(text)]


def ref_emoji() -> list[Any]:
    emoji: list[Any] = sys.modules["twitter_text.regexp.emoji"].emoji_list
    return emoji


# --- X's own conformance data (twitter-text conformance/validate.yml, config v3) ----------------
CJK_160 = (
    "故人西辞黄鹤楼，烟花三月下扬州。孤帆远影碧空尽，唯见长江天际流。朱雀桥边野草花，乌衣巷口夕阳斜。"
    "旧时王谢堂前燕，飞入寻常百姓家。朝辞白帝彩云间，千里江陵一日还。两岸猿声啼不住，轻舟已过万重山。"
    "泪湿罗巾梦不成，夜深前殿按歌声。红颜未老恩先断，斜倚薰笼坐到明。独在异乡为异客，每逢佳节倍思亲。"
    "遥知兄弟登高处，遍插茱萸少一人。"
)
X10 = "xxxxxxxxxx-"
ENGLAND_TAGS = (0xE0067, 0xE0062, 0xE0065, 0xE006E, 0xE0067, 0xE007F)
AIUEO = "あいうえおかきくけこ"
CONFORMANCE = [
    ("This is a test.", 15),
    ("http://test.com", 23),
    ("https://test.com", 23),
    ("test.com", 23),
    ("Test https://test.com test https://test.com test.com test", 86),
    (CJK_160, 320),
    ("the" + CJK_160, 323),
    ("😷" * 160, 320),
    ("\U0001f637\U0001f47e\U0001f621\U0001f525\U0001f4a9", 10),
    ("\U0001f64b\U0001f3fd\U0001f468\u200d\U0001f3a4", 4),
    ("A\u0301B", 2),
    ("Unicode 10.0 emoji: 🤪; 🧕; 🧕🏾; 🏴" + "".join(map(chr, ENGLAND_TAGS)), 34),
    ("Unicode 9.0 emoji: 🤠; 💃; 💃🏾", 29),
    ("randomurlrandomurlrandomurlrandomurlrandomurlrandomurlrandomurls.com", 68),
    (AIUEO * 12 + " http://" + AIUEO * 5 + "あいう.com", 358),
    (AIUEO * 12 + " http://" + AIUEO * 5 + "あい.com", 264),
    ("\u2066\u202ahttp://foobar.پاکستان/\u202c\u2069", 31),
    ("ABC\u202a\uffffABC\ufffe", 12),
    ("https://www.twitter.com/aloha " * 10, 240),
]


@pytest.mark.parametrize(("text", "expected"), CONFORMANCE)
def test_conformance_weighted_lengths(text: str, expected: int) -> None:
    assert xtext.weighted_length(text) == expected
    assert ref_length(text) == expected


@pytest.mark.parametrize(
    ("text", "fits"),
    [
        ("285 chars-" + X10 * 25, 280),
        ("285 chars- http://www.twitter.com/jack " + X10 * 24, 284),
        (X10 * 24 + " http://www.twitter.com/jack ", 265),
        (CJK_160, 140),
        ("the" + CJK_160, 141),
        ("😷" * 160, 140),
        # "Á" written as A + combining accent: NFC makes it one character, the index stays ours.
        ("282 chars-" + X10 * 24 + "xxxxxA\u0301x", 281),
        ("short", 5),
    ],
)
def test_fitting_end_is_where_the_valid_range_ends(text: str, fits: int) -> None:
    assert xtext.fitting_end(text) == fits


# --- Hand-written cases, the reference agreeing --------------------------------------------------
TRICKY = [
    "詳しくはcity.midori.lg.jpをご覧ください。",
    "詳しくは市ホームページ（city.midori.lg.jp）をご覧ください。",
    "詳しくは https://www.city.midori.lg.jp/soshiki/をご覧ください",
    "【お知らせ】11月23日(月・祝)に市民文化祭を開催します。会場は市民会館です。詳しくはcity.midori.lg.jp/bunka/",
    "令和8年度の市民文化祭を開催しますので皆さまぜひお越しください詳しくはcity.midori.lg.jp",
    "問い合わせ：info@city.midori.lg.jp",
    "www.city.pdf 資料.zip ver.1.2 1.5倍 R8.11.23 e.g. Co.,Ltd. 配布資料.pdf",
    "example.comてすとですtwitter.みんなです",
    "http://t.co/pbY2NfTZ's http://t.co/FNkPfmii- t.co/abcde",
    "https://t.co/abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL",
    "HTTPS://WWW.CITY.MIDORI.LG.JP/INDEX.HTML",
    "https://www.city.midori.lg.jp/(a)b https://www.city.midori.lg.jp/a_(b)",
    "https://www.city.midori.lg.jp:8080/path?x=1&y=2#top",
    "https://www.city.midori.lg.jp/search?q=ごみ",
    "john.doe.jp@mail.com $example.com #example.com @example.com",
    "1️⃣2️⃣ 🇯🇵🇺🇸 👍🏽 👨‍👩‍👧‍👦 🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f 🏳️‍🌈 ☎ ♨️",
    "行1\r\n行2\r行3\n",
    "か\u3099き\u3099",  # NFD kana, as macOS file names give them
    "ﾐﾄﾞﾘｼ ｃｉｔｙ．ｍｉｄｏｒｉ．ｌｇ．ｊｐ",
    "",
]


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_texts_agree_with_the_reference(text: str) -> None:
    assert xtext.weighted_length(text) == ref_length(text)
    assert xtext.url_spans(text) == ref_urls(text)


def test_a_bare_domain_glued_to_a_long_japanese_sentence_is_no_link() -> None:
    # The domain match takes in the Japanese before it; its IDNA label grows past 63 characters,
    # so X does not link it and counts every character (the reference agrees).
    short = "詳しくはcity.midori.lg.jp"
    long_ = "令和8年度の市民文化祭を開催しますので皆さまぜひお越しください詳しくはcity.midori.lg.jp"
    assert xtext.url_spans(short) == [(4, 21)]
    assert xtext.url_spans(long_) == []
    assert xtext.weighted_length(long_) == 2 * 34 + 1 + len("city.midori.lg.jp")


@pytest.mark.parametrize(
    ("text", "ours", "theirs"),
    [
        # twemoji-parser (X's emoji counter): (c) and (R) are emoji only with U+FE0F.
        ("©", 1, 2),
        ("® みどり市", 10, 11),
        # An emoji already shown as emoji, plus U+FE0F, is still one emoji.
        ("😀\ufe0f", 2, 4),
        # Sequences newer than Emoji 12.0 (the reference's list) are one emoji on X.
        ("❤\ufe0f\u200d\U0001f525", 2, 5),  # heart on fire, 13.1
        ("\U0001f426\u200d\U0001f525", 2, 5),  # phoenix, 15.1
        ("\U0001faf1\U0001f3fb\u200d\U0001faf2\U0001f3fc", 2, 9),  # handshake, 14.0
        ("\U0001f3f3\ufe0f\u200d\u26a7\ufe0f", 2, 7),  # transgender flag, 13.0
        ("\U0001f91d\U0001f3fd", 2, 4),  # handshake with a skin tone, 14.0
        ("\U0001f9d1\U0001f3fb\u200d\U0001f91d\u200d\U0001f9d1\U0001f3fc", 2, 8),  # 12.1
    ],
)
def test_where_the_reference_departs_from_x(text: str, ours: int, theirs: int) -> None:
    assert xtext.weighted_length(text) == ours
    assert ref_length(text) == theirs


def test_every_emoji_of_the_reference_list_counts_as_one() -> None:
    for emoji in ref_emoji():
        text = emoji.emoji
        if text in {"\u00a9", "\u00ae"}:
            continue  # bare (c)/(R): see test_where_the_reference_departs_from_x
        padded = f"み{text}a{text}{text}"
        assert xtext.weighted_length(padded) == ref_length(padded), (emoji.codepoint, emoji.name)


def test_every_tld_is_recognised_in_any_case() -> None:
    words = [*xtext._GTLDS.split(), *xtext._CCTLDS.split()]
    assert len(words) == 1574
    for tld in words:
        for text in (f"x example.{tld} x", f"みどり.{tld.upper()}/a", f"a.{tld}x b.{tld}-c"):
            assert xtext.url_spans(text) == ref_urls(text), text


# --- Differential, generated -------------------------------------------------------------------
JAPANESE = [
    "みどり市", "市民文化祭を開催します", "詳しくは", "をご覧ください。", "、", "。", "（", "）",
    "【お知らせ】", "11月23日(月・祝)", "ﾐﾄﾞﾘ", "ｃｉｔｙ", "図書館", "ー", "・", "～",
    "〒376-0000", "０２７７",
]  # fmt: skip
URLS = [
    "https://www.city.midori.lg.jp/", "http://www.city.midori.lg.jp/soshiki/bunka/matsuri.html",
    "city.midori.lg.jp", "city.midori.lg.jp/event/", "www.pref.gunma.jp", "t.co/abc",
    "https://t.co/xyz", "example.みんな", "xn--ls8h.la", "https://", "http://", "www.", ".jp",
    ".com", "?q=1&a=b", "#top", ":8080", "/", "(a)", "@", "$", "info@city.midori.lg.jp",
]  # fmt: skip
EMOJI = [
    "🎉", "😀", "☀️", "☀", "♨️", "☎", "✨", "👍🏽", "🙋🏽", "👨\u200d👩\u200d👧\u200d👦",
    "🧑🏻\u200d🤝\u200d🧑🏻", "🏳️\u200d🌈", "🇯🇵", "🇺🇸", "1️⃣", "#️⃣",
    "🏴" + "".join(map(chr, ENGLAND_TAGS)), "👁️\u200d🗨️", "🕵️\u200d♀️", "👩🏿\u200d🦰",
    "🦸\u200d♂️", "©️", "®️", "™️", "↔️", "〽️", "㊗️",
]  # fmt: skip
SPACE = [" ", "\n", "\r\n", "\u3000", "\t", "\u00a0"]
fragments = st.one_of(
    st.sampled_from(JAPANESE),
    st.sampled_from(URLS),
    st.sampled_from(EMOJI),
    st.sampled_from(SPACE),
    st.text(alphabet="abcdefxnmo0123456789.-_/:?=&#@!'()", max_size=6),
)
drafts = st.lists(fragments, max_size=40).map("".join)


@settings(max_examples=400, deadline=None)
@given(drafts)
def test_generated_drafts_agree_with_the_reference(text: str) -> None:
    assert xtext.weighted_length(text) == ref_length(text)
    assert xtext.url_spans(text) == ref_urls(text)


# Code points that make up emoji sequences; the reference and X differ on odd combinations of them
# (see test_where_the_reference_departs_from_x), so the arbitrary-text comparison leaves them out.
SEQUENCE_PARTS = "\ufe0f\u200d\u20e3\u00a9\u00ae" + "".join(
    map(chr, [*range(0x1F3FB, 0x1F400), *range(0xE0020, 0xE0080)])
)
any_text = st.lists(
    st.one_of(
        st.characters(codec="utf-8", exclude_characters=SEQUENCE_PARTS),
        st.sampled_from(URLS),
    ),
    max_size=40,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(any_text)
def test_arbitrary_text_agrees_with_the_reference(text: str) -> None:
    assert xtext.weighted_length(text) == ref_length(text)
    assert xtext.url_spans(text) == ref_urls(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_text_gives_sane_results(text: str) -> None:
    assert xtext.weighted_length(text) >= 0
    assert 0 <= xtext.fitting_end(text) <= len(text)
    previous = 0
    for start, end in xtext.url_spans(text):
        assert previous <= start < end <= len(text)
        previous = end
    for tag, start, end in xtext.hashtags(text):
        assert text[start] in "#＃"
        assert text[start + 1 : end] == tag


plain = st.lists(st.sampled_from([*JAPANESE, "abc ", "x", "😀", "\n"]), max_size=200).map("".join)


@settings(max_examples=200, deadline=None)
@given(plain)
def test_fitting_end_cuts_at_the_limit(text: str) -> None:
    end = xtext.fitting_end(text)
    if xtext.weighted_length(text) <= xtext.MAX_WEIGHTED_LENGTH:
        assert end == len(text)
    else:
        assert xtext.weighted_length(text[:end]) <= xtext.MAX_WEIGHTED_LENGTH
        assert xtext.weighted_length(text[: end + 2]) > xtext.MAX_WEIGHTED_LENGTH


# --- Hashtags: twitter-text conformance/extract.yml --------------------------------------------
HASHTAGS = [
    ("a ✌#hashtag here", ["hashtag"]),
    ("a ✌︎#hashtag here", ["hashtag"]),
    ("a ✌️#hashtag here", ["hashtag"]),
    ("a ✌🏿#hashtag here", ["hashtag"]),
    ("a 👨\u200d👩\u200d👧#hashtag here", ["hashtag"]),
    ("On the #16 bus", []),
    ("#0", []),
    ("(#tag1 )#tag2 [#tag3 ]#tag4 ’#tag5’#tag6", [f"tag{i}" for i in range(1, 7)]),
    ("this is not valid: # 会議中 ハッシュ", []),
    ("日本語ハッシュテスト。#日本語ハッシュタグ", ["日本語ハッシュタグ"]),
    ("#日本語ハッシュタグ。", ["日本語ハッシュタグ"]),
    ("全角英数字ハッシュタグ ＃ｈａｓｈｔａｇ１２３", ["ｈａｓｈｔａｇ１２３"]),
    ("日本語ハッシュタグ#日本語ハッシュタグ", []),
    ("長音ハッシュタグ。#サッカー", ["サッカー"]),
    ("#ﾊｯｼｭﾀｸﾞ #ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ", ["ﾊｯｼｭﾀｸﾞ", "ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ"]),
    ("できましたよー！＃日本語ハッシュタグ。", ["日本語ハッシュタグ"]),
    ("#云々 #学問のすゝめ #いすゞ #各〻 #各〃", ["云々", "学問のすゝめ", "いすゞ", "各〻", "各〃"]),
    ("#メ～テレ ハッシュタグ内で～が認識されず", ["メ～テレ"]),
    ("#メ〜テレ ハッシュタグ内で～が認識されず", ["メ〜テレ"]),
    ("#hashtag: #hashtag; #hashtag, #hashtag. #hashtag! #hashtag?", ["hashtag"] * 6),
    ("#hashtag\ntest\n#hashtag2\ntest\n#hashtag3\n", ["hashtag", "hashtag2", "hashtag3"]),
    ("#http://twitter.com #https://twitter.com", []),
    ("http://twitter.com/#hashtag twitter.com/#hashtag", []),
    ("#Azərbaycanca #mûǁae #Čeština #Ċaoiṁín", ["Azərbaycanca", "mûǁae", "Čeština", "Ċaoiṁín"]),
    ("#ผู้เริ่ม #การเมือง", ["ผู้เริ่ม", "การเมือง"]),
    ("#महात्मा #महात्मा_१२३४ #१२३४ गांधी", ["महात्मा", "महात्मा_१२३४"]),
    ("#_ #1_2 #122 #〃", []),
    ("#\U00020021", ["\U00020021"]),
    ("#A\U000104a0", ["A\U000104a0"]),
    ("#il·lusió", ["il·lusió"]),
    # Ours: the usual Japanese slips.
    ("#みどり市#文化祭", []),
    ("#みどり市 #文化祭", ["みどり市", "文化祭"]),
    ("♯みどり市", []),
    ("#①", []),  # circled digits are numbers, not letters
    ("#第①回", ["第"]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "tags"), HASHTAGS)
def test_hashtags_follow_twitter_text(text: str, tags: list[str]) -> None:
    assert [tag for tag, _, _ in xtext.hashtags(text)] == tags


def test_hashtag_spans_start_at_the_sign() -> None:
    text = "Hashtags in #中文, #日本語, #한국말, and #русский! Try it out!"
    assert xtext.hashtags(text) == [
        ("中文", 12, 15),
        ("日本語", 17, 21),
        ("한국말", 23, 27),
        ("русский", 33, 41),
    ]


def test_hashtag_like_finds_the_broken_ones_too() -> None:
    text = "開催します#みどり市 ♯文化祭 ＃秋"
    assert xtext.hashtag_like(text) == [
        ("#", "みどり市", 5, 10),
        ("♯", "文化祭", 11, 15),
        ("＃", "秋", 16, 18),
    ]
    assert [tag for tag, _, _ in xtext.hashtags(text)] == ["秋"]


# --- The pieces that replace slower machinery --------------------------------------------------
LATIN = (
    "\\xC0-\\xD6\\xD8-\\xF6\\xF8-\\xFF\\u0100-\\u024F\\u0253\\u0254\\u0256\\u0257\\u0259\\u025B"
    "\\u0263\\u0268\\u026F\\u0272\\u0289\\u028B\\u02BB\\u0300-\\u036F\\u1E00-\\u1EFF"
)


@pytest.mark.parametrize(
    ("ours", "twitter_text_class"),
    [
        (
            xtext._PATH_CHAR,
            f"[a-z\\u0400-\\u04FF0-9!\\*';:=\\+,\\.\\$\\/%#\\[\\]\\-\\u2013_~@\\|&{LATIN}]",
        ),
        (xtext._PATH_END_CHAR, f"[\\+\\-a-z\\u0400-\\u04FF0-9=_#\\/{LATIN}]"),
        (xtext._QUERY_CHAR, "[a-z0-9!?*'@();:&=+$/%#\\[\\]\\-_.,~|]"),
        (xtext._QUERY_END_CHAR, "[a-z0-9\\-_&=#/]"),
        (xtext._ASCII_LABEL_CHAR, f"[\\-a-z0-9{LATIN}]"),
    ],
)
def test_case_closed_classes_equal_twitter_texts_ignorecase_ones(
    ours: str, twitter_text_class: str
) -> None:
    mine, theirs = re.compile(ours), re.compile(twitter_text_class, re.IGNORECASE)
    for code in range(0x3000):
        ch = chr(code)
        assert bool(mine.fullmatch(ch)) == bool(theirs.fullmatch(ch)), hex(code)
    for ch in "\u1fbe\u212a\u212b\u2c65\u2c7f\uff21\U00010400":
        assert bool(mine.fullmatch(ch)) == bool(theirs.fullmatch(ch)), hex(ord(ch))


labels = st.text(
    alphabet=st.sampled_from(
        "abcXYZ019-みどりミドリ市役所ｶﾞﾐﾄﾞﾘｃｉｔｙ（）、々ーßÄéñ한국ابج🙂\u00ad\u200b\u3099"
    ),
    min_size=1,
    max_size=70,
)


@settings(max_examples=400, deadline=None)
@given(labels)
def test_label_lengths_match_pythons_idna_codec(label: str) -> None:
    try:
        expected: int | None = len(idna.ToASCII(label))
    except UnicodeError:
        expected = None
    assert xtext._label_to_ascii_length.__wrapped__(label) == expected


# Long labels near the length past which nameprep is skipped: characters nameprep deletes,
# Hangul jamo and combining accents that compose into fewer code points, and ones that do not.
long_labels = st.lists(
    st.sampled_from(
        ["\u00ad", "\u200b\ufe0f", "\u1100\u1161\u11a8", "e\u0301", "a", "み", "\u3099"]
    ),
    min_size=60,
    max_size=400,
).map("".join)


@settings(max_examples=150, deadline=None)
@given(long_labels)
@example("\u1100\u1161\u11a8" * 84 + "a")
@example("\u00ad" * 300 + "み" * 20)
def test_long_label_lengths_match_pythons_idna_codec(label: str) -> None:
    try:
        expected: int | None = len(idna.ToASCII(label))
    except UnicodeError:
        expected = None
    assert xtext._label_to_ascii_length.__wrapped__(label) == expected


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("abc-09みどり市役所広報課한국ßé🙂"), min_size=1, max_size=60)
)
def test_punycode_length_matches_the_codec(text: str) -> None:
    assert xtext._punycode_length(text) == len(text.encode("punycode"))


def test_xtext_needs_only_the_standard_library() -> None:
    tree = ast.parse(Path(xtext.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert imported - {"__future__"} <= sys.stdlib_module_names


def test_nfc_is_applied_before_counting() -> None:
    decomposed = unicodedata.normalize("NFD", "がぎぐげご")
    assert len(decomposed) == 10
    assert xtext.weighted_length(decomposed) == 10


DOMAIN_PIECES = [
    "a", "b1", "-", ".", "_", "jp", "com", "co", "xn--p1ai", "xn--", "みんな", "рф",
    "vermögensberatung", " ", "@", "+", "/", "é", "\u212a",
]  # fmt: skip
domain_pieces = st.lists(st.sampled_from(DOMAIN_PIECES), max_size=20).map("".join)


@settings(max_examples=400, deadline=None)
@given(domain_pieces)
@example("x a_b.c.jp x")  # a subdomain with an underscore: ASCII domains start after it
@example("a-b.xn--p1ai.co.jp/ b.jp@")
def test_a_plain_domain_is_its_own_ascii_domain(text: str) -> None:
    g = xtext._grammar()
    tokens = xtext._Tokens(text, g)
    for q in range(len(text)):
        end = tokens.domain_end(q)
        if end is not None and xtext._PLAIN_DOMAIN.fullmatch(text[q:end]):
            assert list(g.ascii_domains(text[q:end])) == [(0, end - q)], (text, q)
    assert xtext.url_spans(text) == ref_urls(text)
