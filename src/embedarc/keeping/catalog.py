"""What the index's tables and columns mean, written beside it for Datasette.

`archive/metadata.json` is derived from this module (never edited by hand): table and column
descriptions, the column that labels a row, facets, and canned queries for the questions people
ask an archive. `datasette archive/index.db --metadata archive/metadata.json` shows it.
"""

from __future__ import annotations

import json
from typing import Any

METADATA_NAME = "metadata.json"
DATABASE = "index"  # Datasette names a database after its file

_OUTCOMES = (
    "archived, archived_from_wayback, archived_from_web_archive, gone, login_required, "
    "no_media, refused, too_large, failed (for now), failed_permanently"
)

# table -> (description, label column or None, facets, sort_desc or None, columns)
TABLES: dict[str, tuple[str, str | None, tuple[str, ...], str | None, dict[str, str]]] = {
    "articles": (
        "One row per archived article; its folder holds the original bytes and article.json.",
        "title",
        (),
        "first_archived",
        {
            "id": "The article's id (the last 8 characters end its folder name)",
            "identity": "What makes it the same article: its canonical URL, else its bytes",
            "title": "The article's title",
            "source": "Where it was read from: a file name or a URL",
            "canonical_url": "The article's own URL (where its origin link led)",
            "published": "When it was published (UTC), if it says",
            "origin_name": "The publication named in its 'via' footer",
            "origin_url": "The 'via' link to the original article",
            "media_type": "text/plain or text/html",
            "content_sha256": "SHA-256 of the original bytes",
            "folder": "Its folder, relative to the archive",
            "first_archived": "When embedarc first archived it (UTC)",
            "last_archived": "When embedarc last wrote it (UTC)",
        },
    ),
    "links": (
        "Every link found in an article, and where it ended.",
        "url",
        ("outcome", "kind", "found_in"),
        "resolved_at",
        {
            "id": "The link's id",
            "article_id": "The article it was found in",
            "url": "The link, normalised",
            "raw": "The link as the article wrote it",
            "kind": "How it was found: a link, an embedded post, a short link, a video tag, ...",
            "found_in": "article, or origin (the original page the 'via' link led to)",
            "attribution": "The '— Name (@handle) date' line of an embedded post",
            "outcome": f"Where it ended: {_OUTCOMES}",
            "reason": "Why it ended there",
            "final_url": "Where its redirects led",
            "stop": "Why resolution stopped there",
            "post": "The post it leads to (site:id)",
            "resolved_at": "When it was resolved (UTC)",
        },
    ),
    "hops": (
        "Each step of a link's redirect chain.",
        "url",
        ("status", "via"),
        None,
        {
            "link_id": "The link",
            "n": "The step's number, from 0",
            "url": "The URL asked",
            "status": "The HTTP status answered",
            "location": "Where it pointed next",
            "time": "When it was asked (UTC)",
            "via": "How it pointed: a Location header, a meta refresh, a script, ...",
        },
    ),
    "posts": (
        "The posts links lead to on the platforms embedarc reads, with those they quote.",
        "author",
        ("site", "author"),
        "created_at",
        {
            "key": "site:id",
            "site": "The platform",
            "id": "The post's id on it",
            "url": "The post's address",
            "author": "Its author's handle",
            "author_name": "Its author's display name",
            "text": "What it says",
            "created_at": "When it was posted (UTC)",
            "source": "Which service answered for it",
            "origin_url": "Where a copied (remote) post was first published",
            "quoted": "The post it quotes (site:id)",
            "reposted": "The post it reposts (site:id)",
        },
    ),
    "media": (
        "Every file kept, once, named by its SHA-256.",
        "path",
        ("mime",),
        "size",
        {
            "sha256": "SHA-256 of the file: `sha256sum` prints it",
            "path": "Where it is, relative to the archive: media/<sha256[:2]>/<sha256>.<ext>",
            "size": "Bytes",
            "mime": "Its type",
            "width": "Pixels",
            "height": "Pixels",
            "duration": "Seconds",
        },
    ),
    "media_sources": (
        "Where each file was fetched from, and how.",
        "url",
        ("method",),
        "fetched_at",
        {
            "url": "The URL it was fetched from",
            "sha256": "The file",
            "fetched_at": "When (UTC)",
            "method": "http, ytdlp, hls, merged, wayback, memento or archive_copy",
            "remuxed": "1 if the stream was joined or remuxed",
            "tool": "The tool that fetched it, with its version",
            "headers": "The HTTP response headers (JSON)",
        },
    ),
    "link_media": (
        "Which files each link led to.",
        None,
        ("kind",),
        None,
        {
            "link_id": "The link",
            "sha256": "The file",
            "post": "The post the file belongs to (site:id)",
            "kind": "photo, video, gif, ...",
        },
    ),
    "retries": (
        "Links that failed for now, and when they are tried again (operational state).",
        "url",
        ("state", "failure"),
        "next_attempt",
        {
            "link_id": "The link",
            "article_id": "Its article",
            "url": "The link",
            "attempts": "Runs that failed on it",
            "next_attempt": "When it is tried again (UTC)",
            "last_attempt": "When it last failed (UTC)",
            "last_reason": "Why it last failed",
            "failure": "rate_limited, server_error, http_error or network",
            "state": "pending, or failed_permanently after the retry cap",
        },
    ),
    "link_checks": (
        "What `embedarc check` found: is each archived original still there (operational state).",
        "url",
        ("alive",),
        "first_dead",
        {
            "link_id": "The link",
            "article_id": "Its article",
            "url": "The link",
            "last_checked": "When it was last checked (UTC)",
            "last_alive": "When it was last seen alive (UTC)",
            "first_dead": "When it was first seen dead (UTC)",
            "alive": "1 alive, 0 dead, empty when unknown",
            "detail": "What each part answered: the link, its post, each media URL (JSON)",
        },
    ),
    "sources": (
        "Feeds, folders and URL lists `embedarc run` polls (operational state).",
        "location",
        ("kind", "last_status"),
        None,
        {
            "id": "The source's number",
            "kind": "feed, folder or list",
            "location": "Its URL or path",
            "added_at": "When it was added (UTC)",
            "last_polled": "When it was last polled (UTC)",
            "last_status": "How the last poll went",
            "last_error": "Why the last poll failed",
            "etag": "The feed's ETag, for conditional requests",
            "last_modified": "The feed's Last-Modified, for conditional requests",
        },
    ),
    "source_items": (
        "Each item a source brought (operational state).",
        "target",
        ("state",),
        "first_seen",
        {
            "source_id": "The source",
            "key": "The item's guid, link, file name or URL",
            "target": "What is archived: a URL or a file",
            "first_seen": "When it was first seen (UTC)",
            "state": "pending, archived, rejected or failed_permanently",
            "article_id": "The article it became",
            "last_error": "Why it was rejected or failed",
            "attempts": "Runs that failed on it",
            "next_attempt": "When it is tried again (UTC)",
            "last_attempt": "When it last failed (UTC)",
        },
    ),
}

