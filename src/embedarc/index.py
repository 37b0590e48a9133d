"""archive/index.db: tables derived from the sidecars, built with sqlite-utils.

The sidecars are the truth; every table here except `_migrations` can be rebuilt from them.
Schema changes are named migrations, applied once each and recorded in `_migrations`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from .errors import ArchiveError

INDEX_NAME = "index.db"


def m001_initial(db: sqlite_utils.Database) -> None:
    db.table("articles").create(
        {
            "id": str,
            "identity": str,
            "title": str,
            "source": str,
            "canonical_url": str,
            "published": str,
            "origin_name": str,
            "origin_url": str,
            "media_type": str,
            "content_sha256": str,
            "folder": str,
            "first_archived": str,
            "last_archived": str,
        },
        pk="id",
    )
    db.table("articles").create_index(["content_sha256"])
    db.table("articles").create_index(["canonical_url"])
    db.table("links").create(
        {
            "id": str,
            "article_id": str,
            "url": str,
            "raw": str,
            "kind": str,
            "found_in": str,
            "attribution": str,
            "outcome": str,
            "reason": str,
            "final_url": str,
            "stop": str,
            "tweet_id": str,
            "resolved_at": str,
        },
        pk="id",
        foreign_keys=[("article_id", "articles", "id")],
    )
    db.table("links").create_index(["article_id"])
    db.table("links").create_index(["outcome"])
    db.table("hops").create(
        {
            "link_id": str,
            "n": int,
            "url": str,
            "status": int,
            "location": str,
            "time": str,
            "via": str,
        },
        pk=("link_id", "n"),
        foreign_keys=[("link_id", "links", "id")],
    )
    db.table("tweets").create(
        {
            "id": str,
            "screen_name": str,
            "name": str,
            "text": str,
            "created_at": str,
            "source": str,
            "quoted_id": str,
        },
        pk="id",
    )
    db.table("media").create(
        {
            "sha256": str,
            "path": str,
            "size": int,
            "mime": str,
            "width": int,
            "height": int,
            "duration": float,
        },
        pk="sha256",
    )
    db.table("media_sources").create(
        {
            "url": str,
            "sha256": str,
            "fetched_at": str,
            "method": str,
            "remuxed": int,
            "tool": str,
            "headers": str,
        },
        pk="url",
        foreign_keys=[("sha256", "media", "sha256")],
    )
    db.table("link_media").create(
        {"link_id": str, "sha256": str, "tweet_id": str, "kind": str},
        pk=("link_id", "sha256"),
        foreign_keys=[("link_id", "links", "id"), ("sha256", "media", "sha256")],
    )
    db.table("link_media").create_index(["sha256"])


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [m001_initial]

DERIVED_TABLES = ["link_media", "hops", "links", "media_sources", "media", "tweets", "articles"]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Index:
    """The archive's SQLite index; open it from one thread and write through it alone."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
            self.db = sqlite_utils.Database(conn)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.migrate()
        except sqlite3.DatabaseError as e:
            raise ArchiveError(f"cannot open the index {path}: {e}") from e

    def close(self) -> None:
        self.db.close()

    def migrate(self) -> list[str]:
        """Apply the migrations not yet recorded; return their names."""
        table = self.db.table("_migrations")
        if not table.exists():
            self.db.table("_migrations").create({"name": str, "applied_at": str}, pk="name")
        done = {row["name"] for row in self.db.table("_migrations").rows}
        applied = []
        for migration in MIGRATIONS:
            if migration.__name__ in done:
                continue
            with self.db.conn:
                migration(self.db)
                record = {"name": migration.__name__, "applied_at": _now()}
                self.db.table("_migrations").insert(record)
            applied.append(migration.__name__)
        return applied

    # -- reads -------------------------------------------------------------------------------

    def find_article(
        self, *, content_sha256: str | None = None, canonical_url: str | None = None
    ) -> dict[str, Any] | None:
        for column, value in (("content_sha256", content_sha256), ("canonical_url", canonical_url)):
            if value:
                rows = list(self.db.table("articles").rows_where(f"{column} = ?", [value], limit=1))
                if rows:
                    return rows[0]
        return None

    def known_media(self) -> dict[str, dict[str, Any]]:
        """Every source URL already archived, with what the sidecar needs to cite it again."""
        sql = """
            select s.url, s.sha256, s.fetched_at, s.method, s.remuxed, s.tool, s.headers,
                   m.path, m.size, m.mime, m.width, m.height, m.duration
            from media_sources s join media m on m.sha256 = s.sha256
        """
        known: dict[str, dict[str, Any]] = {}
        for row in self.db.query(sql):
            row["headers"] = json.loads(row["headers"] or "{}")
            row["remuxed"] = bool(row["remuxed"])
            known[row.pop("url")] = row
        return known

    def articles(self) -> Iterator[dict[str, Any]]:
        yield from self.db.table("articles").rows_where(order_by="last_archived desc")

    # -- writes ------------------------------------------------------------------------------

    def write_article(self, sidecar: dict[str, Any]) -> None:
        """Replace everything derived from one article's sidecar, in one transaction."""
        article = sidecar["article"]
        article_id = article["id"]
        with self.db.conn:
            link_ids = [
                r["id"] for r in self.db.table("links").rows_where("article_id = ?", [article_id])
            ]
            for link_id in link_ids:
                self.db.table("hops").delete_where("link_id = ?", [link_id])
                self.db.table("link_media").delete_where("link_id = ?", [link_id])
            self.db.table("links").delete_where("article_id = ?", [article_id])
            previous = self.find_article_by_id(article_id)
            self.db.table("articles").upsert(
                {
                    "id": article_id,
                    "identity": article["identity"],
                    "title": article["title"],
                    "source": article["source"],
                    "canonical_url": article.get("canonical_url"),
                    "published": article.get("published"),
                    "origin_name": article.get("origin_name"),
                    "origin_url": article.get("origin_url"),
                    "media_type": article["media_type"],
                    "content_sha256": article["content_sha256"],
                    "folder": article["folder"],
                    "first_archived": (previous or {}).get("first_archived")
                    or article["archived_at"],
                    "last_archived": article["archived_at"],
                },
                pk="id",
            )
            for media in sidecar["media"]:
                self.db.table("media").upsert(
                    {
                        k: media.get(k)
                        for k in ("sha256", "path", "size", "mime", "width", "height", "duration")
                    },
                    pk="sha256",
                )
                self.db.table("media_sources").upsert(
                    {
                        "url": media["source_url"],
                        "sha256": media["sha256"],
                        "fetched_at": media["fetched_at"],
                        "method": media.get("method"),
                        "remuxed": int(bool(media.get("remuxed"))),
                        "tool": media.get("tool"),
                        "headers": json.dumps(media.get("headers") or {}, sort_keys=True),
                    },
                    pk="url",
                )
            for tweet in sidecar.get("tweets", []):
                self.db.table("tweets").upsert(
                    {
                        k: tweet.get(k)
                        for k in (
                            "id",
                            "screen_name",
                            "name",
                            "text",
                            "created_at",
                            "source",
                            "quoted_id",
                        )
                    },
                    pk="id",
                )
            for link in sidecar["links"]:
                self._write_link(article_id, link)

    def find_article_by_id(self, article_id: str) -> dict[str, Any] | None:
        rows = list(self.db.table("articles").rows_where("id = ?", [article_id], limit=1))
        return rows[0] if rows else None

    def _write_link(self, article_id: str, link: dict[str, Any]) -> None:
        link_id = link["id"]
        resolution = link.get("resolution") or {}
        self.db.table("links").insert(
            {
                "id": link_id,
                "article_id": article_id,
                "url": link["url"],
                "raw": link.get("raw"),
                "kind": link["kind"],
                "found_in": link.get("found_in"),
                "attribution": link.get("attribution"),
                "outcome": link["outcome"],
                "reason": link.get("reason"),
                "final_url": resolution.get("final_url"),
                "stop": resolution.get("stop"),
                "tweet_id": link.get("tweet_id"),
                "resolved_at": link.get("resolved_at"),
            },
            pk="id",
        )
        hops = [
            {
                "link_id": link_id,
                "n": n,
                **{k: hop.get(k) for k in ("url", "status", "location", "time", "via")},
            }
            for n, hop in enumerate(resolution.get("hops") or [])
        ]
        if hops:
            self.db.table("hops").insert_all(hops, pk=("link_id", "n"))
        for media in link.get("media") or []:
            self.db.table("link_media").upsert(
                {
                    "link_id": link_id,
                    "sha256": media["sha256"],
                    "tweet_id": media.get("tweet_id"),
                    "kind": media.get("kind"),
                },
                pk=("link_id", "sha256"),
            )
