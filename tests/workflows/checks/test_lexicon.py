from __future__ import annotations

import re
import textwrap
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import DEFAULT_AT
from workflows import catalogue
from workflows.checks import Checker, CheckSettings, DraftToCheck
from workflows.checks.data import RuleDataError
from workflows.checks.lexicon import (
    Lexicon,
    Pattern,
    Sweep,
    consumes_one_of,
    first_chars,
    load_lexicon,
    reach,
    widths,
)
from workflows.checks.rules import flame, prohibited
from workflows.checks.text import NormalizedText

KEYS = catalogue.keys()


def lexicon(tmp_path: Path, body: str, *, name: str = "test.yaml") -> Lexicon:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return load_lexicon(path, "flame", message_keys=KEYS)


def scan(lex: Lexicon, text: str) -> list[tuple[str, str]]:
    return [(h.rule, h.matched) for h in lex.scan(NormalizedText.of(text).text)]


def test_katakana_term_matches_only_as_a_whole_katakana_word(tmp_path: Path) -> None:
    lex = lexicon(
        tmp_path,
        """
        entries:
          - id: flame.sexual
            severity: warning
            message: flame.sexual.content
            terms: [エッチ]
            hits: [エッチな話]
            clean: [スケッチ大会]
        """,
    )
    assert scan(lex, "エッチな話はやめましょう") == [("flame.sexual", "エッチ")]
    assert scan(lex, "スケッチ大会とエッチング教室") == []
    # Half-width katakana is matched after NFKC.
    assert scan(lex, "ｴｯﾁな話") == [("flame.sexual", "エッチ")]


def test_latin_term_matches_any_case_but_not_inside_a_word(tmp_path: Path) -> None:
    lex = lexicon(
        tmp_path,
        """
        entries:
          - id: flame.spam
            severity: warning
            message: flame.spam.diffusion
            terms: [RT希望, vpn]
            hits: [RT希望です]
            clean: [ART希望の森]
        """,
    )
    assert scan(lex, "ＲＴ希望！") == [("flame.spam", "RT希望")]
    assert scan(lex, "rt希望") == [("flame.spam", "rt希望")]
    assert scan(lex, "ART希望の森、VPN接続") == [("flame.spam", "VPN")]


UNLESS = """
entries:
  - id: flame.disaster
    severity: warning
    message: flame.disaster.light_tone
    terms: [地震]
    unless: [訓練]
    within: {within}
    hits: [地震が来た]
    clean: [地震の訓練]
"""


def test_unless_in_the_same_sentence_suppresses_only_that_sentence(tmp_path: Path) -> None:
    lex = lexicon(tmp_path, UNLESS.format(within="sentence"))
    assert scan(lex, "地震の避難訓練です。") == []
    assert scan(lex, "訓練をしました。地震が怖い！") == [("flame.disaster", "地震")]


def test_unless_within_characters(tmp_path: Path) -> None:
    lex = lexicon(tmp_path, UNLESS.format(within=3))
    assert scan(lex, "地震の訓練") == []
    assert scan(lex, "地震のあとの訓練") == [("flame.disaster", "地震")]


def test_unless_anywhere_in_the_draft(tmp_path: Path) -> None:
    lex = lexicon(tmp_path, UNLESS.format(within="draft"))
    assert scan(lex, "地震が来ました。\n\n来月は訓練です。") == []


def test_requires_context(tmp_path: Path) -> None:
    lex = lexicon(
        tmp_path,
        """
        entries:
          - id: flame.disaster
            severity: warning
            message: flame.disaster.light_tone
            terms: [被災地]
            requires: [楽しい, 映え]
            hits: [被災地ツアーは映える]
            clean: [被災地の状況]
        """,
    )
    assert scan(lex, "被災地ツアー、映えスポットが楽しい") == [("flame.disaster", "被災地")]
    assert scan(lex, "被災地へ職員を派遣しました。楽しい催しは延期します。") == []


TWO_RULES = """
entries:
  - id: flame.politics
    name: first
    severity: warning
    message: flame.politics.party
    terms: [与党]
    unless: [議会]
    hits: [与党です]
    clean: [議会の与党]
  - id: flame.scandal
    name: second
    severity: warning
    message: flame.scandal
    patterns: ['与党(の|が)不倫']
    hits: [与党の不倫]
    clean: [与党の政策]
"""


def test_every_entry_matching_at_one_place_is_reported(tmp_path: Path) -> None:
    lex = lexicon(tmp_path, TWO_RULES)
    assert scan(lex, "与党の不倫") == [("flame.scandal", "与党の不倫"), ("flame.politics", "与党")]
    # The first entry's context suppresses it; the second is still found at the same place.
    assert scan(lex, "議会で与党の不倫") == [("flame.scandal", "与党の不倫")]


