"""What X's URLs are: status URLs in every spelling, short links, media files, interstitials.

Pure functions: nothing here touches the network.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from urllib.parse import parse_qs

from ...model import LinkKind
from ...reading.urls import canonical, clean, split_url

# X itself, the link fixers that re-serve a tweet for chat previews, and the alternative front
# ends and mirrors that show it without X's page. A link to any of them names the tweet: only
# its id is taken, and the tweet is looked up at X's own services, never on the mirror.
_X_HOSTS = r"(?:(?:www|mobile|m)\.)?(?:twitter|x)\.com"
_FIXER_HOSTS = (
    r"(?:[a-z0-9-]+\.)?(?:fxtwitter|vxtwitter|fixupx|fixvx|twittpr|stupidpenisx|girlcockx)\.com"
)
_MIRROR_HOSTS = (
    r"(?:[a-z0-9-]+\.)*nitter(?:\.[a-z0-9-]+)+"  # nitter.net, nitter.poast.org, …
    r"|(?:www\.)?(?:xcancel|twiiit|lightbrd)\.com"
)
STATUS_RE = re.compile(
    rf"(?<![\w.@-])(?:https?://)?(?P<host>{_X_HOSTS}|{_FIXER_HOSTS}|{_MIRROR_HOSTS})/"
    # "#!/" : the hash-bang URLs twitter.com wrote until 2012, still in old articles
    r"(?:#!/)?(?:i/web/status|statuses|(?P<user>\w{1,15})/status(?:es)?)/(?P<id>\d{1,20})"
    # /photo/1, /video/1 and a fixer's /en (translated) show the same tweet
    r"(?:/(?:photo|video)/\d{1,2})?(?:/[a-z]{2})?/?(?![\w/])",
    re.IGNORECASE | re.ASCII,
)
# X's own hosts: a URL there that names no tweet (a profile, /@name/123…) is no other site's post.
_OWN_HOST_RE = re.compile(r"(?:^|\.)(?:twitter\.com|x\.com)$")
# Hosts people write without a scheme (www., m. and mobile. in front too): such text is a link
# where it names a tweet.
BARE_HOSTS = ("twitter.com", "x.com")
# Short links: pic.twitter.com/<code> stands for a tweet's photo, t.co/<code> for any link.
SHORT_LINKS = MappingProxyType(
    {
        "pic.twitter.com": LinkKind.PIC_TWITTER,
        "pic.x.com": LinkKind.PIC_TWITTER,
        "t.co": LinkKind.TCO,
    }
)
_PBS_HOST = "pbs.twimg.com"
MEDIA_HOSTS = frozenset({_PBS_HOST, "video.twimg.com"})  # where X serves a tweet's media
_PBS_MEDIA_RE = re.compile(
    r"/media/(?P<key>[\w-]+)(?:\.(?P<ext>jpe?g|png|webp|gif))?(?::\w+)?$", re.IGNORECASE
)
_PLAYER_HOST = "platform.twitter.com"


def tweet_ref(url: str) -> tuple[str | None, str] | None:
    """(screen name, or None for i/web forms; tweet id) of a status URL, else None.

    X's own status URLs and those of link fixers (fxtwitter.com, fixupx.com, …) and mirrors
    (nitter instances, xcancel.com, …), with or without a scheme, a query or a fragment.
    """
    url = url.strip()
    match = STATUS_RE.match(url)
    if match is None or url[match.end() :][:1] not in ("", "?", "#"):
        return None
    user = match["user"]
    # A tweet id is a number: /status/0123 is tweet 123 (one key for it), /status/0 none.
    tweet_id = match["id"].lstrip("0")
    if not tweet_id:
        return None
    # twitter.com/i/status/<id> is the same anonymous form as i/web
    return (None if user is None or user.lower() == "i" else user), tweet_id


def is_status_url(url: str) -> bool:
    """Whether the URL names a single tweet."""
    return tweet_ref(url) is not None


def status_url(tweet_id: str, screen_name: str | None) -> str:
    """The one spelling of a tweet's URL: twitter.com, the author or i/web, the id."""
    return f"https://twitter.com/{screen_name or 'i/web'}/status/{tweet_id}"


def owns(host: str) -> bool:
    return _OWN_HOST_RE.search(host) is not None


def _pbs_original(path: str, query: str) -> str | None:
    match = _PBS_MEDIA_RE.search(path)
    if match is None or not path.startswith("/media/"):
        return None
    ext = match["ext"] or parse_qs(query).get("format", [""])[0]
    if not ext:
        return None
    ext = "jpg" if ext.lower() == "jpeg" else ext.lower()
    # Every other name= is a downscaled copy; orig is the upload itself.
    return f"https://{_PBS_HOST}/media/{match['key']}?format={ext}&name=orig"


def normalise(url: str) -> str | None:
    """X's spelling of a URL (cleaned, with a scheme), or None when it is not one of X's.

    A status URL in any spelling becomes `status_url`; a photo on pbs.twimg.com becomes the
    original upload (`name=orig`) whatever size the link asked for.
    """
    ref = tweet_ref(url)
    if ref is not None:
        return status_url(ref[1], ref[0])
    if "twimg" not in url.lower():
        return None  # asked of every link: the common answer, cheaply
    parts = split_url(canonical(url))
    if parts is None or parts.scheme not in ("http", "https") or parts.netloc != _PBS_HOST:
        return None
    return _pbs_original(parts.path, parts.query)


def on_media_host(url: str) -> bool:
    """Whether a media URL is on X's own media hosts (photos, videos, GIFs)."""
    parts = split_url(url)
    return parts is not None and (parts.hostname or "") in MEDIA_HOSTS


def media_url(url: str) -> str:
    """A media URL from one of X's answers as embedarc spells it (a photo: the original)."""
    url = clean(url)
    return normalise(url) or canonical(url)


def unwrap(url: str) -> str | None:
    """The target of a twitter.com/safety/unsafe_link_warning interstitial, else None."""
    parts = split_url(url)
    if parts is None:
        return None
    host = parts.netloc.lower().removeprefix("www.").removeprefix("mobile.")
    if host not in BARE_HOSTS or parts.path.rstrip("/") != "/safety/unsafe_link_warning":
        return None
    targets = parse_qs(parts.query).get("unsafe_link")
    return targets[0] if targets else None


def player(url: str) -> str | None:
    """The tweet X's own embed frame (platform.twitter.com/embed/…?id=<id>) shows, or None."""
    parts = split_url(url)
    if parts is None or (parts.hostname or "").lower() != _PLAYER_HOST:
        return None
    if not parts.path.lower().startswith("/embed"):
        return None
    tweet_id = parse_qs(parts.query).get("id", [""])[0]
    if tweet_id.isascii() and tweet_id.isdigit():
        return status_url(tweet_id, None)
    return None