QUERIES: dict[str, dict[str, str]] = {
    "links_that_need_another_try": {
        "title": "Links that need another try",
        "description": "Links that failed for now (tried again by the next `run` on time) or "
        "failed permanently (`run --retry-failed` tries them afresh).",
        "sql": """select l.outcome, r.next_attempt, r.attempts, coalesce(r.last_reason, l.reason)
  as reason, r.failure, l.url, a.title, a.folder
from links l join articles a on a.id = l.article_id
left join retries r on r.link_id = l.id
where l.outcome in ('failed', 'failed_permanently')
order by l.outcome, r.next_attempt, l.url""",
    },
    "originals_that_died": {
        "title": "Originals that died",
        "description": "Archived links whose original `embedarc check` found dead since: "
        "the archive now holds the only copy.",
        "sql": """select c.url, c.first_dead, c.last_alive, c.last_checked, a.title, a.folder,
  (select count(*) from link_media lm where lm.link_id = c.link_id) as files_kept, c.detail
from link_checks c left join articles a on a.id = c.article_id
where c.alive = 0
order by c.first_dead desc, c.url""",
    },
    "videos_by_author": {
        "title": "Videos by author",
        "description": "Every video kept from posts, by author (a handle such as "
        "@alice@social.example or a display name; empty for all).",
        "sql": """select distinct p.author, p.author_name, p.site, m.path, m.duration, m.width,
  m.height, m.size, m.sha256, p.url as post_url, p.created_at
from posts p join link_media lm on lm.post = p.key join media m on m.sha256 = lm.sha256
where m.mime like 'video/%'
  and (coalesce(:author, '') = '' or p.author = :author or p.author_name = :author)
order by p.author, p.created_at, m.path""",
    },
}


def metadata() -> dict[str, Any]:
    """The Datasette metadata of an archive's index."""
    tables: dict[str, Any] = {}
    for name, (description, label, facets, sort_desc, columns) in TABLES.items():
        table: dict[str, Any] = {"description": description, "columns": dict(columns)}
        if label:
            table["label_column"] = label
        if facets:
            table["facets"] = list(facets)
        if sort_desc:
            table["sort_desc"] = sort_desc
        tables[name] = table
    return {
        "title": "embedarc archive",
        "description": "Footage kept from news articles: each file with its SHA-256, every "
        "link with its hops and outcome. Search titles, post texts, authors and URLs in "
        "articles, posts and links.",
        "databases": {DATABASE: {"tables": tables, "queries": QUERIES}},
    }


def metadata_json() -> bytes:
    return (json.dumps(metadata(), indent=2, sort_keys=True) + "\n").encode()
