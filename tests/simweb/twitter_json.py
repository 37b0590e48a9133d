"""The JSON documents Twitter's syndication API, its GraphQL API and fxtwitter return for a tweet.

Shapes follow the real services (see the project's reference notes); fields nobody reads are
kept where they are cheap, because clients that pick fields by position or by "first key that
looks right" should be exercised against the real clutter.
"""

from __future__ import annotations

import base64
import math
import re
from datetime import timedelta
from typing import Any

from .tweets import PHOTO_RENDITIONS, BuiltMedia, TweetSpec

JSON = dict[str, Any]


def js_radix_string(value: float, radix: int) -> str:
    """Number.prototype.toString(radix) for a positive double, following V8's DoubleToRadixCString:
    emit fraction digits until the remainder is below half an ulp, rounding the last one."""
    integer = math.floor(value)
    fraction = value - integer
    delta = max(0.5 * (math.nextafter(value, math.inf) - value), math.nextafter(0.0, 1.0))
    digits: list[int] = []
    if fraction >= delta:
        while True:
            fraction *= radix
            delta *= radix
            digit = int(fraction)
            digits.append(digit)
            fraction -= digit
            if (fraction > 0.5 or (fraction == 0.5 and digit & 1)) and fraction + delta > 1:
                while True:  # round up, carrying into earlier digits (or the integer part)
                    if not digits:
                        integer += 1
                        break
                    last = digits.pop() + 1
                    if last < radix:
                        digits.append(last)
                        break
                break
            if fraction < delta:
                break
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    whole, n = "", int(integer)
    while True:
        n, rem = divmod(n, radix)
        whole = alphabet[rem] + whole
        if n == 0:
            break
    return whole + ("." + "".join(alphabet[d] for d in digits) if digits else "")


def syndication_token(tweet_id: str) -> str:
    """((Number(id) / 1e15) * Math.PI).toString(36).replace(/(0+|\\.)/g, '')"""
    return re.sub(r"(0+|\.)", "", js_radix_string((int(tweet_id) / 1e15) * math.pi, 36))


def twitter_time(t: TweetSpec) -> str:
    return t.created_at.strftime("%a %b %d %H:%M:%S +0000 %Y")  # "Tue Jan 04 10:12:44 +0000 2022"


def _counts(t: TweetSpec) -> dict[str, int]:
    n = int(t.id[-6:])  # stable, plausible engagement numbers
    return {
        "favorite_count": 100 + n % 900,
        "retweet_count": 20 + n % 180,
        "reply_count": 5 + n % 45,
        "quote_count": 1 + n % 9,
    }


def _hashtags(text: str) -> list[JSON]:
    return [
        {"indices": [m.start(), m.end()], "text": m.group(1)} for m in re.finditer(r"#(\w+)", text)
    ]


def _fit(w: int, h: int, box: int) -> tuple[int, int]:
    scale = min(1.0, box / max(w, h))
    return round(w * scale), round(h * scale)


def _sizes(item: BuiltMedia) -> JSON:
    sizes: JSON = {}
    for name, (box, _quality, crop) in PHOTO_RENDITIONS.items():
        w, h = (box, box) if crop else _fit(item.width, item.height, box)
        sizes[name] = {"h": h, "w": w, "resize": "crop" if crop else "fit"}
    return sizes


def _link_entity(t: TweetSpec, item: BuiltMedia) -> JSON:
    kind = "video" if item.kind == "video" else "photo"
    start = len(t.display_text) + 1
    return {
        "display_url": t.pic_text,
        "expanded_url": f"{t.status_url}/{kind}/{item.index}",
        "indices": [start, start + len(t.tco_url)],
        "url": t.tco_url,
    }


