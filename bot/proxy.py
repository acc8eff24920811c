"""The outbound proxy for clients that do not read it from the environment themselves.

aiohttp (``trust_env=True``) and requests honour ``HTTPS_PROXY``, ``HTTP_PROXY`` and ``NO_PROXY``
on their own. slack_sdk reads ``HTTPS_PROXY``/``HTTP_PROXY`` but not ``NO_PROXY``, so the Slack
Web API client gets its proxy from here, chosen for the URL it calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit


def proxy_for(url: str, environ: Mapping[str, str]) -> str | None:
    """The proxy for ``url`` from ``environ`` (``https_proxy`` for https, ``http_proxy`` for
    http, upper or lower case), or None when there is none or ``NO_PROXY`` covers its host."""
    proxies: dict[str, str] = {}
    for name, value in environ.items():
        key = name.lower()
        if key.endswith("_proxy") and value.strip():
            proxies.setdefault(key.removesuffix("_proxy"), value.strip())
    parts = urlsplit(url)
    host = parts.hostname
    if not host or _bypassed(host, proxies.get("no", "")):
        return None
    return proxies.get(parts.scheme)


def _bypassed(host: str, no_proxy: str) -> bool:
    """``NO_PROXY`` as curl and requests read it: ``*``, hosts, and domains (``.lg.jp``)."""
    host = host.lower()
    for entry in no_proxy.lower().replace(" ", "").split(","):
        name = entry.lstrip(".").split(":")[0]
        if entry == "*" or (name and (host == name or host.endswith("." + name))):
            return True
    return False
