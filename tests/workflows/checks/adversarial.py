"""Adversarial drafts: long repetitions of the characters the rule families react to.

Shared by `benchmarks/check_worst_case.py` and the linear-time property test, so both look for
trouble in the same places.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

# What the scanners look for: digits (full- and half-width), separators of dates, phone numbers,
# times and versions, the pieces of URLs, e-mail addresses, mentions, domains and hashtags, date
# words, addresses, brackets, sentence ends, laughing marks, editorial marks, emoji and the rest.
UNITS: tuple[str, ...] = (
    "0",
    "1",
    "a",
    "A",
    ".",
    "a.",
    "1.",
    "0-",
    "12-",
    "-",
    "_",
    "@",
    "a@",
    "@a",
    "@a.",
    "a@a.",
    "#",
    "#a",
    "＃あ",
    "＠",
    "www.",
    "http://",
    "https://a.jp/",
    "https://www.city.midori.lg.jp/ ",
    "a.jp",
    "a.jp/",
    "１",
    "１２-",
    "０３－",
    "03-",
    "(0",
    "0120-",
    "090",
    "+81",
    "〒1",
    "12月",
    "12月5日",
    "12月5日(土)、",
    "5日(土)、",
    "12/",
    "12/5",
    "1/1(",
    "令和",
    "令和8年",
    "2026年",
    "年",
    "月",
    "日",
    "(",
    "(土",
    "（",
    "曜",
    "時",
    "10:",
    "10時",
    "午前",
    "〜",
    "~",
    "ー",
    "、",
    "。",
    "!",
    "！",
    "?",
    "w",
    "笑",
    "草",
    "「",
    "」",
    "【",
    "＊",
    "*",
    "※",
    "x",
    " ",
    "\n",
    "　",
    "ああ",
    "です。",
    "ください",
    "丁目",
    "番地",
    "1-2-",
    "様",
    "さん",
    "市",
    "区",
    "http",
    "://",
    "%",
    "+",
    "..",
    "/",
    "\\",
    "=",
    "&",
    "ｱ",
    "ﾞ",
    "が",
    "の",
    "は",
    "円",
    "名",
    "先着",
    "無料",
    "絶対",
    "死",
    "選挙",
    "外国人",
    "〇〇",
    "xx",
    "TBD",
    "要確認",
    # Emoji and letters beyond U+FFFF (hashtag and length classes), full-width URL pieces,
    # non-ASCII domain labels (IDNA), invisible and line-ending characters, number formats.
    "😀",
    "👍🏻",
    "🇯🇵",
    "#️⃣",
    "#𝐀",
    "𝐀",
    "♯a",
    "＃１",
    "ｈｔｔｐｓ：／／ａ．ｊｐ",
    "ｗｗｗ．",
    "＠ａ",
    "é",
    "み.",
    "https://a.jp/#",
    "?a=",
    "\u200b",
    "\r\n",
    "\t",
    "）",
    "10:00-",
    "…",
    "1,000",
    "０３－１２３４－",
    # Sentence-level judgements (meaning.yaml), editorial notes, bare names, 9-digit numbers.
    "ても、",
    "何度",
    "ですが、",
    "と違い",
    "候補",
    "地区",
    "被災",
    "見かけたら",
    "ここに写真",
    "差し替え",
    "月○",
    "＜",
    "山田(",
    "0277-12-",
    # A person near a house number (pii.address), numbers after TEL or without their 0 (phone).
    "さん本町1-2",
    "本町1-2-3の",
    "住所 本町1-2 氏名 山",
    "ハイツ1",
    "三丁目",
    "TEL0",
    "277-12-",
    # Template fields, comment marks, layout text, blank dates; a name without an honorific
    # beside a house number, an English name (issue 11 §4).
    "{",
    "/*",
    "ここにテキスト",
    ":　月",
    "本町1-2-3 佐藤",
    "佐藤一郎・",
    "Ab Cd, ",
    # Honorifics, kanji and house numbers packed together (pii's name and house-number
    # searches), の after a number with a space (an address ending there), a day in the past
    # (the words around it are read), links glued to brackets and marks (X's link counter).
    "丁目様",
    "様1-1町",
    "1の ",
    "町1-1(",
    "11月1日",
    "(a.jp",
    "*a.jp",
    "死a.jp/",
    # A name beside what must not come with it (pii.sensitive), a home someone lives in, a
    # town's 丁目 in brackets after a name, a given name in kana.
    "山田さん入院",
    "寮204号室で暮らし",
    "さん(旭町4丁目)",
    "森 ゆいちゃん",
    # What identifies a person (pii.identity), a child's full name, a name before a number.
    "5年2組の山田 花子さん",
    "山田さん(29歳)",
    "(1月4日生まれ)",
    "佐藤 結衣ちゃん、",
    "山田さん 0277-45-1183\n",
    # Where a named person lives at town level (pii.residence): a town before the name, the words
    # between (にお住まいで…), a town in brackets or a hashtag after it, an age right after a name.
    "本町の山田さん",
    "桜台にお住まいで",
    "大間々町塩原",
    "さん(中央町)",
    "#山田さん #本町",
    "さん(82)",
    # Quoted mail lines, chat times, signed comments, comment anchors, doubted figures, format
    # instructions in brackets, scam warnings quoting a message.
    ">\n",
    "> a\n",
    "[10:1",
    "[AB1",
    "(AB:",
    "--",
    "1?",
    "円??",
    "(ここは赤字",
    "係長追記",
    "詐欺「〇〇",
    # Markup shown as written, a writing assistant's words, two wordings side by side, an editor's
    # stamp and a rule of how to write.
    "~~",
    "~~1",
    "**",
    "##",
    "## ",
    "<b",
    "<br ",
    "&nbsp",
    ":a",
    "[a](",
    "以下は、",
    "必要に応じて",
    "実際の",
    " or ",
    "時 or ",
    "「a」or",
    "す。/",
    "(田中 1",
    "[1/2 ",
    "(修正:",
    "「下さい」→「",
    "表記は「",
    "※数字は半角",
)

# Some scanners only give up after the run, at a character that would complete a match.
TAILS: tuple[str, ...] = ("", "@x", ".jp", "日", "!", ")", "x")


# Half one thing, half another: openings that are never closed, then closings that never open.
HALVES: tuple[tuple[str, str], ...] = (
    ("（", "」"),
    ("「", "）"),
    ("(", "」"),
    ("【", ")"),
    ("12月", "5日"),
    ("a", "@a."),
    ("0", "-0"),
)


# Links, domains, hashtags, dates and addresses each written differently: the scanners remember
# what a repeated link, tag or date turned out to be, so repetitions of one are cheap; these make
# every one new, and some as long as what is remembered (64 to 80 characters) or just longer.
DISTINCT: dict[str, Callable[[int], str]] = {
    "links": lambda i: f"https://a{i}.jp/{i} ",
    "bare domains": lambda i: f"a{i}.jp ",
    "glued domains": lambda i: f"a{i}.jp/",
    "tags": lambda i: f"#t{i}",
    "tags after words": lambda i: f"語#t{i} ",
    "long domains": lambda i: f"{i:x}{'a' * 60}.jp ",
    "long tags": lambda i: f"#{i:x}{'a' * 62} ",
    "long paths": lambda i: f"a.jp/{i:x}{'a' * 75} ",
    "dates": lambda i: f"{2000 + i % 1000}年{i % 12 + 1}月{i % 28 + 1}日",
    "dates with weekdays": lambda i: f"{i % 12 + 1}月{i % 28 + 1}日({'月火水木金土日'[i % 7]})、",
    "dates apart": lambda i: f"{i % 12 + 1}月{i % 28 + 1}日 ",
    # In the month before the day the drafts are checked (20 November): each one in the past.
    "days just past": lambda i: f"11月{i % 19 + 1}日 ",
    "addresses": lambda i: f"様{i % 9 + 1}-{i % 97 + 1}町",
    "addresses and names": lambda i: f"住所 本町{i % 9 + 1}-{i % 97 + 1} 氏名 山{'田川本'[i % 3]} ",
}


def distinct(length: int) -> Iterator[tuple[str, str]]:
    """(label, draft) pairs of exactly ``length`` characters, one per shape of DISTINCT."""
    for label, item in DISTINCT.items():
        pieces, written, i = [], 0, 0
        while written < length:
            pieces.append(item(i))
            written += len(pieces[-1])
            i += 1
        yield f"distinct {label}", "".join(pieces)[:length]


def adversarial(length: int, tails: tuple[str, ...] = TAILS) -> Iterator[tuple[str, str]]:
    """(label, draft) pairs of exactly ``length`` characters."""
    for unit in UNITS:
        for tail in tails:
            body = unit * ((length - len(tail)) // len(unit) + 1)
            text = body[: length - len(tail)] + tail
            yield f"{unit!r}*n+{tail!r}", text
        # Alternations that stop a greedy run and restart it (`a.a.a.`, `12-12-`, `a a a`).
        alt = (unit + " ") * (length // (len(unit) + 1) + 1)
        yield f"({unit!r}+' ')*n", alt[:length]
    for first, second in HALVES:
        half = length // 2
        text = (first * half)[:half] + (second * (length - half))[: length - half]
        yield f"{first!r}*n/2+{second!r}*n/2", text
