"""A footage source is one module: no other module of embedarc names its site.

Comments may mention a site as an example; names and strings (code, docstrings) may not, so a
site's knowledge cannot leak into the shared stages.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest

from embedarc import platforms

SRC = Path(platforms.__file__).resolve().parents[1]
# The words that would betray each site's knowledge elsewhere: its name and its hosts.
WORDS = {
    "bluesky": ("bluesky", "bsky", "atproto"),
    "telegram": ("telegram", "t.me", "telesco.pe"),
    "mastodon": ("mastodon", "nodeinfo"),
    "x": ("twitter", "tweet", "tweets", "twimg", "x.com", "fxtwitter", "syndication"),
}
# Where X is still named outside its package, each for a reason; a module added here needs one.
STILL_NAMED = {
    "x": {
        # The values earlier archives recorded: the kinds of links ("tweet") and the stop of a
        # resolution at a tweet, read back from their sidecars and indexes.
        "model.py",
        # The index of releases up to 0.1.0 kept tweets in tables of their own: its migrations
        # (m001 made them, m005 moves their rows to posts) name them.
        "keeping/index.py",
    },
}  # fmt: skip


def code_tokens(path: Path) -> str:
    """The module's names and strings, comments left out."""
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    wanted = (tokenize.NAME, tokenize.STRING)
    return " ".join(t.string for t in tokens if t.type in wanted).lower()


def named(word: str, text: str) -> bool:
    """`word` as a word or host of its own (not `t.me` inside `result.message`)."""
    return re.search(rf"(?<![a-z0-9_.]){re.escape(word)}(?![a-z0-9_])", text) is not None


def test_every_registered_platform_has_its_words_listed() -> None:
    assert {p.site for p in platforms.PLATFORMS} == set(WORDS)


@pytest.mark.parametrize("site", sorted(WORDS))
def test_no_module_outside_a_platform_names_its_site(site: str) -> None:
    own = SRC / "platforms" / f"{site}.py"
    package = SRC / "platforms" / site
    registry = SRC / "platforms" / "__init__.py"
    assert own.is_file() or package.is_dir()
    offenders = [
        path.relative_to(SRC).as_posix()
        for path in sorted(SRC.rglob("*.py"))
        if path not in (own, registry)
        and not path.is_relative_to(package)
        and any(named(word, code_tokens(path)) for word in WORDS[site])
    ]
    still = STILL_NAMED.get(site, set())
    assert [o for o in offenders if o not in still] == [], f"{site} is named outside: {offenders}"
    assert still <= set(offenders), f"no longer named, take off the list: {still - set(offenders)}"
