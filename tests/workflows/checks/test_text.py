from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from workflows.checks.text import NormalizedText


def test_full_width_digits_map_back() -> None:
    norm = NormalizedText.of("電話：０２７７－１２－３４００まで")
    assert "0277-12-3400" in norm.text
    start = norm.text.index("0277")
    s, e = norm.span(start, start + len("0277-12-3400"))
    assert norm.original[s:e] == "０２７７－１２－３４００"


def test_half_width_kana_with_voiced_mark_folds_together() -> None:
    norm = NormalizedText.of("ｶﾞｲﾄﾞ")
    assert norm.text == "ガイド"
    assert norm.span(0, 1) == (0, 2)
    assert norm.span(1, 3) == (2, 5)


def test_expanding_characters_share_their_span() -> None:
    norm = NormalizedText.of("㈱みどり")  # ㈱ -> (株)
    assert norm.text.startswith("(株)")
    assert norm.span(0, 3) == (0, 1)
    assert norm.span(3, 4) == (1, 2)


@given(st.text(max_size=80), st.data())
def test_spans_always_inside_the_original(text: str, data: st.DataObject) -> None:
    norm = NormalizedText.of(text)
    n = len(norm.text)
    start = data.draw(st.integers(0, n))
    end = data.draw(st.integers(start, n))
    s, e = norm.span(start, end)
    assert 0 <= s <= e <= len(text)
    if end > start:
        assert e > s
