"""The rule data cache: a build is read back for the same inputs, made again for others."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflows.checks.data import cached


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