def test_one_rule_reports_overlapping_matches_once_longest_first(tmp_path: Path) -> None:
    lex = lexicon(
        tmp_path,
        """
        entries:
          - id: flame.misfire
            severity: warning
            message: flame.misfire.test
            terms: [テスト, テスト投稿]
            hits: [テスト投稿]
            clean: [てすと]
          - id: flame.misfire
            severity: warning
            message: flame.misfire.test
            patterns: ['ト投']
            hits: [ト投]
            clean: [投]
        """,
    )
    assert scan(lex, "テスト投稿です") == [("flame.misfire", "テスト投稿")]


def test_suggestion_per_matched_term(tmp_path: Path) -> None:
    lex = lexicon(
        tmp_path,
        """
        entries:
          - id: flame.discrimination
            severity: warning
            message: flame.discrimination.outdated
            terms: [父兄, 片親]
            suggestion: {父兄: 保護者, 片親: ひとり親}
            hits: [父兄会]
            clean: [保護者会]
        """,
    )
    hits = lex.scan("父兄と片親")
    assert [(h.matched, h.suggestion) for h in hits] == [("父兄", "保護者"), ("片親", "ひとり親")]


GOOD_ENTRY = """
entries:
  - id: flame.spam
    name: marks
    severity: warning
    message: flame.spam.marks
    patterns: ['!!!!']
    hits: ['すごい！！！！']
    clean: ['すごい！']
"""


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (("すごい！！！！", "すごい！！"), "hit spec 'すごい！！' does not produce flame.spam"),
        (("すごい！']", "すごい！！！！！']"), "clean spec 'すごい！！！！！' produces flame.spam"),
        (("'!!!!'", "'!!!!('"), "bad regular expression in 'patterns'"),
        (("severity: warning", "severity: loud"), "'severity' must be error, warning or info"),
        (("flame.spam.marks", "flame.spam.nope"), "'flame.spam.nope' is not a catalogue key"),
        (("id: flame.spam", "id: spam.flame"), "'id' must be 'flame' or start with 'flame.'"),
        (("name: marks", "name: marks\n    colour: red"), "unknown key(s) ['colour']"),
        (("    clean: ['すごい！']\n", ""), "every entry needs 'hits' and 'clean' examples"),
        (("'!!!!'", r"'(!)\1'"), "may not use named groups or backreferences"),
        (("name: marks", "name: marks\n    within: paragraph"), "'within' must be"),
        (("patterns: ['!!!!']", "terms: []"), "needs 'terms' or 'patterns'"),
    ],
)
def test_broken_entry_fails_loading_naming_file_and_entry(
    tmp_path: Path, change: tuple[str, str], complaint: str
) -> None:
    body = GOOD_ENTRY.replace(*change)
    assert body != GOOD_ENTRY
    with pytest.raises(RuleDataError) as info:
        lexicon(tmp_path, body, name="spam.yaml")
    assert "spam.yaml: entry 1 (marks)" in str(info.value)
    assert complaint in str(info.value)


def test_spec_quote_is_checked(tmp_path: Path) -> None:
    body = GOOD_ENTRY.replace(
        "hits: ['すごい！！！！']", "hits: [{text: 'すごい！！！！', quote: '!!!'}]"
    )
    with pytest.raises(RuleDataError, match=r"should quote '!!!'; flame.spam quotes \['!!!!'\]"):
        lexicon(tmp_path, body)


def test_every_failing_spec_is_reported_at_once(tmp_path: Path) -> None:
    body = GOOD_ENTRY + GOOD_ENTRY.split("entries:\n", 1)[1].replace("name: marks", "name: more")
    body = body.replace("hits: ['すごい！！！！']", "hits: ['すごい']")
    with pytest.raises(RuleDataError) as info:
        lexicon(tmp_path, body)
    assert "entry 1 (marks)" in str(info.value)
    assert "entry 2 (more)" in str(info.value)


def test_a_file_without_entries_fails(tmp_path: Path) -> None:
    with pytest.raises(RuleDataError, match="only 'entries'"):
        lexicon(tmp_path, "- id: flame.spam\n")


def test_first_chars_of_patterns() -> None:
    assert first_chars(re.compile("(?:地震|津波)のよう")) == frozenset("地津")
    assert first_chars(re.compile("(?i:vpn)")) == frozenset("vV")
    assert first_chars(re.compile("(?:^|(?<=\n))@x")) == frozenset("@")
    assert first_chars(re.compile("(?:大)?地震")) == frozenset("大地")
    assert first_chars(re.compile("[!?]{4,}")) == frozenset("!?")
    # Unbounded starts: the pattern must then run on every text.
    assert first_chars(re.compile(r"\s*x")) is None
    assert first_chars(re.compile("[^。]x")) is None
    assert first_chars(re.compile("x?")) is None


