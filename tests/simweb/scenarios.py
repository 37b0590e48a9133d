"""Ready-made worlds. example() is the one behind examples/zerohedge-syria-strike.txt."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .media import make_jpeg
from .tweets import Photo, TweetSpec, Video, snowflake
from .web import SimWeb

EXAMPLE_FILE = Path(__file__).resolve().parents[2] / "examples" / "zerohedge-syria-strike.txt"
ARTICLE_URL = "https://www.zerohedge.com/geopolitical/us-launches-preemptive-strike-rocket-sites-near-occupied-syrian-oil-fields"
IFTTT_CODE = "3FYxYO2"
AURORA_CODE = "8xGo7BYVO3"
AURORA_TEXT = (
    "Footage from Ain Al-Assad Airbase, #Iraq from the CRAM engagement of the two suspected "
    "Samad drones downed during the early hours of this morning. https://t.co/8xGo7BYVO3"
)
HEADER_IMAGE = (
    "https://assets.zerohedge.com/s3fs-public/styles/inline_image_mobile/public/"
    "inline-images/2022-01-04_16-54-41.jpg?itok=Lp0cG2xF"
)

_ARTICLE_PARAGRAPHS = [
    "Late in the day Tuesday (local time) the US military carried out what’s being described "
    "as a “preemptive strike” against rocket sites in eastern Syria that “posed a threat” – "
    "according to a US coalition official statement.",
    "“The official, speaking on condition of anonymity, said the coalition saw several launch "
    "sites near the Green Village in Syria,” Reuters reports, referencing an American base in "
    "Deir Ezzor province. “The official did not specify from which country the coalition "
    "carried out the strike.”",
    "Over the past year the US base has seen occasional attacks, which is typically blamed by "
    "the Pentagon on “pro-Iran” militias, or also possibly Syrian national forces.",
    "And then on Tuesday drones threatened Ain al-Assad airbase in Iraq, where US troops are "
    "stationed – the same base hit by Iranian cruise missiles two years ago, days after the "
    "Jan.3, 2020 assassination by drone of Soleimani.",
]


def _embed(t: TweetSpec, body: str, date_text: str, with_pic: bool) -> str:
    """Twitter's copy-paste embed markup, as news sites paste it into articles."""
    pic = f' <a href="{t.tco_url}">{t.pic_text}</a>' if with_pic else ""
    return (
        f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">{html.escape(body)}{pic}</p>'
        f"&mdash; {html.escape(t.name)} (@{t.screen_name}) "
        f'<a href="{t.status_url}?ref_src=twsrc%5Etfw">{date_text}</a></blockquote>\n'
        '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>'
    )


def article_html(aurora: TweetSpec, second: TweetSpec) -> str:
    title = "US Launches Preemptive Strike On “Rocket Sites” Near Occupied Syrian Oil Fields"
    paragraphs = "\n".join(f"<p>{html.escape(p)}</p>" for p in _ARTICLE_PARAGRAPHS)
    aurora_body = aurora.text.removesuffix(f" {aurora.tco_url}")
    nav = "\n".join(
        f'<li><a href="https://www.zerohedge.com/{path}">{label}</a></li>'
        for path, label in [
            ("", "Home"),
            ("markets", "Markets"),
            ("geopolitical", "Geopolitical"),
            ("political", "Political"),
            ("crypto", "Crypto"),
        ]
    )
    return f"""<!DOCTYPE html>
<html lang="en" dir="ltr"><head><meta charset="utf-8">
<title>{html.escape(title)} | ZeroHedge</title>
<meta name="description"
  content="The base that was being threatened is in Syria oil-rich eastern region.">
<link rel="canonical" href="{ARTICLE_URL}">
<meta property="og:site_name" content="ZeroHedge">
<meta property="og:type" content="article">
<meta property="og:url" content="{ARTICLE_URL}">
<meta property="og:title" content="{html.escape(title)}">
<meta property="og:image" content="{html.escape(HEADER_IMAGE)}">
<meta property="article:published_time" content="2022-01-04T20:25:00-05:00">
<meta property="article:author" content="Tyler Durden">
<meta name="twitter:card" content="summary_large_image">
<meta name="twitter:site" content="@zerohedge">
<script src="https://www.zerohedge.com/static/js/main.4a8c2f.js" defer></script>
</head><body>
<header><nav aria-label="Main"><ul>
{nav}
<li><a href="https://twitter.com/zerohedge">Follow us on Twitter</a></li>
<li><a href="https://www.youtube.com/@zerohedge">YouTube</a></li>
</ul></nav></header>
<main><article>
<h1>{html.escape(title)}</h1>
<div class="byline">by Tyler Durden
  <time datetime="2022-01-05T01:25:00Z">Tuesday, Jan 04, 2022 - 08:25 PM</time></div>
<figure><img src="{html.escape(HEADER_IMAGE)}" alt="Deir Ezzor province"
  width="500" height="281"></figure>
{paragraphs}
{_embed(aurora, aurora_body, "January 4, 2022", with_pic=True)}
<p>The above footage captures the base’s anti-air defenses intercepting the drones in real-time.</p>
<p>Local monitors posted images of the launch area after the strike:</p>
{_embed(second, second.text.removesuffix(f" {second.tco_url}"), "January 4, 2022", with_pic=False)}
</article>
<aside class="related"><h2>Trending</h2><ul>
<li><a href="https://www.zerohedge.com/markets/futures-slide-ahead-fomc-minutes"
  >Futures Slide Ahead Of FOMC Minutes</a></li>
<li><a href="https://twitter.com/zerohedge/status/1478000000000000000">Our most shared post</a></li>
</ul></aside></main>
<footer><a href="https://www.zerohedge.com/privacy-policy">Privacy</a> <a href="https://www.zerohedge.com/contact">Contact</a></footer>
</body></html>
"""


def example(web: SimWeb) -> dict[str, Any]:
    """Register the bundled example's world. Returns the specs and URLs for assertions:
    aurora (the video tweet behind pic.twitter.com/8xGo7BYVO3), second (the two-photo tweet
    embedded in the article by status URL), article_url, ift_tt_url, text_file."""
    aurora_at = datetime(2022, 1, 4, 6, 21, 37, tzinfo=UTC)
    aurora = web.tweet(
        snowflake(aurora_at, seq=3, worker=361),
        "AuroraIntel",
        "Aurora Intel",
        AURORA_TEXT,
        aurora_at,
        media=[Video(width=640, height=360, seconds=1.0)],
        media_code=AURORA_CODE,
    )
    second_at = datetime(2022, 1, 4, 23, 48, 5, tzinfo=UTC)
    second = web.tweet(
        snowflake(second_at, seq=1, worker=188),
        "DeirEzzor24x",
        "Deir Ezzor Monitor",
        "Smoke rising near the Green Village launch sites in eastern #Syria after tonight's "
        "strike.",
        second_at,
        media=[Photo(800, 600), Photo(600, 800)],
    )
    ift_tt_url = web.ift_tt(IFTTT_CODE, ARTICLE_URL)
    web.page(ARTICLE_URL, article_html(aurora, second))
    # the site sends visitors of the bare path to the canonical article, with and without slash
    web.redirect(ARTICLE_URL + "/", ARTICLE_URL, 301)
    web.file(
        HEADER_IMAGE.split("?")[0], make_jpeg(500, 281, 4242, cache_dir=web.media_dir), "image/jpeg"
    )
    return {
        "aurora": aurora,
        "second": second,
        "article_url": ARTICLE_URL,
        "ift_tt_url": ift_tt_url,
        "text_file": EXAMPLE_FILE,
    }
