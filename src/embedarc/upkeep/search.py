"""`search`: find articles by the words of their titles, post texts, authors and URLs.

The index's FTS5 tables (`articles_fts`, `posts_fts`, `links_fts`, made by the `m007_search`
migration and kept in step by triggers) are asked first for which rows match and how well,
one article's best row giving its rank; snippets are made only for the articles shown. An
index read as it stands that predates those tables (a read-only archive of an older release)
is searched with LIKE instead, and the result says so.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError
from ..keeping.index import SEARCHED, Index, batches, like_escape

# What a match in each column is, as a person would say it.
FIELDS: dict[str, dict[str, str]] = {
    "articles": {"title": "title", "canonical_url": "url", "origin_url": "url"},
    "posts": {"text": "post text", "author": "author", "author_name": "author", "url": "url"},
    "links": {"url": "url", "final_url": "url", "attribution": "author"},
}
FIELD_ORDER = ("title", "post text", "author", "url")
START, END = "«", "»"  # around each matched word in a snippet
_S, _E = "\ue000", "\ue001"  # private-use marks SQLite puts in; turned into START/END after
SNIPPET_WORDS = 16
SNIPPET_CHARS = 120  # the plain-text search's window

# Which articles cite a post: through a link to it or to a file of it, or by citing a post
# that quotes or reposts it.
_CITES = """
    select post, article_id from links where post is not null
    union select lm.post, l.article_id from link_media lm join links l on l.id = lm.link_id
      where lm.post is not null
    union select p.quoted, l.article_id from posts p join links l on l.post = p.key
      where p.quoted is not null
    union select p.reposted, l.article_id from posts p join links l on l.post = p.key
      where p.reposted is not null
