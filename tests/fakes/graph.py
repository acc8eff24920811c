"""A fake Graph API on 127.0.0.1 for one Facebook Page and one Instagram professional account.

All paths are under the version (``fake.api_url`` = ``{fake.url}/v21.0``). Every call needs a known
token (``Authorization: Bearer`` or ``access_token``) and the matching ``appsecret_proof`` (query or
form field) = HMAC-SHA256(app secret, token); otherwise the Graph error JSON (code 100 or 190).

Facebook: ``GET /{page}`` (profile fields), ``POST /{page}/feed`` (``message``, ``link``,
``attached_media``), ``POST /{page}/photos`` (``url``, ``caption``, ``published``),
``GET /{page}/posts`` (``fields``, ``since``, ``limit``, ``after``), ``GET /{post}``,
``DELETE /{post}``.
Instagram: ``GET /{ig-user}``, ``POST /{ig-user}/media`` (``image_url``/``video_url``,
``caption``, ``is_carousel_item``, ``media_type=CAROUSEL`` + ``children``),
``GET /{container}?fields=status_code``, ``POST /{ig-user}/media_publish`` (``creation_id``),
``GET /{ig-user}/media``, ``GET /{media}``, ``DELETE /{media}``.

Clients: ``FacebookClient(fake.facebook_credentials(), api_url=fake.api_url)`` and
``InstagramClient(fake.instagram_credentials(), api_url=fake.api_url)``. The tokens and the app
secret are fresh canary strings for each instance (``CANARY-…``).

State and switches (besides ``FakeServer``'s ``fail_next``, ``hang_next``, ``delay_next``,
``requests``):

- ``page_posts`` (the page's timeline; ``posted_to_page``: those created through the API),
  ``add_page_post(message)``: a post postgate never made; ``page``: the page profile (mutable);
- ``containers`` (every IG container by id), ``ig_media`` (the account's media;
  ``published_media``: those published through the API), ``add_ig_media(caption)``; ``ig_user``;
- ``script_containers(*statuses)``: containers created from now on report these statuses in turn
  (the last one sticks), e.g. ``("IN_PROGRESS", "FINISHED")``; default ``("FINISHED",)``.
  ``set_container_status(id, status)`` changes one container (``ERROR``, ``EXPIRED``, ...).
  ``media_publish`` refuses a container that is not FINISHED (code 9007 / 2207027);
- ``revoked``: every call → code 190 (an invalidated token);
- ``rate_limit_next(code=32, minutes=5, count=1, path=None)``: Graph rate-limit error with
  ``X-Business-Use-Case-Usage`` (``estimated_time_to_regain_access``);
  ``publish_limit_next(count=1)``: Instagram's 50-posts-per-24-h error (code 9 / 2207042).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.fakes.server import FakeServer, Recorded, recorded


@dataclass
class FakePagePost:
    id: str
    message: str
    created_time: datetime
    link: str = ""
    photo_url: str = ""
    attached_media: tuple[str, ...] = ()
    via_api: bool = True
    deleted: bool = False

    @property
    def permalink_url(self) -> str:
        return f"https://www.facebook.com/{self.id}"


@dataclass
class FakeContainer:
    id: str
    params: dict[str, str]
    statuses: list[str] = field(default_factory=lambda: ["FINISHED"])
    media_id: str = ""

    @property
    def status(self) -> str:
        return self.statuses[0]

    def read_status(self) -> str:
        status = self.statuses[0]
        if len(self.statuses) > 1:
            self.statuses.pop(0)
        return status


@dataclass
class FakeIgMedia:
    id: str
    caption: str
    timestamp: datetime
    container_id: str = ""
    via_api: bool = True
    deleted: bool = False

    @property
    def permalink(self) -> str:
        return f"https://www.instagram.com/p/{self.id[-8:]}/"


def graph_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def graph_error(
    message: str, *, code: int, subcode: int | None = None, kind: str = "OAuthException"
) -> dict[str, Any]:
    error: dict[str, Any] = {
        "message": message,
        "type": kind,
        "code": code,
        "fbtrace_id": "AbCdEfGhIjK",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


class FakeGraph(FakeServer):
    def __init__(self, *, version: str = "v21.0") -> None:
        tag = secrets.token_hex(6)
        self.version = version
        self.app_secret = f"CANARY-graph-app-secret-{tag}"
        self.page_id = "1010000000000001"
        self.page_token = f"CANARY-page-token-{tag}"
        self.ig_user_id = "17841400000000001"
        self.ig_token = f"CANARY-ig-token-{tag}"
        self.page: dict[str, Any] = {
            "id": self.page_id,
            "name": "みどり市",
            "username": "midori.city",
            "about": "みどり市の公式 Facebook ページです。",
            "website": "https://www.city.midori.example.jp/",
            "link": "https://www.facebook.com/midori.city",
            "picture": {"data": {"url": "https://scontent.example/midori.png"}},
        }
        self.ig_user: dict[str, Any] = {
            "id": self.ig_user_id,
            "username": "midori_city",
            "name": "みどり市",
            "biography": "みどり市の公式 Instagram です。",
            "website": "https://www.city.midori.example.jp/",
            "profile_picture_url": "https://scontent.example/midori_ig.png",
        }
        self.page_posts: list[FakePagePost] = []
        self.unpublished_photos: dict[str, str] = {}  # photo id -> url
        self.containers: dict[str, FakeContainer] = {}
        self.ig_media: list[FakeIgMedia] = []
        self.revoked = False
        self._script: tuple[str, ...] = ("FINISHED",)
        self._ids = itertools.count(1)
        super().__init__()

    @property
    def api_url(self) -> str:
        return f"{self.url}/{self.version}"

    def facebook_credentials(self) -> dict[str, str]:
        return {
            "page_id": self.page_id,
            "page_access_token": self.page_token,
            "app_secret": self.app_secret,
        }

    def instagram_credentials(self) -> dict[str, str]:
        return {
            "ig_user_id": self.ig_user_id,
            "access_token": self.ig_token,
            "app_secret": self.app_secret,
        }

    def proof(self, token: str) -> str:
        return hmac.new(self.app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()

    @property
    def posted_to_page(self) -> list[FakePagePost]:
        return [p for p in self.page_posts if p.via_api]

    @property
    def published_media(self) -> list[FakeIgMedia]:
        return [m for m in self.ig_media if m.via_api]

    def add_page_post(self, message: str, *, created_time: datetime | None = None) -> str:
        post = FakePagePost(
            id=self._page_post_id(),
            message=message,
            created_time=created_time or self.clock(),
            via_api=False,
        )
        self.page_posts.append(post)
        return post.id

    def add_ig_media(self, caption: str, *, timestamp: datetime | None = None) -> str:
        media = FakeIgMedia(
            id=self._long_id(), caption=caption, timestamp=timestamp or self.clock(), via_api=False
        )
        self.ig_media.append(media)
        return media.id

    def script_containers(self, *statuses: str) -> None:
        self._script = statuses or ("FINISHED",)

    def set_container_status(self, container_id: str, status: str) -> None:
        self.containers[container_id].statuses = [status]

    def rate_limit_next(
        self,
        *,
        code: int = 32,
        minutes: int = 5,
        count: int = 1,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        usage = {self.page_id: [{"type": "pages", "estimated_time_to_regain_access": minutes}]}
        self.fail_next(
            400,
            count=count,
            method=method,
            path=path,
            body=graph_error("(#32) Page request limit reached", code=code),
            headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
        )

    def publish_limit_next(self, *, count: int = 1) -> None:
        self.fail_next(
            400,
            count=count,
            method="POST",
            path=r".*/media_publish",
            body=graph_error("Application request limit reached", code=9, subcode=2207042),
        )

    def error_body(self, status: int) -> Any:
        if status >= 500:
            body = graph_error(
                "An unexpected error has occurred. Please retry your request later.", code=2
            )
            body["error"]["is_transient"] = True
            return body
        if status == 401:
            return graph_error("Error validating access token", code=190)
        if status == 429:
            return graph_error("(#4) Application request limit reached", code=4)
        return graph_error("(#100) Invalid parameter", code=100)

    # -- routing ------------------------------------------------------------------------------

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_route("*", "/{version}/{tail:.*}", self._dispatch)

    async def _dispatch(self, request: web.Request) -> web.Response:
        rec = recorded(request)
        if request.match_info["version"] != self.version:
            return _error(graph_error("Unknown path components", code=2500), 400)
        owner = self._authorise(rec)
        if isinstance(owner, web.Response):
            return owner
        parts = [p for p in request.match_info["tail"].split("/") if p]
        if len(parts) == 1:
            return self._node(rec, parts[0])
        if len(parts) == 2:
            node, edge = parts
            if node != owner:
                return _error(
                    graph_error("(#10) Application does not have permission", code=10), 400
                )
            handler = {
                ("POST", self.page_id, "feed"): self._feed,
                ("POST", self.page_id, "photos"): self._photos,
                ("GET", self.page_id, "posts"): self._posts,
                ("GET", self.page_id, "feed"): self._posts,
                ("POST", self.ig_user_id, "media"): self._create_container,
                ("POST", self.ig_user_id, "media_publish"): self._media_publish,
                ("GET", self.ig_user_id, "media"): self._media_list,
            }.get((rec.method, node, edge))
            if handler is not None:
                return handler(rec)
        return _error(graph_error("Unsupported request", code=100, subcode=33), 400)

    def _authorise(self, rec: Recorded) -> str | web.Response:
        """The id the token belongs to, or the Graph error."""
        header = rec.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip() if header else rec.param("access_token")
        owners = {self.page_token: self.page_id, self.ig_token: self.ig_user_id}
        if self.revoked or not token or token not in owners:
            return _error(
                graph_error(
                    "Error validating access token: The session has been invalidated.",
                    code=190,
                    subcode=460,
                ),
                400,
            )
        proof = rec.param("appsecret_proof")
        if not proof:
            return _error(
                graph_error(
                    "API calls from the server require an appsecret_proof argument",
                    code=100,
                    kind="GraphMethodException",
                ),
                400,
            )
        if not hmac.compare_digest(proof, self.proof(token)):
            return _error(
                graph_error(
                    "Invalid appsecret_proof provided in the API argument",
                    code=100,
                    kind="GraphMethodException",
                ),
                400,
            )
        return owners[token]

    # -- nodes --------------------------------------------------------------------------------

    def _node(self, rec: Recorded, node_id: str) -> web.Response:
        fields = set((rec.param("fields") or "id").split(","))
        if node_id == self.page_id and rec.method == "GET":
            return web.json_response(_only(self.page, fields))
        if node_id == self.ig_user_id and rec.method == "GET":
            return web.json_response(_only(self.ig_user, fields))
        if node_id in self.containers and rec.method == "GET":
            container = self.containers[node_id]
            status = container.read_status()
            return web.json_response(
                _only(
                    {
                        "id": container.id,
                        "status_code": status,
                        "status": f"{status}: scripted by the fake",
                    },
                    fields,
                )
            )
        for post in self.page_posts:
            if post.id == node_id and not post.deleted:
                if rec.method == "DELETE":
                    post.deleted = True
                    return web.json_response({"success": True})
                if rec.method == "GET":
                    return web.json_response(_only(_page_post_json(post), fields))
        for media in self.ig_media:
            if media.id == node_id and not media.deleted:
                if rec.method == "DELETE":
                    media.deleted = True
                    return web.json_response({"success": True})
                if rec.method == "GET":
                    return web.json_response(_only(_media_json(media), fields))
        return _error(
            graph_error(
                f"Unsupported {rec.method.lower()} request. Object with ID '{node_id}' does not "
                "exist, cannot be loaded due to missing permissions, or does not support this "
                "operation.",
                code=100,
                subcode=33,
                kind="GraphMethodException",
            ),
            400,
        )

    # -- Facebook -----------------------------------------------------------------------------

    def _feed(self, rec: Recorded) -> web.Response:
        message = rec.param("message") or ""
        attached: tuple[str, ...] = ()
        if raw := rec.param("attached_media"):
            attached = tuple(str(item["media_fbid"]) for item in json.loads(raw))
            if any(a not in self.unpublished_photos for a in attached):
                return _error(graph_error("(#100) Invalid media_fbid", code=100), 400)
        if not message and not attached and not rec.param("link"):
            return _error(graph_error("(#100) Missing message or attachment", code=100), 400)
        post = FakePagePost(
            id=self._page_post_id(),
            message=message,
            created_time=self.clock(),
            link=rec.param("link") or "",
            attached_media=attached,
        )
        self.page_posts.append(post)
        return web.json_response({"id": post.id})

    def _photos(self, rec: Recorded) -> web.Response:
        url = rec.param("url")
        if not url:
            return _error(graph_error("(#324) Requires upload file", code=324), 400)
        photo_id = self._long_id()
        if rec.param("published") == "false":
            self.unpublished_photos[photo_id] = url
            return web.json_response({"id": photo_id})
        post = FakePagePost(
            id=self._page_post_id(),
            message=rec.param("caption") or rec.param("message") or "",
            created_time=self.clock(),
            photo_url=url,
        )
        self.page_posts.append(post)
        return web.json_response({"id": photo_id, "post_id": post.id})

    def _posts(self, rec: Recorded) -> web.Response:
        fields = set((rec.param("fields") or "id,message,created_time").split(","))
        since = rec.param("since")
        visible = [
            p
            for p in reversed(self.page_posts)
            if not p.deleted and (since is None or p.created_time.timestamp() >= int(since))
        ]
        return _paged(rec, [_only(_page_post_json(p), fields) for p in visible], self.url)

    # -- Instagram ----------------------------------------------------------------------------

    def _create_container(self, rec: Recorded) -> web.Response:
        params = {**rec.query, **rec.form}
        params.pop("appsecret_proof", None)
        params.pop("access_token", None)
        media_type = params.get("media_type", "IMAGE")
        if media_type == "CAROUSEL":
            children = [c for c in params.get("children", "").split(",") if c]
            if not 2 <= len(children) <= 10 or any(c not in self.containers for c in children):
                return _error(graph_error("(#100) Invalid children", code=100), 400)
        elif media_type in {"VIDEO", "REELS"}:
            if not params.get("video_url"):
                return _error(graph_error("The parameter video_url is required", code=100), 400)
        elif not params.get("image_url"):
            return _error(graph_error("The parameter image_url is required", code=100), 400)
        container = FakeContainer(id=self._long_id(), params=params, statuses=list(self._script))
        self.containers[container.id] = container
        return web.json_response({"id": container.id})

    def _media_publish(self, rec: Recorded) -> web.Response:
        container = self.containers.get(rec.param("creation_id") or "")
        if container is None or container.params.get("is_carousel_item") == "true":
            return _error(graph_error("Invalid creation_id", code=100, subcode=33), 400)
        if container.status != "FINISHED":
            return _error(
                graph_error(
                    f"The media is not ready for publishing (container {container.status})",
                    code=9007,
                    subcode=2207027,
                ),
                400,
            )
        media = FakeIgMedia(
            id=self._long_id(),
            caption=container.params.get("caption", ""),
            timestamp=self.clock(),
            container_id=container.id,
        )
        self.ig_media.append(media)
        container.media_id = media.id
        container.statuses = ["PUBLISHED"]
        return web.json_response({"id": media.id})

    def _media_list(self, rec: Recorded) -> web.Response:
        fields = set((rec.param("fields") or "id").split(","))
        visible = [m for m in reversed(self.ig_media) if not m.deleted]
        return _paged(rec, [_only(_media_json(m), fields) for m in visible], self.url)

    # -- ids ----------------------------------------------------------------------------------

    def _long_id(self) -> str:
        return str(17_900_000_000_000_000 + next(self._ids))

    def _page_post_id(self) -> str:
        return f"{self.page_id}_{122_000_000_000_000 + next(self._ids)}"


def _error(body: dict[str, Any], status: int) -> web.Response:
    return web.json_response(body, status=status)


def _only(item: dict[str, Any], fields: set[str]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k in fields or k == "id"}


def _page_post_json(post: FakePagePost) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": post.id,
        "created_time": graph_time(post.created_time),
        "permalink_url": post.permalink_url,
    }
    if post.message:
        item["message"] = post.message
    return item


def _media_json(media: FakeIgMedia) -> dict[str, Any]:
    return {
        "id": media.id,
        "caption": media.caption,
        "permalink": media.permalink,
        "timestamp": graph_time(media.timestamp),
        "media_type": "IMAGE",
    }


def _paged(rec: Recorded, items: list[dict[str, Any]], base_url: str) -> web.Response:
    limit = int(rec.param("limit") or 25)
    offset = int(rec.param("after") or 0)
    page = items[offset : offset + limit]
    body: dict[str, Any] = {"data": page}
    if offset + limit < len(items):
        after = str(offset + limit)
        body["paging"] = {
            "cursors": {"before": str(offset), "after": after},
            "next": f"{base_url}{rec.path}?after={after}",
        }
    return web.json_response(body)