# Patterns that read past their match (lookahead, end of text) and before it (lookbehind).
_SWEPT = (
    r"\s?(?:さん|様)|(?<![住自])宅(?![地配])|邸(?!跡)|家の|\(\d{1,3}歳?\)",
    r"ab(?!c)|a\Z|b$|(?<=c)a{1,3}",
    r"x?y|(?<!y)z(?=yy)",
    r"(?:ab|b){1,3}(?!a)",
    r"a|",
)


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(_SWEPT),
    st.text(alphabet="abcxyz(1歳)さん様宅地住邸跡家の \n", max_size=50),
    st.lists(st.tuples(st.integers(0, 6), st.integers(0, 8), st.booleans()), max_size=12),
)
def test_a_sweep_finds_what_search_finds(
    pattern: str, text: str, steps: list[tuple[int, int, bool]]
) -> None:
    regex = re.compile(pattern)
    read = reach(regex)
    assert read is not None
    sweep = Sweep(regex, text, read)
    pos = endpos = 0
    for ahead, longer, back in steps:
        # Mostly forward, as the rules ask; now and then back, where nothing known may be used.
        pos = min(len(text), (pos // 2 if back else pos) + ahead)
        endpos = min(len(text), max(pos, endpos // 2 if back else endpos) + longer)
        got, wanted = sweep.search(pos, endpos), regex.search(text, pos, endpos)
        assert (got and (got.span(), got.group())) == (wanted and (wanted.span(), wanted.group()))


def test_what_every_match_consumes_and_how_wide_it_is() -> None:
    marks = frozenset("○x")
    assert consumes_one_of(re.compile("[0-9]{1,2}月[○x]日|第○回"), marks)
    assert consumes_one_of(re.compile("(?:a|b)+○"), marks)
    # Looked at, optional, ignoring case or in a class wider than the marks: not consumed.
    assert not consumes_one_of(re.compile("月(?=○)"), marks)
    assert not consumes_one_of(re.compile("月○?"), marks)
    assert not consumes_one_of(re.compile("(?i:x)"), marks)
    assert not consumes_one_of(re.compile("[○xy]"), marks)
    assert not consumes_one_of(re.compile("○|月"), marks)
    assert widths(re.compile("a{1,3}(?=b)c?")) == (1, 4)
    assert widths(re.compile("a+")) == (1, None)


def test_the_words_a_match_needs() -> None:
    assert Pattern("候補[^。]{0,30}(?:不可能|無理)").possible("候補の公約は無理") is True
    assert Pattern("候補[^。]{0,30}(?:不可能|無理)").possible("候補" * 1000) is False
    assert Pattern("(?:さん|氏)を(ぜひ)?(市長|知事)(に|へ)").possible("佐藤さんを市長") is False
    # Optional, empty or case-insensitive parts are never required.
    assert Pattern("a(?:b|)c").possible("ac") is True
    assert Pattern("x(?:ぜひ)?y").possible("xy") is True
    assert Pattern("(?i)vpn").possible("VPN") is True
    assert Pattern("(?i:vpn)接続").possible("VPN接続") is True


def _examples() -> list[str]:
    found: list[str] = []
    for name in ("flame", "prohibited"):
        data = yaml.safe_load((RULES / f"{name}.yaml").read_text(encoding="utf-8"))
        for entry in data["entries"]:
            for example in (*entry.get("hits", ()), *entry.get("clean", ())):
                found.append(example["text"] if isinstance(example, dict) else example)
    return sorted(set(found))


RULES = Path(flame.__file__).parent
_EXAMPLES = _examples()


@settings(max_examples=500, deadline=None)
@given(st.data())
def test_a_shipped_pattern_ruled_out_by_its_words_never_matches(data: st.DataObject) -> None:
    lex = data.draw(st.sampled_from([flame.lexicon(), prohibited.lexicon()]))
    patterns = [alt for e in lex.entries for alt in e.alternatives if isinstance(alt, Pattern)]
    pattern = data.draw(st.sampled_from(patterns))
    # Texts made of the lexicons' own examples (hits and look-alikes), so matches are likely.
    text = "。".join(data.draw(st.lists(st.sampled_from(_EXAMPLES), max_size=4)))
    text += data.draw(st.text(alphabet="候補さんをにへ市長の。、一票", max_size=20))
    if not pattern.possible(text):
        assert pattern.regex.search(text) is None, (pattern.source, text)


def test_a_pattern_that_can_start_anywhere_still_matches(tmp_path: Path) -> None:
    lex = lexicon(
        tmp_path,
        r"""
        entries:
          - id: flame.spam
            severity: warning
            message: flame.spam.hype
            patterns: ['\w儲かる']
            hits: [絶対儲かる]
            clean: [儲かる]
        """,
    )
    assert scan(lex, "必ず儲かる") == [("flame.spam", "ず儲かる")]


@pytest.mark.parametrize("module", [flame, prohibited])
def test_shipped_lexicons_load_and_every_pattern_is_indexed(module: object) -> None:
    lex: Lexicon = module.lexicon()  # type: ignore[attr-defined]
    assert lex.entries
    # A pattern that may start anywhere runs on every draft: keep the shipped data fast.
    assert lex._always == frozenset()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_scan_never_fails_and_spans_stay_inside_the_text(text: str) -> None:
    norm = NormalizedText.of(text).text
    for lex in (flame.lexicon(), prohibited.lexicon()):
        for hit in lex.scan(norm):
            assert 0 <= hit.start < hit.end <= len(norm)
            assert norm[hit.start : hit.end] == hit.matched


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "地震",
                "楽しい",
                "。",
                "！",
                "ｗ",
                "草",
                "自民党",
                "噂では",
                "10.0.0.1",
                "ＲＴ希望",
                "\n",
                "＠a",
                "ﾃｽﾄ",
            ]
        )
        | st.text(max_size=5),
        max_size=30,
    )
)
def test_spans_of_shuffled_lexicon_words_stay_inside_the_text(parts: list[str]) -> None:
    text = "".join(parts)
    norm = NormalizedText.of(text).text
    for lex in (flame.lexicon(), prohibited.lexicon()):
        for hit in lex.scan(norm):
            assert norm[hit.start : hit.end] == hit.matched