def _video_info(item: BuiltMedia) -> JSON:
    g = math.gcd(item.width, item.height) or 1
    info: JSON = {"aspect_ratio": [item.width // g, item.height // g], "variants": item.variants}
    if item.kind == "video":
        info["duration_millis"] = item.duration_ms
    return info


def _api_media(t: TweetSpec, item: BuiltMedia, graphql: bool) -> JSON:
    entry: JSON = {
        **_link_entity(t, item),
        "ext_media_availability": {"status": "Available"},
        "media_url_https": item.thumb_url,
        "original_info": {"height": item.height, "width": item.width},
        "sizes": _sizes(item),
        "type": item.api_type,
    }
    if graphql:
        entry |= {"id_str": item.media_id, "media_key": item.media_key_id}
    if item.kind != "photo":
        entry["video_info"] = _video_info(item)
        entry["additional_media_info"] = {"monetizable": False}
    return entry


# ----------------------------------------------------------------- syndication


def syndication_json(t: TweetSpec, nested: bool = False) -> JSON:
    edit_until = int((t.created_at + timedelta(hours=1)).timestamp() * 1000)
    doc: JSON = {
        "__typename": "Tweet",
        "lang": "en",
        "favorite_count": _counts(t)["favorite_count"],
        "possibly_sensitive": False,
        "created_at": t.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "display_text_range": [0, len(t.display_text)],
        "entities": {
            "hashtags": _hashtags(t.text),
            "urls": [],
            "user_mentions": [],
            "symbols": [],
            "media": [_link_entity(t, i) for i in t.items],
        },
        "id_str": t.id,
        "text": t.text,
        "user": {
            "id_str": t.user_id,
            "name": t.name,
            "screen_name": t.screen_name,
            "profile_image_url_https": f"https://pbs.twimg.com/profile_images/{t.user_id}/avatar_normal.jpg",
            "profile_image_shape": "Circle",
            "verified": False,
            "is_blue_verified": False,
        },
        "edit_control": {
            "edit_tweet_ids": [t.id],
            "editable_until_msecs": str(edit_until),
            "is_edit_eligible": False,
            "edits_remaining": "5",
        },
        "mediaDetails": [_api_media(t, i, graphql=False) for i in t.items],
        "conversation_count": _counts(t)["reply_count"],
        "news_action_type": "conversation",
        "isEdited": False,
        "isStaleEdit": False,
    }
    if not doc["mediaDetails"]:
        del doc["mediaDetails"]
    photos = [i for i in t.items if i.kind == "photo"]
    if photos:
        doc["photos"] = [
            {
                "backgroundColor": {"red": 204, "green": 214, "blue": 221},
                "cropCandidates": [],
                "expandedUrl": f"{t.status_url}/photo/{i.index}",
                "url": i.thumb_url,
                "width": i.width,
                "height": i.height,
            }
            for i in photos
        ]
    videos = [i for i in t.items if i.kind != "photo"]
    if videos:
        v = videos[0]
        doc["video"] = {
            "aspectRatio": _video_info(v)["aspect_ratio"],
            "contentType": "media_entity",
            "durationMs": v.duration_ms or 0,
            "mediaAvailability": {"status": "available"},
            "poster": v.thumb_url,
            "videoId": {"type": "tweet", "id": t.id},
            "viewCount": 0,
            "variants": [{"type": x["content_type"], "src": x["url"]} for x in v.variants],
        }
    if t.quoted is not None and not nested:
        doc["quoted_tweet"] = syndication_json(t.quoted, nested=True)
    return doc


TOMBSTONE_TEXT = "This Post violated the X Rules. Learn more"
DELETED_TEXT = "This Post was deleted by the Post author. Learn more"


def syndication_tombstone(text: str = TOMBSTONE_TEXT) -> JSON:
    return {
        "__typename": "TweetTombstone",
        "tombstone": {"text": {"text": text, "entities": [], "rtl": False}},
    }


# ----------------------------------------------------------------- GraphQL


def _graphql_user(t: TweetSpec) -> JSON:
    return {
        "__typename": "User",
        "id": base64.b64encode(f"User:{t.user_id}".encode()).decode(),
        "rest_id": t.user_id,
        "is_blue_verified": False,
        "legacy": {
            "created_at": "Wed Mar 04 12:00:00 +0000 2015",
            "description": "",
            "followers_count": 1000 + int(t.user_id) % 500000,
            "name": t.name,
            "screen_name": t.screen_name,
            "verified": False,
            "profile_image_url_https": f"https://pbs.twimg.com/profile_images/{t.user_id}/avatar_normal.jpg",
        },
    }


def graphql_tweet(t: TweetSpec, nested: bool = False) -> JSON:
    """tweetResult.result for a visible tweet (what _graphql_to_legacy in yt-dlp consumes)."""
    media = [_api_media(t, i, graphql=True) for i in t.items]
    legacy: JSON = {
        "bookmark_count": 3,
        "created_at": twitter_time(t),
        "conversation_id_str": t.id,
        "display_text_range": [0, len(t.display_text)],
        "entities": {
            "hashtags": _hashtags(t.text),
            "symbols": [],
            "urls": [],
            "user_mentions": [],
            **({"media": media} if media else {}),
        },
        **({"extended_entities": {"media": media}} if media else {}),
        **_counts(t),
        "favorited": False,
        "full_text": t.text,
        "is_quote_status": t.quoted is not None,
        "lang": "en",
        "possibly_sensitive": False,
        "retweeted": False,
        "user_id_str": t.user_id,
        "id_str": t.id,
    }
    result: JSON = {
        "__typename": "Tweet",
        "rest_id": t.id,
        "core": {"user_results": {"result": _graphql_user(t)}},
        "edit_control": {
            "edit_tweet_ids": [t.id],
            "is_edit_eligible": False,
            "edits_remaining": "5",
        },
        "is_translatable": False,
        "views": {"count": str(5000 + int(t.id[-5:])), "state": "EnabledWithCount"},
        "source": '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
        "legacy": legacy,
    }
    if t.quoted is not None and not nested:
        legacy["quoted_status_id_str"] = t.quoted.id
        result["quoted_status_result"] = {"result": graphql_tweet(t.quoted, nested=True)}
    return result


def graphql_document(result: JSON | None) -> JSON:
    return {"data": {"tweetResult": {"result": result} if result is not None else {}}}


def graphql_tombstone() -> JSON:
    return {
        "__typename": "TweetTombstone",
        "tombstone": {
            "__typename": "TextTombstone",
            "text": {"rtl": False, "text": TOMBSTONE_TEXT, "entities": []},
        },
    }


# ----------------------------------------------------------------- fxtwitter


def _fx_media(i: BuiltMedia) -> JSON:
    if i.kind == "photo":
        url = f"{i.thumb_url}?name=orig"
        return {"type": "photo", "url": url, "width": i.width, "height": i.height, "altText": ""}
    return {
        "url": i.best.url,
        "thumbnail_url": i.thumb_url,
        "width": i.width,
        "height": i.height,
        "duration": (i.duration_ms or 0) / 1000,
        "format": "video/mp4",
        "type": "gif" if i.kind == "gif" else "video",
        "variants": i.variants,
    }


def fxtwitter_json(t: TweetSpec, nested: bool = False) -> JSON:
    counts = _counts(t)
    tweet: JSON = {
        "url": f"https://x.com/{t.screen_name}/status/{t.id}",
        "id": t.id,
        "text": t.display_text,  # fxtwitter drops the trailing media link
        "raw_text": {"text": t.text, "facets": []},
        "author": {
            "id": t.user_id,
            "name": t.name,
            "screen_name": t.screen_name,
            "avatar_url": f"https://pbs.twimg.com/profile_images/{t.user_id}/avatar_200x200.jpg",
            "url": f"https://x.com/{t.screen_name}",
        },
        "replies": counts["reply_count"],
        "retweets": counts["retweet_count"],
        "likes": counts["favorite_count"],
        "created_at": twitter_time(t),
        "created_timestamp": int(t.created_at.timestamp()),
        "possibly_sensitive": False,
        "lang": "en",
        "replying_to": None,
        "replying_to_status": None,
        "source": "Twitter Web App",
        "provider": "twitter",
    }
    if t.items:
        everything = [_fx_media(i) for i in t.items]
        photos = [m for m in everything if m["type"] == "photo"]
        videos = [m for m in everything if m["type"] != "photo"]
        tweet["media"] = {
            "all": everything,
            **({"photos": photos} if photos else {}),
            **({"videos": videos} if videos else {}),
        }
        tweet["twitter_card"] = "player" if videos else "summary_large_image"
    if t.quoted is not None and not nested:
        tweet["quote"] = fxtwitter_json(t.quoted, nested=True)["tweet"]
    return {"code": 200, "message": "OK", "tweet": tweet}
