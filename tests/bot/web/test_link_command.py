"""`postgate web link --as MEMBER`: the administrator's one-time sign-in link."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

from bot.cli import main
from tests.bot.web.conftest import Console

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def cli_env(console: Console, monkeypatch: pytest.MonkeyPatch) -> None:
    db = console.db
    url = db.engine.url.render_as_string(hide_password=False)
    if db.is_postgres:
        with db.engine.connect() as connection:
            schema = str(connection.exec_driver_sql("SHOW search_path").scalar())
        url += "?options=" + quote(f"-csearch_path={schema}")
    monkeypatch.setenv("POSTGATE_DATABASE_URL", url)
    monkeypatch.setenv("POSTGATE_CONFIG", str(REPO / "app.yaml"))
    monkeypatch.setenv("POSTGATE_WEB_URL", str(console.server.make_url("")).rstrip("/"))


@pytest.mark.usefixtures("cli_env")
async def test_the_printed_link_signs_in_once_within_15_minutes(
    console: Console, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["web", "link", "--as", "sato.keiko"], clock=console.clock) == 0
    out = capsys.readouterr().out
    assert "佐藤 恵子（sato.keiko）" in out
    assert "15分間有効" in out
    link = out.strip().splitlines()[-1]
    assert link.startswith(str(console.server.make_url("/signin/")))
    person = await console.browser()
    status, page = await person.post("/signin", {"token": link.rsplit("/", 1)[1]})
    assert status == 200
    assert "佐藤 恵子" in page

    assert main(["web", "link", "--as", "sato.keiko"], clock=console.clock) == 0
    late = capsys.readouterr().out.strip().splitlines()[-1]
    console.clock.now += timedelta(minutes=16)
    status, page = await (await console.browser()).post(
        "/signin", {"token": late.rsplit("/", 1)[1]}
    )
    assert status == 400


@pytest.mark.usefixtures("cli_env")
async def test_someone_not_in_app_yaml_gets_no_link(
    console: Console, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["web", "link", "--as", "nobody"], clock=console.clock) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "職員「nobody」は app.yaml にいません" in captured.err