ADVERSARIAL = {
    "digit run": "1" * 50_000 + "人に転送",
    "suppressed run": "あ" * 50_000 + "。防災行政無線の放送です",
    "many matches, one long sentence": "被災地で楽しい" * 7_000 + "訓練",
    "dotted run": "a." * 25_000,
    "emoji run": "🎉" * 50_000,
    "repeated keys": ("パスワード:" + "a" * 40) * 1_000,
}


@pytest.mark.parametrize("text", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_long_adversarial_drafts_are_scanned_in_linear_time(text: str) -> None:
    # Linear scans take well under a second here; a quadratic one would take minutes.
    norm = NormalizedText.of(text).text
    started = time.perf_counter()
    for lex in (flame.lexicon(), prohibited.lexicon()):
        lex.scan(norm)
    assert time.perf_counter() - started < 5


BOTH = Checker(CheckSettings(enabled_rules=("flame", "prohibited")))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["ﾃｽﾄ投稿", "ＲＴ希望", "が\u3099", "父兄", "。", "ｗ", "噂では", "🎉"])
        | st.text(max_size=4),
        max_size=20,
    )
)
def test_findings_quote_the_original_text_they_point_at(parts: list[str]) -> None:
    text = "".join(parts)
    for f in BOTH.check(DraftToCheck(text, DEFAULT_AT)).findings:
        assert 0 <= f.start < f.end <= len(text)
        assert f"「{text[f.start : f.end]}」" in f.message


def test_a_sentence_level_entry_quotes_the_whole_sentence(tmp_path: Path) -> None:
    lex = lexicon(
        tmp_path,
        """
        entries:
          - id: flame.politics
            severity: warning
            message: flame.politics.election
            report: sentence
            patterns: ['応援しています']
            requires: ['候補']
            hits: [{text: 田中候補を応援しています。, quote: 田中候補を応援しています。}]
            clean: [選手を応援しています。]
          - id: flame.politics
            name: word
            severity: warning
            message: flame.politics.election
            terms: [田中候補]
            hits: [田中候補です。]
            clean: [候補です。]
        """,
    )
    text = "講座のお知らせです。\n市議選の田中候補を応援しています。ご参加ください。"
    assert scan(lex, text) == [
        ("flame.politics", "市議選の田中候補を応援しています。"),
        ("flame.politics", "田中候補"),  # the word inside it is its own finding
    ]


def test_report_must_be_match_or_sentence(tmp_path: Path) -> None:
    with pytest.raises(RuleDataError, match="'report' must be 'match' or 'sentence'"):
        lexicon(
            tmp_path,
            """
            entries:
              - id: flame.politics
                severity: warning
                message: flame.politics.election
                report: paragraph
                terms: [候補]
                hits: [候補]
                clean: [選手]
            """,
        )
