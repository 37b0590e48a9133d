"""Twitter/X as seen from outside: redirects, the JavaScript shell, the guest-token and GraphQL
APIs, the syndication API, fxtwitter, and the pbs/video CDNs for registered tweets."""

from __future__ import annotations

import html
import itertools
import json
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from .messages import (
    Request,
    Response,
    file_response,
    html_response,
    json_response,
    redirect_response,
)
from .tweets import BuiltMedia, TweetSpec
from .twitter_json import (
    DELETED_TEXT,
    fxtwitter_json,
    graphql_document,
    graphql_tombstone,
    graphql_tweet,
    syndication_json,
    syndication_token,
    syndication_tombstone,
)

if TYPE_CHECKING:
    from .twitter_json import JSON
    from .web import SimWeb

STATUS_RE = re.compile(
    r"^/(?:i/web|[A-Za-z0-9_]{1,15})/status(?:es)?/(\d+)(?:/(?:photo|video)/\d+)?/?$"
)
GRAPHQL_RE = re.compile(r"^/i/api/graphql/[A-Za-z0-9_-]+/TweetResultByRestId$")
FX_RE = re.compile(r"^/(?:[A-Za-z0-9_]{1,15}/)?status/(\d+)/?$")

# x-rate-limit-reset of a 429: epoch seconds when the window reopens.
RATE_LIMIT_RESET = "1641291164"

X_SHELL = """<!DOCTYPE html><html dir="ltr" lang="en"><head><meta charset="utf-8">
<meta name="viewport"
  content="width=device-width,initial-scale=1,maximum-scale=1,user-scalable=0,viewport-fit=cover">
<link rel="preconnect" href="//abs.twimg.com">
<link rel="manifest" href="/manifest.json" crossorigin="use-credentials">
<title>X</title><meta name="theme-color" content="#FFFFFF">
<script nonce="ZmFrZQ==">window.__INITIAL_STATE__={"featureSwitch":{},"settings":{}};
window.__META_DATA__={"env":"prod"};</script>
</head><body style="background-color: #FFFFFF;">
<noscript><form action="https://x.com/?mx=1" method="POST"
  style="background-color: #fff; position: fixed; top: 0; left: 0; right: 0; bottom: 0;">
<div><p>We've detected that JavaScript is disabled in this browser. Please enable JavaScript or
switch to a supported browser to continue using x.com.</p></div></form></noscript>
<div id="react-root" style="height:100%;display:flex;"></div>
<script src="https://abs.twimg.com/responsive-web/client-web/main.6f1b6f4a.js" nonce="ZmFrZQ=="
  ></script></body></html>"""


def unsafe_link_page(target: str) -> str:
    """Twitter's interstitial for links it flags: a 200 page whose only way on is a link."""
    t = html.escape(target, quote=True)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>X / Warning</title></head>"
        f'<body><div class="interstitial"><h1>Warning: this link may be unsafe</h1>'
        f"<p>The link you are trying to access has been identified by X or our partners as being "
        f'potentially spammy or unsafe.</p><p class="url">{t}</p>'
        f'<a class="continue" href="{t}">Ignore this warning and continue</a></div></body></html>'
    )


