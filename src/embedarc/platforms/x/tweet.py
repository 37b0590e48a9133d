"""A tweet as X's services answer it, before it becomes a post (`to_post`).

The syndication API, fxtwitter, X's GraphQL API and web archives' captures of their answers
are each read into this one shape.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...model import MediaKind
from .urls import status_url

# X allows 4 media a tweet: an answer listing more is hostile, and each would be asked for
# (live, then in every web archive). The cap the other platforms keep.
MAX_MEDIA = 64


@dataclass(frozen=True)
class TweetMedia:
    """One piece of footage a tweet carries, with the URL of its original file."""

    kind: MediaKind
    url: str  # best progressive mp4, or the photo at name=orig
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    hls_url: str | None = None  # used only when no progressive file exists


@dataclass(frozen=True)
class Tweet:
    id: str
    screen_name: str | None
    name: str | None
    text: str
    created_at: str | None  # ISO 8601 UTC
    media: tuple[TweetMedia, ...] = ()
    quoted: Tweet | None = None
    source: str = "syndication"  # which service answered: syndication, fxtwitter, graphql, ytdlp
    retweeted: Tweet | None = None  # a retweet's original, which holds the media
    card: str | None = None  # the card's name ("summary", "player", …) of a tweet with one

    @property
    def url(self) -> str:
        return status_url(self.id, self.screen_name)

    def all_media(self) -> tuple[tuple[Tweet, TweetMedia], ...]:
        """This tweet's media, then the retweeted original's, then the quoted tweet's."""
        own = tuple((self, m) for m in self.media)
        original = self.retweeted.all_media() if self.retweeted else ()
        return own + original + (self.quoted.all_media() if self.quoted else ())
