from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def fresh_rule_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Rule data is built and its specs run once per test session, never taken from ~/.cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POSTGATE_CACHE_DIR", str(tmp_path_factory.mktemp("rule-cache")))
        yield
