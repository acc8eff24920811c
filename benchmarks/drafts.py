"""Realistic municipal drafts for the benchmarks: varied, reproducible, about 100-280 characters."""

from __future__ import annotations

import random
from datetime import date, timedelta

WEEKDAYS = "月火水木金土日"
PLACES = ["みどり市民会館", "中央図書館", "総合体育館", "みどり中央公民館", "みどり市立博物館"]
EVENTS = [
    "親子で楽しむ科学教室",
    "市民健康まつり",
    "防災訓練",
    "おはなし会",
    "企画展「みどりの歴史」",
    "スマホ教室",
    "子育て相談会",
    "リサイクルフェア",
    "市民体育祭",
    "手話講座",
]
TAILS = [
    "参加費は無料です。",
    "事前の申し込みが必要です。申し込みは電話で受け付けます。",
    "当日は動きやすい服装でお越しください。",
    "定員は先着30人です。お早めにお申し込みください。",
    "駐車場に限りがありますので、公共交通機関をご利用ください。",
]


def draft(rng: random.Random, base: date) -> str:
    day = base + timedelta(days=rng.randint(3, 60))
    event = rng.choice(EVENTS)
    place = rng.choice(PLACES)
    text = (
        f"【{event}】{day.month}月{day.day}日({WEEKDAYS[day.weekday()]})"
        f"{rng.choice(['10時', '13時30分', '9時'])}から{place}で{event}を開催します。"
        f"{rng.choice(TAILS)}{rng.choice(TAILS)}"
        f"問い合わせ：シティ・プロモーション課 電話0277-12-3411 "
        f"詳しくは https://www.city.midori.lg.jp/event/{rng.randint(1000, 9999)}.html"
    )
    if rng.random() < 0.2:
        text = text.replace("(", "(").replace(f"({WEEKDAYS[day.weekday()]})", "(月)", 1)
    if rng.random() < 0.1:
        text += " 詳細は個人的にはおすすめです！"
    return text


def drafts(n: int, seed: int = 7, base: date = date(2026, 11, 20)) -> list[str]:
    rng = random.Random(seed)
    return [draft(rng, base) for _ in range(n)]
