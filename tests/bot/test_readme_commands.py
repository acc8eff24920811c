"""Every `postgate …` command the README shows exists: its `--help` runs, in Japanese."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from bot.cli import _parser, main

REPO = Path(__file__).resolve().parents[2]
_SPAN = re.compile(r"`([^`\n]+)`")
_WORD = re.compile(r"^[a-z][a-z-]*$")


def documented_commands() -> list[tuple[str, ...]]:
    """The command words after `postgate` in code spans and code blocks of the README."""
    found: dict[tuple[str, ...], None] = {}
    fenced = False
    for line in (REPO / "README.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        texts = [line] if fenced else _SPAN.findall(line)
        for text in texts:
            for match in re.finditer(r"(?:^\s*|/bin/)postgate((?: [a-z][a-z-]*)+)", text):
                words = tuple(match.group(1).split())
                found[_command_path(words)] = None
    return list(found)


def _command_path(words: tuple[str, ...]) -> tuple[str, ...]:
    """As many words as name (sub)commands; the first must name one."""
    parser: argparse.ArgumentParser = _parser()
    path: list[str] = []
    for word in words:
        subcommands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subcommands or not _WORD.match(word) or word not in subcommands[0].choices:
            break
        parser = subcommands[0].choices[word]
        path.append(word)
    return tuple(path) or words[:1]


def test_the_readme_documents_the_commands() -> None:
    commands = documented_commands()
    for expected in (("doctor",), ("init",), ("backup",), ("restore",), ("posts", "list")):
        assert expected in commands


@pytest.mark.parametrize("command", documented_commands(), ids=" ".join)
def test_each_documented_command_has_help(
    command: tuple[str, ...], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POSTGATE_LANG", raising=False)
    with pytest.raises(SystemExit) as leaving:
        main([*command, "--help"])
    assert leaving.value.code == 0
    shown = capsys.readouterr().out
    assert shown.startswith(f"使い方: postgate {' '.join(command)}")
