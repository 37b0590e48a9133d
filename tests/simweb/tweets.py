"""Tweets as the world model knows them: ids, texts, service modes and their media items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .twimg import (
    PHOTO_RENDITIONS,
    BuiltMedia,
    Gif,
    MediaFile,
    Photo,
    Video,
    build_gif,
    build_photo,
    build_video,
    seed_for,
    short_code,
)

TWITTER_EPOCH_MS = 1288834974657

SYNDICATION_MODES = ("ok", "missing", "tombstone", "deleted", "error")
FXTWITTER_MODES = ("ok", "missing", "error")
GRAPHQL_MODES = (
    "ok",
    "tombstone",
    "deleted",  # {"data":{"tweetResult":{}}}, what X answers for a deleted tweet
    "protected",
    "nsfw",  # TweetUnavailable NsfwLoggedOut for guests
    "suspended",  # TweetUnavailable Suspended
    "unavailable",
    "error",
    "ratelimit",
)
PIC_STYLES = ("301", "meta")

__all__ = [
    "PHOTO_RENDITIONS",
    "BuiltMedia",
    "Gif",
    "MediaFile",
    "Photo",
    "TweetSpec",
    "Video",
    "snowflake",
    "snowflake_time",
]


def snowflake(when: datetime, seq: int = 0, worker: int = 0) -> str:
    """A Twitter snowflake id for the moment `when` (19 digits for any date after 2015)."""
    ms = int(when.timestamp() * 1000)
    return str(((ms - TWITTER_EPOCH_MS) << 22) | ((worker & 0x3FF) << 12) | (seq & 0xFFF))


def snowflake_time(id: str) -> datetime:
    return datetime.fromtimestamp(((int(id) >> 22) + TWITTER_EPOCH_MS) / 1000, UTC)


@dataclass
class TweetSpec:
    """A registered tweet: what the services answer for it, and what an archive of it must hold."""

    id: str
    screen_name: str
    name: str
    text: str  # as the APIs give it: ends with the media t.co link when there is media
    created_at: datetime
    media: list[Photo | Video | Gif]
    quoted: TweetSpec | None
    syndication: str
    fxtwitter: str
    graphql: str
    pic_style: str
    media_code: str
    user_id: str
    items: list[BuiltMedia]

    @classmethod
    def build(
        cls,
        id: str,
        screen_name: str,
        name: str,
        text: str,
        created_at: datetime,
        media: list[Photo | Video | Gif],
        quoted: TweetSpec | None,
        *,
        syndication: str,
        fxtwitter: str,
        graphql: str,
        pic_style: str,
        media_code: str | None,
        cache_dir: Path | None,
    ) -> TweetSpec:
        for value, allowed in (
            (syndication, SYNDICATION_MODES),
            (fxtwitter, FXTWITTER_MODES),
            (graphql, GRAPHQL_MODES),
            (pic_style, PIC_STYLES),
        ):
            if value not in allowed:
                raise ValueError(f"{value!r} is not one of {allowed}")
        if not (id.isdigit() and 15 <= len(id) <= 20):
            raise ValueError(f"tweet id {id!r} is not a snowflake")
        if created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=UTC)
        code = media_code or short_code(id)
        if media and f"https://t.co/{code}" not in text:
            text = f"{text} https://t.co/{code}"
        items: list[BuiltMedia] = []
        for index, item in enumerate(media, 1):
            # media are uploaded shortly before the tweet is posted
            media_id = snowflake(created_at - timedelta(seconds=20 + index), seq=index, worker=7)
            if isinstance(item, Photo):
                items.append(build_photo(id, index, item, media_id, cache_dir))
            elif isinstance(item, Video):
                items.append(build_video(id, index, item, media_id, cache_dir))
            elif isinstance(item, Gif):
                items.append(build_gif(id, index, item, media_id, cache_dir))
            else:
                raise TypeError(f"media items are Photo, Video or Gif, not {item!r}")
        user_id = str(seed_for("user", screen_name.lower()) * 1000 + 17)
        return cls(
            id,
            screen_name,
            name,
            text,
            created_at,
            media,
            quoted,
            syndication,
            fxtwitter,
            graphql,
            pic_style,
            code,
            user_id,
            items,
        )

    @property
    def status_url(self) -> str:
        return f"https://twitter.com/{self.screen_name}/status/{self.id}"

    @property
    def tco_url(self) -> str:
        return f"https://t.co/{self.media_code}"

    @property
    def pic_text(self) -> str:
        return f"pic.twitter.com/{self.media_code}"

    @property
    def media_link_target(self) -> str:
        """Where the media t.co / pic.twitter.com link leads (expanded_url of the first item)."""
        kind = "video" if self.items and self.items[0].kind == "video" else "photo"
        return f"{self.status_url}/{kind}/1"

    @property
    def files(self) -> list[MediaFile]:
        return [item.best for item in self.items]

    @property
    def all_files(self) -> list[MediaFile]:
        return [f for item in self.items for f in item.files]

    @property
    def display_text(self) -> str:
        """The text without the trailing media link, as display_text_range and fxtwitter show it."""
        return self.text.removesuffix(f" {self.tco_url}") if self.items else self.text
