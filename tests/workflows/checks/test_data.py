"""The rule data cache: a build is read back for the same inputs, made again for others."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest

from workflows.checks.data import LazyPattern, cached
from workflows.checks.lexicon import Pattern

_parser: Any = importlib.import_module("re._parser")


def test_a_build_is_read_back_for_the_same_inputs_and_made_again_for_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POSTGATE_CACHE_DIR", str(tmp_path))
    builds: list[str] = []

    def build(tag: str) -> dict[str, object]:
        builds.append(tag)
        return {"built": tag, "count": len(builds)}

    assert cached("demo", [b"v1"], lambda: build("first")) == {"built": "first", "count": 1}
    assert cached("demo", [b"v1"], lambda: build("again")) == {"built": "first", "count": 1}
    assert cached("demo", [b"v2"], lambda: build("edited")) == {"built": "edited", "count": 2}
    for kept in tmp_path.iterdir():
        kept.write_bytes(b"not a pickle")
    assert cached("demo", [b"v1"], lambda: build("repaired")) == {"built": "repaired", "count": 3}
    assert builds == ["first", "edited", "repaired"]


def test_an_empty_cache_dir_setting_turns_the_cache_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POSTGATE_CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cached("demo", [b"v1"], lambda: 1) == 1
    assert cached("demo", [b"v1"], lambda: 2) == 2
    assert list(tmp_path.iterdir()) == []


def test_patterns_are_read_back_compiled_without_parsing_them_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache keeps compiled programs: reading rule data back runs no regex parser (which
    compiling, and a lexicon pattern's needed words, would), and the patterns match as before."""
    monkeypatch.setenv("POSTGATE_CACHE_DIR", str(tmp_path))

    def build() -> dict[str, Any]:
        return {
            "compiled": [
                re.compile(r"(?P<word>[\u3400-\u9fff々]{2,4})(?P=word)"),
                re.compile(r"post\s*gate", re.IGNORECASE),
                re.compile("^ x  # a comment\n", re.VERBOSE | re.MULTILINE),
            ],
            "lazy": LazyPattern(r"[ぁ-ゖ]+です"),
            "lexicon": Pattern(r"(?:市長|知事)選"),
        }

    built = cached("patterns", [b"v1"], build)
    parsed: list[str] = []
    parse = _parser.parse

    def counted_parse(source: str, *args: Any) -> Any:
        parsed.append(source)
        return parse(source, *args)

    re.purge()  # else a pattern pickled as its source would come from re's own cache
    monkeypatch.setattr(_parser, "parse", counted_parse)
    read = cached("patterns", [b"v1"], lambda: pytest.fail("built again"))
    assert read["compiled"] == built["compiled"]  # the same source, flags and code
    kanji, name, line = read["compiled"]
    assert kanji.groupindex == {"word": 1}
    assert kanji.search("今日は市役所市役所へ").group("word") == "市役所"
    assert name.findall("PostGate, post gate") == ["PostGate", "post gate"]
    assert line.findall("a\nx\nx") == ["x", "x"]
    assert read["lazy"].search("雨。あしたははれです").group() == "あしたははれです"
    assert read["lexicon"].possible("次の市長選は")
    assert not read["lexicon"].possible("市長")
    assert read["lexicon"].search("次の市長選は", "", 0) == (2, 5)
    assert parsed == []