class TwitterServices:
    """Installs Twitter's hosts on a SimWeb and answers for the tweets registered with it."""

    def __init__(self, web: SimWeb) -> None:
        self.web = web
        self._tokens: set[str] = set()
        self._token_lock = threading.Lock()
        # Recorded TweetResultByRestId answers, by tweet id: served as they are, in place of
        # the ones built from registered tweets.
        self.recorded: dict[str, JSON] = {}
        for host in (
            "twitter.com",
            "www.twitter.com",
            "mobile.twitter.com",
            "m.twitter.com",
            "www.x.com",
            "mobile.x.com",
        ):
            web.host(host, self._to_x)
        web.host("x.com", self._x)
        web.host("api.x.com", self._api)
        web.host("api.twitter.com", self._api)
        web.host("cdn.syndication.twimg.com", self._syndication)
        web.host("api.fxtwitter.com", self._fxtwitter)
        web.page(
            "https://platform.twitter.com/widgets.js",
            "/* widgets */",
            "application/javascript; charset=utf-8",
        )

    # --- registration

    def register(self, t: TweetSpec) -> None:
        self.web.tweets[t.id] = t
        if t.items:
            self.web.tco(t.media_code, t.media_link_target)
            # pic.x.com is how X writes the same short link since 2024
            hosts = ("pic.twitter.com", "pic.x.com")
            for scheme, host in itertools.product(("https", "http"), hosts):
                url = f"{scheme}://{host}/{t.media_code}"
                if t.pic_style == "meta":
                    self.web.meta_refresh(url, t.media_link_target)
                else:
                    self.web.redirect(url, t.media_link_target, 301)
        for item in t.items:
            self._register_media(item)

    def _register_media(self, item: BuiltMedia) -> None:
        if item.kind == "photo":
            handler = _photo_handler(item)
            self.web.route(item.thumb_url, handler)  # .../media/<key>.jpg?name=...
            self.web.route(
                item.thumb_url.removesuffix(".jpg"), handler
            )  # .../media/<key>?format=jpg
            others = [f for f in item.files if "/media/" not in f.url]
        else:
            others = item.files
        for f in others:
            # query strings such as ?tag=12 are ignored by the CDN, so register query-insensitively
            self.web.file(f.url.split("?")[0], f.data, f.content_type)

    # --- twitter.com and x.com pages

    def _to_x(self, req: Request) -> Response:
        return redirect_response(
            f"https://x.com{req.path}" + (f"?{req.query}" if req.query else ""), 301
        )

    def _x(self, req: Request) -> Response | None:
        if GRAPHQL_RE.match(req.path):
            return self._graphql(req)
        if req.path == "/safety/unsafe_link_warning":
            target = req.params.get("unsafe_link", "")
            return html_response(unsafe_link_page(target)) if target else None
        if STATUS_RE.match(req.path) or req.path in ("/", "/home"):
            # the tweet is rendered by JavaScript from the API, never in the HTML
            return html_response(
                X_SHELL, headers={"Cache-Control": "no-cache, no-store, max-age=0"}
            )
        return None

    # --- guest token + GraphQL

    def _api(self, req: Request) -> Response | None:
        if req.path != "/1.1/guest/activate.json":
            return None
        if req.method != "POST":
            return json_response(
                {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]}, 404
            )
        if not req.headers.get("authorization", "").startswith("Bearer "):
            return json_response(
                {"errors": [{"code": 215, "message": "Bad Authentication data."}]}, 400
            )
        with self._token_lock:
            token = str(1_476_000_000_000_000_000 + len(self._tokens) * 7919 + 1234)
            self._tokens.add(token)
        return json_response({"guest_token": token})

    def _authorised(self, req: Request) -> tuple[bool, bool]:
        """(may call the API, is logged in); logged in = auth_token + ct0 cookies + same CSRF."""
        cookies = req.cookies
        logged_in = (
            bool(cookies.get("auth_token"))
            and bool(cookies.get("ct0"))
            and (req.headers.get("x-csrf-token") == cookies.get("ct0"))
        )
        with self._token_lock:
            guest = req.headers.get("x-guest-token", "") in self._tokens
        return logged_in or guest, logged_in

    def _graphql(self, req: Request) -> Response:
        if not req.headers.get("authorization", "").startswith("Bearer "):
            return json_response(
                {"errors": [{"code": 215, "message": "Bad Authentication data."}]}, 400
            )
        allowed, logged_in = self._authorised(req)
        if not allowed:
            return json_response({"errors": [{"code": 239, "message": "Bad guest token."}]}, 403)
        query = parse_qs(req.query)
        if "features" not in query:
            return json_response(
                {
                    "errors": [
                        {
                            "message": "The following features cannot be null: "
                            "creator_subscriptions_tweet_preview_api_enabled",
                            "code": 336,
                        }
                    ]
                },
                400,
            )
        try:
            tweet_id = str(json.loads(query["variables"][0])["tweetId"])
        except (KeyError, IndexError, ValueError, TypeError):
            return json_response(
                {"errors": [{"message": 'Variable "$tweetId" is invalid', "code": 366}]}, 400
            )
        if tweet_id in self.recorded:
            return json_response(self.recorded[tweet_id])
        t = self.web.tweets.get(tweet_id)
        if t is None:
            return json_response(graphql_document(None))
        mode = t.graphql
        if mode == "ratelimit":
            return json_response(
                {"errors": [{"code": 88, "message": "Rate limit exceeded."}]},
                429,
                {
                    "x-rate-limit-limit": "150",
                    "x-rate-limit-remaining": "0",
                    "x-rate-limit-reset": RATE_LIMIT_RESET,
                },
            )
        if mode == "error":
            return json_response({"errors": [{"code": 131, "message": "Internal error"}]}, 500)
        if mode == "tombstone":
            return json_response(graphql_document(graphql_tombstone()))
        if mode in ("unavailable", "deleted"):
            return json_response(graphql_document(None))
        if mode == "suspended" or (mode == "nsfw" and not logged_in):
            reason = "Suspended" if mode == "suspended" else "NsfwLoggedOut"
            return json_response(
                graphql_document({"__typename": "TweetUnavailable", "reason": reason})
            )
        if mode == "protected" and not logged_in:
            return json_response(
                graphql_document({"__typename": "TweetUnavailable", "reason": "Protected"})
            )
        return json_response(graphql_document(graphql_tweet(t)))

    # --- syndication and fxtwitter

    def _syndication(self, req: Request) -> Response | None:
        if req.path != "/tweet-result":
            return None
        tweet_id = req.params.get("id", "")
        t = self.web.tweets.get(tweet_id)
        # a wrong token looks exactly like a missing tweet: an empty 404
        if (
            t is None
            or req.params.get("token") != syndication_token(tweet_id)
            or t.syndication == "missing"
        ):
            return Response(404, {"Content-Type": "application/json; charset=utf-8"}, b"")
        if t.syndication == "error":
            return Response(500, {"Content-Type": "text/plain"}, b"Internal Server Error")
        if t.syndication == "tombstone":
            return json_response(syndication_tombstone())
        if t.syndication == "deleted":
            return json_response(syndication_tombstone(DELETED_TEXT))
        return json_response(syndication_json(t))

    def _fxtwitter(self, req: Request) -> Response | None:
        m = FX_RE.match(req.path)
        if m is None:
            return None
        t = self.web.tweets.get(m.group(1))
        if t is None or t.fxtwitter == "missing":
            return json_response({"code": 404, "message": "NOT_FOUND"}, 404)
        if t.fxtwitter == "error":
            return json_response({"code": 500, "message": "API_FAIL"}, 500)
        return json_response(fxtwitter_json(t))


def _photo_handler(item: BuiltMedia) -> Callable[[Request], Response]:
    """pbs.twimg.com/media/<key>.jpg?name=… and /media/<key>?format=jpg&name=…; no name = medium."""

    def handle(req: Request) -> Response:
        params = req.params
        if not req.path.endswith(".jpg") and params.get("format", "jpg") != "jpg":
            return Response(404, {"Content-Type": "text/plain"}, b"")
        data = item.renditions.get(params.get("name") or "medium")
        if data is None:
            return Response(404, {"Content-Type": "text/plain"}, b"")
        return file_response(req, data, "image/jpeg")

    return handle
