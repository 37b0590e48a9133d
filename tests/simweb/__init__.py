"""A simulated web for tests: a loopback proxy that answers as the real services would.

    with SimWeb() as web:
        spec = web.tweet("1478...", "user", "User", "text", created_at, media=[Video()])
        client = web.client()

Subprocesses get the same world through web.env() (proxy variables and the test CA).
"""

from __future__ import annotations

from .messages import Request, Response
from .tweets import Gif, MediaFile, Photo, TweetSpec, Video, snowflake
from .twitter_json import syndication_token
from .web import SimWeb

__all__ = [
    "Gif",
    "MediaFile",
    "Photo",
    "Request",
    "Response",
    "SimWeb",
    "TweetSpec",
    "Video",
    "snowflake",
    "syndication_token",
]
