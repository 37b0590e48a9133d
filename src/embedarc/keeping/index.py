"""archive/index.db: tables derived from the sidecars, built with sqlite-utils.

The sidecars are the truth; every table here except `_migrations` can be rebuilt from them.
Schema changes are named migrations, applied once each and recorded in `_migrations`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from ..clock import iso, utcnow
from ..errors import ArchiveError
from ..model import MediaFile
from ._sqlite_utils import sqlite_utils
from .sidecar_record import Sidecar, SidecarLink

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


def m002_operational_state(db: sqlite_utils.Database) -> None:
    """State with no other home: sources, the retry schedule, link-rot history."""
    db.table("sources").create(
        {
            "id": int,
            "kind": str,  # feed, folder, list
            "location": str,
            "added_at": str,
            "last_polled": str,
            "last_status": str,
            "last_error": str,
            "etag": str,
            "last_modified": str,
        },
        pk="id",
    )
    db.table("sources").create_index(["location"], unique=True)
    db.table("source_items").create(
        {
            "source_id": int,
            "key": str,  # feed guid/link, file name, or URL
            "target": str,  # what is archived: a URL or a file path
            "first_seen": str,
            "state": str,  # pending, archived, rejected, failed_permanently (m003)
            "article_id": str,
            "last_error": str,
        },
        pk=("source_id", "key"),
        foreign_keys=[("source_id", "sources", "id")],
    )
    db.table("retries").create(
        {
            "link_id": str,
            "article_id": str,
            "url": str,
            "attempts": int,
            "next_attempt": str,
            "last_attempt": str,
            "last_reason": str,
            "failure": str,  # rate_limited, server_error, network, other
            "state": str,  # pending, failed_permanently
        },
        pk="link_id",
    )
    db.table("retries").create_index(["state", "next_attempt"])
    db.table("link_checks").create(
        {
            "link_id": str,
            "article_id": str,
            "url": str,
            "last_checked": str,
            "last_alive": str,
            "first_dead": str,
            "alive": int,
            "detail": str,  # JSON: what each part (link, tweet, media) answered
        },
        pk="link_id",
    )


def m003_source_item_retries(db: sqlite_utils.Database) -> None:
    """Source items get the links' retry schedule: an article that fails for now is asked
    again on time, not every run, and gives up (`failed_permanently`) after the cap."""
    items = db.table("source_items")
    items.add_column("attempts", int)
    items.add_column("next_attempt", str)
    items.add_column("last_attempt", str)
    items.create_index(["state", "next_attempt"])


def m004_posts(db: sqlite_utils.Database) -> None:
    """Posts of the platforms beyond Twitter/X (see platforms/), and which
    post each link and each linked file belongs to."""
    db.table("posts").create(
        {
            "key": str,  # site:id
            "site": str,
            "id": str,
            "url": str,
            "author": str,
            "author_name": str,
            "text": str,
            "created_at": str,
            "source": str,
            "origin_url": str,
            "quoted": str,
            "reposted": str,
        },
        pk="key",
    )
    db.table("posts").create_index(["site"])
    db.table("links").add_column("post", str)
    db.table("link_media").add_column("post", str)


def m005_tweets_as_posts(db: sqlite_utils.Database) -> None:
    """Tweets are posts of the site `x`: the `tweets` table's rows move to `posts` (the
    handle written `@name`, as X writes it), and the `tweet_id` of links and linked files
    becomes their `post` ("x:<id>"); the table and the columns go."""
    if db.table("tweets").exists():
        db.execute(
            """
            insert or ignore into posts
                (key, site, id, url, author, author_name, text, created_at, source, quoted)
            select 'x:' || id, 'x', id,
                   'https://twitter.com/' || coalesce(nullif(screen_name, ''), 'i/web')
                       || '/status/' || id,
                   case when screen_name != '' then '@' || screen_name end,
                   name, text, created_at, source,
                   case when quoted_id != '' then 'x:' || quoted_id end
            from tweets where id is not null and id != ''
            """
        )
        db.table("tweets").drop()
    for table in ("links", "link_media"):
        if "tweet_id" not in db.table(table).columns_dict:
            continue
        db.execute(
            f"update [{table}] set post = 'x:' || tweet_id"
            " where post is null and tweet_id is not null and tweet_id != ''"
        )
        # SQLite before 3.35 cannot drop a column: there it stays, unused.
        with contextlib.suppress(sqlite3.OperationalError):
            db.execute(f"alter table [{table}] drop column tweet_id")


def m006_evidence(db: sqlite_utils.Database) -> None:
    """Evidence others can check: RFC 3161 timestamps of each article folder's manifest,
    PDQ perceptual hashes and C2PA Content Credentials of each stored file.

    None of these come from the sidecars, so rebuild-index keeps them: the timestamps mirror
    the tokens in each folder's timestamps/, the others are computed from the stored files
    (once per SHA-256)."""
    db.table("timestamps").create(
        {
            "article_id": str,
            "manifest": str,  # timestamps/manifest-<n>.txt, relative to the article folder
            "tsa": str,  # the TSA's URL
            "manifest_sha256": str,
            "token": str,  # timestamps/manifest-<n>.<tsa>.tsr, or None while it failed
            "gen_time": str,  # the time the TSA signed
            "serial": str,
            "state": str,  # stamped, failed, pending (asked, no answer yet)
            "error": str,
            "attempted_at": str,
        },
        pk=("article_id", "manifest", "tsa"),
    )
    db.table("timestamps").create_index(["state"])
    db.table("perceptual_hashes").create(
        {"sha256": str, "frame": int, "time": float, "pdq": str, "mirror": str, "quality": int},
        pk=("sha256", "frame"),
    )
    db.table("media_evidence").create(
        {
            "sha256": str,
            "checked_at": str,
            "pdq_frames": int,
            "pdq_error": str,  # why no perceptual hash could be made, if so
            "c2pa_present": int,
            "c2pa_issuer": str,
            "c2pa_signer": str,
            "c2pa_claim_generator": str,
            "c2pa_signed_at": str,
            "c2pa_validation_state": str,
            "c2pa_errors": str,  # JSON list
        },
        pk="sha256",
    )


# What `search` reads: each table's full-text columns. The FTS5 tables are named and built
# as sqlite-utils' `enable_fts(..., create_triggers=True)` builds them (`<table>_fts`, external
# content, triggers `<table>_ai/_ad/_au`), so sqlite-utils and Datasette recognise them.
SEARCHED: dict[str, tuple[str, ...]] = {
    "articles": ("title", "canonical_url", "origin_url"),
    "posts": ("text", "author", "author_name", "url"),
    "links": ("url", "final_url", "attribution"),
}


def _search_sql(table: str, columns: tuple[str, ...]) -> list[str]:
    names = ", ".join(f"[{c}]" for c in columns)
    old = ", ".join(f"old.[{c}]" for c in columns)
    new = ", ".join(f"new.[{c}]" for c in columns)
    fts = f"[{table}_fts]"
    delete = f"INSERT INTO {fts} ({fts}, rowid, {names}) VALUES('delete', old.rowid, {old});"
    insert = f"INSERT INTO {fts} (rowid, {names}) VALUES (new.rowid, {new});"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING FTS5 ({names}, content=[{table}])",
        f"CREATE TRIGGER [{table}_ai] AFTER INSERT ON [{table}] BEGIN {insert} END",
        f"CREATE TRIGGER [{table}_ad] AFTER DELETE ON [{table}] BEGIN {delete} END",
        f"CREATE TRIGGER [{table}_au] AFTER UPDATE ON [{table}] BEGIN {delete} {insert} END",
        f"INSERT INTO {fts} ({fts}) VALUES ('rebuild')",
    ]


def m007_search(db: sqlite_utils.Database) -> None:
    """Full-text search over titles, post texts, authors and URLs, kept in step by triggers.

    Written out rather than through `enable_fts`, whose `executescript` would commit the
    migration's transaction halfway; the rows already there are indexed at once.
    """
    for table, columns in SEARCHED.items():
        for statement in _search_sql(table, columns):
            db.execute(statement)


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    m001_initial,
    m002_operational_state,
    m003_source_item_retries,
    m004_posts,
    m005_tweets_as_posts,
    m006_evidence,
    m007_search,
]

DERIVED_TABLES = [
    "link_media",
    "hops",
    "links",
    "media_sources",
    "media",
    "posts",
    "articles",
]
POST_COLUMNS = (
    "key",
    "site",
    "id",
    "url",
    "author",
    "author_name",
    "text",
    "created_at",
    "source",
    "origin_url",
    "quoted",
    "reposted",
)


T = TypeVar("T")
BATCH = 500  # ids a query names, well under SQLite's limit on parameters


def batches(ids: Sequence[T]) -> Iterator[list[T]]:
    """`ids` a few hundred at a time, for `... in (?, ?, ...)` queries of any length."""
    for start in range(0, len(ids), BATCH):
        yield list(ids[start : start + BATCH])


def like_escape(text: str) -> str:
    """`text` for a `like ? escape '\\'` pattern: its own \\, % and _ match themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Index:
    """The archive's SQLite index; open it from one thread and write through it alone."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
            # sqlite-utils turns recursive_triggers on: a row replaced on conflict (INSERT OR
            # REPLACE) then fires its delete trigger, and leaves the search tables too.
            self.db = sqlite_utils.Database(conn)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.migrate()
        except sqlite3.DatabaseError as e:
            raise ArchiveError(f"cannot open the index {path}: {e}") from e

    @classmethod
    def reader(cls, path: Path) -> Index:
        """A read-only view for worker threads: no migrations, no locks taken for writing."""
        index = cls.__new__(cls)
        index.path = path
        uri = path.resolve().as_uri()
        try:
            conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30)
            try:
                conn.execute("select count(*) from sqlite_master").fetchone()
            except sqlite3.OperationalError:
                conn.close()
                # A read-only folder: SQLite cannot make the WAL's shared-memory file there.
                # Nothing can write such an archive either, so read the file as it stands.
                conn = sqlite3.connect(f"{uri}?immutable=1", uri=True, timeout=30)
                conn.execute("select count(*) from sqlite_master").fetchone()
            index.db = sqlite_utils.Database(conn)
        except sqlite3.DatabaseError as e:
            raise ArchiveError(f"cannot read the index {path}: {e}") from e
        return index

    @classmethod
    def for_reading(cls, path: Path) -> Index:
        """The index of a command that only reads: brought up to date (migrated) when the
        archive can be written, else read as it is (a read-only copy, a mounted snapshot)."""
        writable = os.access(path.parent, os.W_OK) and (
            not path.exists() or os.access(path, os.W_OK)
        )
        return cls(path) if writable else cls.reader(path)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        """One write transaction, taken up front (BEGIN IMMEDIATE) so no other writer interleaves.

        sqlite-utils' own writes inside it become savepoints; nested calls join the outer one.
        """
        if self.db.conn.in_transaction:
            with self.db.atomic():
                yield
            return
        try:
            self.db.conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                if self.db.conn.in_transaction:
                    self.db.conn.execute("ROLLBACK")
                raise
            self.db.conn.execute("COMMIT")
        except sqlite3.OperationalError as e:  # busy past the timeout, locked, disk I/O
            raise ArchiveError(f"cannot write the index {self.path}: {e}") from e

    def migrate(self) -> list[str]:
        """Apply the migrations not yet recorded, each with its record in one transaction."""
        applied = []
        for migration in MIGRATIONS:
            with self.write():
                # Read inside the transaction: another process may have just applied it.
                table = self.db.table("_migrations")
                if not table.exists():
                    table.create({"name": str, "applied_at": str}, pk="name")
                if list(table.rows_where("name = ?", [migration.__name__])):
                    continue
                migration(self.db)
                table.insert({"name": migration.__name__, "applied_at": iso(utcnow())})
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

    def known_media(self) -> dict[str, MediaFile]:
        """Every source URL already archived, as the sidecar needs to cite it again."""
        sql = """
            select s.url as source_url, s.sha256, s.fetched_at, s.method, s.remuxed, s.tool,
                   s.headers, m.path, m.size, m.mime, m.width, m.height, m.duration
            from media_sources s join media m on m.sha256 = s.sha256
        """
        known: dict[str, MediaFile] = {}
        for row in self.db.query(sql):
            row["headers"] = json.loads(row["headers"] or "{}")
            row["remuxed"] = bool(row["remuxed"])
            row["method"] = row["method"] or "http"
            known[row["source_url"]] = MediaFile(**row)
        return known

    # -- writes ------------------------------------------------------------------------------

    def write_article(self, sidecar: Sidecar) -> None:
        """Replace everything derived from one article's sidecar, in one transaction."""
        article = sidecar.article
        article_id = article.id
        with self.write():
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
                    "identity": article.identity,
                    "title": article.title,
                    "source": article.source,
                    "canonical_url": article.canonical_url,
                    "published": article.published,
                    "origin_name": article.origin_name,
                    "origin_url": article.origin_url,
                    "media_type": article.media_type,
                    "content_sha256": article.content_sha256,
                    "folder": article.folder,
                    "first_archived": (previous or {}).get("first_archived") or article.archived_at,
                    "last_archived": article.archived_at,
                },
                pk="id",
            )
            for media in sidecar.media:
                self.db.table("media").upsert(
                    {
                        "sha256": media.sha256,
                        "path": media.path,
                        "size": media.size,
                        "mime": media.mime,
                        "width": media.width,
                        "height": media.height,
                        "duration": media.duration,
                    },
                    pk="sha256",
                )
                self.db.table("media_sources").upsert(
                    {
                        "url": media.source_url,
                        "sha256": media.sha256,
                        "fetched_at": media.fetched_at,
                        "method": str(media.method),
                        "remuxed": int(media.remuxed),
                        "tool": media.tool,
                        "headers": json.dumps(dict(media.headers), sort_keys=True),
                    },
                    pk="url",
                )
            for post in sidecar.posts:
                self.db.table("posts").upsert({k: getattr(post, k) for k in POST_COLUMNS}, pk="key")
            for link in sidecar.links:
                self._write_link(article_id, link)

    def find_article_by_id(self, article_id: str) -> dict[str, Any] | None:
        rows = list(self.db.table("articles").rows_where("id = ?", [article_id], limit=1))
        return rows[0] if rows else None

    def _write_link(self, article_id: str, link: SidecarLink) -> None:
        link_id = link.id
        resolution = link.resolution
        self.db.table("links").insert(
            {
                "id": link_id,
                "article_id": article_id,
                "url": link.url,
                "raw": link.raw,
                "kind": str(link.kind),
                "found_in": str(link.found_in),
                "attribution": link.attribution,
                "outcome": str(link.outcome),
                "reason": link.reason,
                "final_url": resolution.final_url if resolution else None,
                "stop": str(resolution.stop) if resolution else None,
                "post": link.post,
                "resolved_at": link.resolved_at,
            },
            pk="id",
        )
        hops = [
            {
                "link_id": link_id,
                "n": n,
                "url": hop.url,
                "status": hop.status,
                "location": hop.location,
                "time": hop.time,
                "via": str(hop.via),
            }
            for n, hop in enumerate(resolution.hops if resolution else ())
        ]
        if hops:
            self.db.table("hops").insert_all(hops, pk=("link_id", "n"))
        for media in link.media:
            self.db.table("link_media").upsert(
                {
                    "link_id": link_id,
                    "sha256": media.sha256,
                    "post": media.post,
                    "kind": str(media.kind) if media.kind is not None else None,
                },
                pk=("link_id", "sha256"),
            )

    # -- maintenance: rebuild-index, remove ------------------------------------------------

    def clear_derived(self) -> None:
        """Empty every table derived from the sidecars, in one transaction; keep the others."""

        with self.write():
            for name in DERIVED_TABLES:  # children before parents, for the foreign keys
                if self.db.table(name).exists():
                    self.db.execute(f"delete from [{name}]")

    def drop_search(self) -> None:
        """Drop the full-text search tables and their triggers (before a rebuild: a search
        table that no longer matches its table cannot even take the deletes)."""
        with self.write():
            for table in SEARCHED:
                for suffix in ("ai", "ad", "au"):
                    self.db.execute(f"DROP TRIGGER IF EXISTS [{table}_{suffix}]")
                self.db.execute(f"DROP TABLE IF EXISTS [{table}_fts]")

    def create_search(self) -> None:
        """Make the full-text search tables again from the tables they index."""
        with self.write():
            m007_search(self.db)

    def delete_article(self, article_id: str, *, media: tuple[str, ...] = ()) -> None:
        """Delete an article's rows, and the media rows named, in one transaction.

        Its retry schedule and link checks go too; a source item that brought it stays, so a
        removed article is not archived again by the next run.
        """
        links = "select id from links where article_id = ?"

        with self.write():
            self.db.execute("delete from retries where article_id = ?", [article_id])
            self.db.execute("delete from link_checks where article_id = ?", [article_id])
            self.db.execute(f"delete from hops where link_id in ({links})", [article_id])
            self.db.execute(f"delete from link_media where link_id in ({links})", [article_id])
            self.db.execute("delete from links where article_id = ?", [article_id])
            self.db.execute("delete from articles where id = ?", [article_id])
            self.db.execute("delete from timestamps where article_id = ?", [article_id])
            for sha in media:
                self.db.execute("delete from perceptual_hashes where sha256 = ?", [sha])
                self.db.execute("delete from media_evidence where sha256 = ?", [sha])
                self.db.execute("delete from media_sources where sha256 = ?", [sha])
                self.db.execute("delete from media where sha256 = ?", [sha])
            # Posts no link cites any more go with the last article citing them; a post that
            # one left quotes or reposts stays.
            self.db.execute(
                "delete from posts where key not in"
                " (select post from links where post is not null)"
                " and key not in (select quoted from posts where quoted is not null)"
                " and key not in (select reposted from posts where reposted is not null)"
            )

    def referenced_elsewhere(self, article_id: str) -> set[str]:
        """The media sha256s that links of other articles than this one point at."""
        return {
            row["sha256"]
            for row in self.db.query(
                "select distinct lm.sha256 from link_media lm join links l on l.id = lm.link_id"
                " where l.article_id != ?",
                [article_id],
            )
        }