"""
# Each table's row -> the article(s) it belongs to.
_ARTICLE_OF = {
    "articles": "select rowid, id as article_id from articles",
    "posts": f"select p.rowid, c.article_id from posts p join ({_CITES}) c on c.post = p.key",
    "links": "select rowid, article_id from links",
}


@dataclass(frozen=True)
class Hit:
    """One article that matched: what matched in it, and a snippet around the best match."""

    article_id: str
    folder: str
    title: str | None
    matched: tuple[str, ...]  # of FIELD_ORDER
    snippet: str  # matched words between START and END

    def as_dict(self) -> dict[str, Any]:
        return {
            "article_id": self.article_id,
            "folder": self.folder,
            "title": self.title,
            "matched": list(self.matched),
            "snippet": self.snippet,
        }


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    full_text: bool  # False: the index has no search tables; words were matched as plain text


def has_search_tables(index: Index) -> bool:
    return all(index.db.table(f"{table}_fts").exists() for table in SEARCHED)


def fts_query(text: str) -> str:
    """Plain words as an FTS5 query that cannot be a syntax error: every word must appear
    (each quoted, so `"`, `AND(` or a URL mean only themselves); `word*` is a prefix."""
    terms = []
    for word in text.split():
        prefix = word.endswith("*")
        core = word.rstrip("*") if prefix else word
        if not any(ch.isalnum() for ch in core):
            continue  # nothing the tokenizer would keep: quoting it would match nothing
        quoted = '"' + core.replace('"', '""') + '"'
        terms.append(quoted + ("*" if prefix else ""))
    if not terms:
        raise UsageError(f"nothing to search for in {text!r}: give a word")
    return " ".join(terms)


def search(index: Index, text: str, *, raw: bool = False, limit: int = 50) -> SearchResult:
    """The articles whose titles, posts, authors or URLs hold every word of `text`, best first.

    With `raw`, `text` is an FTS5 query (AND, OR, NOT, NEAR, "phrases", prefix*); one that
    cannot be read is a UsageError.
    """
    if not text.strip():
        raise UsageError("nothing to search for: give a word")
    if not has_search_tables(index):
        if raw:
            raise UsageError(
                "this index has no search tables (an older release's archive read as it is),"
                " so an FTS query cannot be read; search for plain words instead"
            )
        return SearchResult(_plain_search(index, text.split(), limit), full_text=False)
    query = text if raw else fts_query(text)
    try:
        return SearchResult(_full_text(index, query, limit), full_text=True)
    except sqlite3.OperationalError as e:
        raise UsageError(f"cannot read the search {text!r}: {e}") from None


def _full_text(index: Index, query: str, limit: int) -> list[Hit]:
    db = index.db
    # Which rows match, and each article's best rank (bm25: lower is better).
    best: dict[str, float] = {}
    rows_of: dict[str, list[tuple[str, int]]] = {}
    for table in SEARCHED:
        sql = f"""
            select o.article_id, f.rowid, bm25([{table}_fts]) as rank
            from [{table}_fts] f join ({_ARTICLE_OF[table]}) o on o.rowid = f.rowid
            where [{table}_fts] match ?
        """
        for article_id, rowid, rank in db.execute(sql, [query]).fetchall():
            rows_of.setdefault(article_id, []).append((table, rowid))
            if rank < best.get(article_id, float("inf")):
                best[article_id] = rank
    chosen = sorted(best, key=lambda a: (best[a], a))[: limit if limit > 0 else None]
    if not chosen:
        return []
    # Snippets of the chosen articles' rows: which columns matched, and the words around.
    snippets: dict[tuple[str, int], dict[str, str]] = {}
    for table, columns in SEARCHED.items():
        rowids = sorted({r for a in chosen for t, r in rows_of[a] if t == table})
        if not rowids:
            continue
        parts = ", ".join(
            f"snippet([{table}_fts], {n}, '{_S}', '{_E}', '…', {SNIPPET_WORDS})"
            for n in range(len(columns))
        )
        for batch in batches(rowids):
            marks = ", ".join("?" for _ in batch)
            sql = (
                f"select rowid, {parts} from [{table}_fts]"
                f" where [{table}_fts] match ? and rowid in ({marks})"
            )
            for rowid, *texts in db.execute(sql, [query, *batch]).fetchall():
                snippets[(table, rowid)] = {
                    column: text or "" for column, text in zip(columns, texts, strict=True)
                }
    articles = _articles(index, chosen)
    hits = []
    for article_id in chosen:
        matched: set[str] = set()
        snippet = ""
        for table, rowid in rows_of[article_id]:
            for column, text in snippets.get((table, rowid), {}).items():
                if _S in text:
                    matched.add(FIELDS[table][column])
                    snippet = snippet or _marked(text)
        article = articles.get(article_id, {})
        hits.append(
            Hit(
                article_id=article_id,
                folder=str(article.get("folder") or ""),
                title=article.get("title"),
                matched=tuple(f for f in FIELD_ORDER if f in matched),
                snippet=snippet,
            )
        )
    return hits


def _marked(text: str) -> str:
    return text.replace(_S, START).replace(_E, END)


def _articles(index: Index, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    found = {}
    for batch in batches(list(ids)):
        marks = ", ".join("?" for _ in batch)
        sql = f"select id, folder, title, first_archived from articles where id in ({marks})"
        found.update({row["id"]: row for row in index.db.query(sql, batch)})
    return found


def _like(word: str) -> str:
    return f"%{like_escape(word)}%"


def _plain_search(index: Index, words: list[str], limit: int) -> list[Hit]:
    """Every word somewhere in one row, case-insensitively (ASCII): slower, no ranking."""
    found: dict[str, tuple[set[str], str]] = {}
    for table, columns in SEARCHED.items():
        if not index.db.table(table).exists():
            continue
        present = set(index.db.table(table).columns_dict)
        columns = tuple(c for c in columns if c in present)
        each = " and ".join(
            "(" + " or ".join(f"t.[{c}] like ? escape '\\'" for c in columns) + ")" for _ in words
        )
        params = [_like(w) for w in words for _ in columns]
        sql = (
            f"select o.article_id, {', '.join(f't.[{c}]' for c in columns)} from [{table}] t"
            f" join ({_ARTICLE_OF[table]}) o on o.rowid = t.rowid where {each}"
        )
        for article_id, *texts in index.db.execute(sql, params).fetchall():
            matched, snippet = found.get(article_id, (set(), ""))
            for column, text in zip(columns, texts, strict=True):
                window = _window(text or "", words)
                if window:
                    matched.add(FIELDS[table][column])
                    snippet = snippet or window
            found[article_id] = (matched, snippet)
    articles = _articles(index, found)
    newest = sorted(
        found, key=lambda a: (str(articles.get(a, {}).get("first_archived") or ""), a), reverse=True
    )
    return [
        Hit(
            article_id=article_id,
            folder=str(articles.get(article_id, {}).get("folder") or ""),
            title=articles.get(article_id, {}).get("title"),
            matched=tuple(f for f in FIELD_ORDER if f in found[article_id][0]),
            snippet=found[article_id][1],
        )
        for article_id in newest[: limit if limit > 0 else None]
    ]


def _window(text: str, words: list[str]) -> str:
    """The text around the first word found in it, each word found marked; "" if none is."""
    folded = text.casefold()
    spans = []
    for word in words:
        at = folded.find(word.casefold())
        while at >= 0:
            spans.append((at, at + len(word)))
            at = folded.find(word.casefold(), at + len(word))
    if not spans:
        return ""
    spans.sort()
    first = spans[0][0]
    lo = max(0, first - SNIPPET_CHARS // 3)
    hi = min(len(text), lo + SNIPPET_CHARS)
    out, at = [], lo
    for start, end in spans:
        if start < at or end > hi:
            continue
        out += [text[at:start], START, text[start:end], END]
        at = end
    out.append(text[at:hi])
    return ("…" if lo else "") + "".join(out) + ("…" if hi < len(text) else "")
