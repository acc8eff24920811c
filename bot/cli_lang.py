"""The CLI in the reader's language: which language, and the parser's texts from the catalogue.

Japanese unless ``--lang en`` is on the command line or ``POSTGATE_LANG=en`` is set. The parser is
built with English help strings (what a developer reads in the code); ``localise`` then replaces
every help text, description and heading by the catalogue's (``help.*`` keys in
``workflows/messages/cli_help.yaml``) and gives every command a ``--lang`` option. argparse's own
usage errors are reworded by ``LocalisedParser.error``.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import NoReturn

from workflows.catalogue import Lang, keys, message

LANG_ENV = "POSTGATE_LANG"


def resolve_lang(argv: Sequence[str], environ: Mapping[str, str]) -> Lang:
    """``--lang X`` (or ``--lang=X``) anywhere in ``argv``, else ``$POSTGATE_LANG``, else ja."""
    wanted: str | None = None
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            wanted = argv[i + 1]
        elif arg.startswith("--lang="):
            wanted = arg.removeprefix("--lang=")
    for value in (wanted, environ.get(LANG_ENV)):
        if value and value.strip().lower() in {lang.value for lang in Lang}:
            return Lang(value.strip().lower())
    return Lang.JA


class LocalisedParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are in ``lang`` (set by ``localise``)."""

    lang: Lang = Lang.JA

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, _text("argparse.error", self.lang, prog=self.prog, message=self._say(message)))

    def _say(self, text: str) -> str:
        for pattern, key in _ARGPARSE_ERRORS:
            match = pattern.fullmatch(text)
            if match:
                parts = {k: _unquoted(v) for k, v in match.groupdict().items()}
                return _text(key, self.lang, **parts).rstrip("\n")
        return text


_ARGPARSE_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.DOTALL), key)
    for pattern, key in (
        (r"the following arguments are required: (?P<names>.*)", "argparse.required"),
        (
            r"argument (?P<argument>.+?): invalid choice: (?P<value>.*) \(choose from "
            r"(?P<choices>.*)\)",
            "argparse.invalid_choice",
        ),
        (
            r"argument (?P<argument>.+?): invalid (?P<type>\S+) value: (?P<value>.*)",
            "argparse.invalid_value",
        ),
        (r"argument (?P<argument>.+?): expected one argument", "argparse.expected_one"),
        (
            r"argument (?P<argument>.+?): not allowed with argument (?P<other>.*)",
            "argparse.not_allowed_with",
        ),
        (r"one of the arguments (?P<names>.*) is required", "argparse.one_of_required"),
        (r"unrecognized arguments: (?P<names>.*)", "argparse.unrecognized"),
        (r"ambiguous option: (?P<option>\S+) could match (?P<matches>.*)", "argparse.ambiguous"),
    )
)


def _unquoted(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == "'" else value


def _text(key: str, lang: Lang, **params: object) -> str:
    return message(key, lang, **params) + ("\n" if key == "argparse.error" else "")


def localise(parser: argparse.ArgumentParser, lang: Lang) -> None:
    """Every text of ``parser`` and its subcommands in ``lang``; ``--lang`` on every command."""
    for path, command in _commands(parser, "postgate"):
        _localise_one(command, path, lang)


def _commands(
    parser: argparse.ArgumentParser, path: str
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, name if path == "postgate" else f"{path}.{name}")


def help_key(path: str, dest: str) -> str | None:
    """The catalogue key of an option's help: the command's own, else the shared one."""
    known = keys()
    for key in (f"help.opt.{path}.{dest}", f"help.opt.{dest}"):
        if key in known:
            return key
    return None


def _localise_one(parser: argparse.ArgumentParser, path: str, lang: Lang) -> None:
    known = keys()
    if isinstance(parser, LocalisedParser):
        parser.lang = lang
    parser.formatter_class = _formatter(lang)
    for key in (f"help.desc.{path}", f"help.cmd.{path}"):
        if key in known:
            parser.description = message(key, lang)
            break
    parser._positionals.title = message("help.positionals", lang)
    parser._optionals.title = message("help.optionals", lang)
    dests = {action.dest for action in parser._actions}
    if "lang" not in dests and not any(
        isinstance(a, argparse._SubParsersAction) for a in parser._actions
    ):
        parser.add_argument("--lang", choices=[x.value for x in Lang])
    for action in parser._actions:
        if action.dest == "lang":
            action.default = lang.value
        if isinstance(action, argparse._SubParsersAction):
            action.metavar = message("help.commands", lang)
            for choice in action._choices_actions:
                key = f"help.cmd.{choice.dest if path == 'postgate' else f'{path}.{choice.dest}'}"
                if key in known:
                    choice.help = message(key, lang)
            continue
        option_key = help_key(path, action.dest)
        if option_key is not None:
            action.help = message(option_key, lang)


def _formatter(lang: Lang) -> type[argparse.HelpFormatter]:
    class Formatter(argparse.HelpFormatter):
        def add_usage(
            self,
            usage: str | None,
            actions: Iterable[argparse.Action],
            groups: Iterable[argparse._MutuallyExclusiveGroup],
            prefix: str | None = None,
        ) -> None:
            super().add_usage(usage, actions, groups, prefix or message("help.usage", lang))

    return Formatter


def display_width(text: str) -> int:
    """Columns a text takes in a terminal (CJK and full-width characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
