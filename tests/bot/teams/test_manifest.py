"""``postgate teams manifest`` writes the package the Teams admin uploads."""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

import pytest

from bot.cli import main
from tests.fakes.teams import APP_ID


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_package_has_the_manifest_japanese_names_and_two_icons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "postgate-teams.zip"
    code = main(
        [
            "teams",
            "manifest",
            "--app-id",
            APP_ID,
            "--url",
            "https://postgate.example.jp",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    assert "アップロード" in capsys.readouterr().out
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == [
            "color.png",
            "ja-jp.json",
            "manifest.json",
            "outline.png",
        ]
        manifest = json.loads(archive.read("manifest.json"))
        japanese = json.loads(archive.read("ja-jp.json"))
        assert png_size(archive.read("color.png")) == (192, 192)
        assert png_size(archive.read("outline.png")) == (32, 32)
    assert manifest["manifestVersion"] == "1.19"
    [bot] = manifest["bots"]
    assert bot["botId"] == APP_ID
    assert bot["scopes"] == ["team", "personal"]
    assert {"name": "ChannelMessage.Read.Group", "type": "Application"} in manifest[
        "authorization"
    ]["permissions"]["resourceSpecific"]
    assert manifest["validDomains"] == ["postgate.example.jp"]
    assert manifest["localizationInfo"]["additionalLanguages"] == [
        {"languageTag": "ja-jp", "file": "ja-jp.json"}
    ]
    assert "SNS" in japanese["name.full"]


@pytest.mark.parametrize(
    ("app_id", "url", "said"),
    [
        ("not-a-guid", "https://postgate.example.jp", "GUID"),
        (APP_ID, "http://postgate.example.jp", "https"),
    ],
)
def test_bad_arguments_are_refused_in_japanese_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], app_id: str, url: str, said: str
) -> None:
    out = tmp_path / "p.zip"
    assert main(["teams", "manifest", "--app-id", app_id, "--url", url, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert said in err
    assert "でなければ" in err or "ではありません" in err
    assert not out.exists()
