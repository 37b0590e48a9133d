"""`check`: re-test what was archived, cheaply, and record which originals have since died.

Per archived link three things are asked, each with one small request: the link itself (does
it still lead where it led: one request, no redirects followed), its post (the cheapest
question its site allows, often one API call per post), and each media URL (HEAD, or a
one-byte ranged GET where HEAD is refused).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from .. import platforms
from ..clock import iso, utcnow
from ..config import Settings
from ..keeping.index import Index
from ..model import Outcome
from ..network.net import Net, NetworkError
from ..network.once import Once

ALIVE, DEAD, UNKNOWN = "alive", "dead", "unknown"
# Links archived from the Wayback Machine or another web archive were dead already: there is
# nothing to lose since.
CHECKED = (str(Outcome.ARCHIVED),)


@dataclass(frozen=True)
class Check:
    link_id: str
    article_id: str
    url: str
    parts: dict[str, str]  # "link", "post", "media <url>" -> alive | dead | unknown

    @property
    def verdict(self) -> str:
        states = set(self.parts.values())
        if DEAD in states:
            return DEAD
        if states == {ALIVE}:
            return ALIVE
        return UNKNOWN


@dataclass(frozen=True)
class CheckReport:
    checked: int
    alive: int
    dead: int
    unknown: int
    newly_dead: list[str]
    # Why some links could not be checked (a network error proves nothing either way): a check
    # that could not see is reported, so monitoring does not take "unknown" for "fine".
    unknown_reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _by_status(status: int) -> str:
    if status in (404, 410):
        return DEAD
    if status < 400:
        return ALIVE
    return UNKNOWN


class _Checker:
    def __init__(self, net: Net, settings: Settings) -> None:
        self.net = net
        self._posts = Once()
        self.session = platforms.Session(
            cookies=settings.cookies, third_parties=settings.third_parties
        )
        self.problems: list[str] = []  # list.append is atomic: workers share it

    def _unknown(self, why: str) -> str:
        self.problems.append(why)
        return UNKNOWN

    def link(self, url: str, first_hop: dict[str, Any] | None) -> str:
        """Does the link still lead where it led (same first redirect), or still answer?"""
        try:
            with self.net.open(url) as response:
                status = response.status_code
                location = response.headers.get("location")
        except NetworkError as e:
            return self._unknown(str(e))
        verdict = _by_status(status)
        if verdict == UNKNOWN:
            return self._unknown(f"{url}: HTTP {status}")
        if verdict == ALIVE and first_hop and first_hop.get("location") and 300 <= status < 400:
            from urllib.parse import urljoin

            if urljoin(url, location or "") != first_hop["location"]:
                return DEAD  # it leads somewhere else now
        return verdict

    def post(self, key: str, url: str) -> str:
        """One question per post (as cheap as its site allows), however many links cite it."""

        def ask() -> str:
            site, _, post_id = key.partition(":")
            try:
                platform = platforms.platform(site)
            except StopIteration:
                return self._unknown(f"post {key}: no platform {site!r} in this release")
            ref = platforms.PostRef(site, post_id, url)
            answer = platform.alive(self.net, ref, self.session)
            if answer.post is not None:
                return ALIVE
            if answer.outcome is Outcome.GONE:
                return DEAD
            return self._unknown(f"post {key}: {answer.reason}")

        return self._posts(key, ask)

    def media(self, url: str) -> str:
        try:
            with self.net.open(url, method="HEAD", follow_redirects=True) as response:
                status = response.status_code
            if status in (403, 405, 501):  # HEAD refused: ask for one byte instead
                with self.net.open(
                    url, headers={"Range": "bytes=0-0"}, follow_redirects=True
                ) as response:
                    status = response.status_code
        except NetworkError as e:
            return self._unknown(str(e))
        verdict = _by_status(status)
        return self._unknown(f"{url}: HTTP {status}") if verdict == UNKNOWN else verdict


def _targets(index: Index) -> list[dict[str, Any]]:
    rows = index.db.query(
        f"""
        select l.id, l.article_id, l.url, l.post, l.kind,
               (select p.url from posts p where p.key = l.post) post_url,
               (select json_object('status', h.status, 'location', h.location) from hops h
                 where h.link_id = l.id and h.n = 0) first_hop,
               (select json_group_array(s.url) from link_media lm join media_sources s
                 on s.sha256 = lm.sha256 where lm.link_id = l.id) media
        from links l where l.outcome in ({", ".join(repr(o) for o in CHECKED)})
        """
    )
    return list(rows)


def check(
    index: Index, settings: Settings, *, on_progress: Callable[[str], None] | None = None
) -> CheckReport:
    """Re-test every archived link and record when each was last seen alive and first seen dead."""
    targets = _targets(index)
    with Net(settings) as net, ThreadPoolExecutor(settings.concurrency) as pool:
        checker = _Checker(net, settings)

        def one(row: dict[str, Any]) -> Check:
            parts: dict[str, str] = {}
            first_hop = json.loads(row["first_hop"]) if row["first_hop"] else None
            if first_hop and first_hop.get("status") is not None:
                parts["link"] = checker.link(row["url"], first_hop)
            if row["post"]:
                parts["post"] = checker.post(row["post"], row["post_url"] or row["url"])
            for url in json.loads(row["media"] or "[]"):
                parts[f"media {url}"] = checker.media(url)
            if on_progress:
                on_progress(row["url"])
            return Check(row["id"], row["article_id"], row["url"], parts)

        results = list(pool.map(one, targets))
    report = _record(index, results)
    return replace(report, unknown_reasons=list(dict.fromkeys(checker.problems)))


def _record(index: Index, results: list[Check]) -> CheckReport:
    now = iso(utcnow())
    table = index.db.table("link_checks")
    newly: list[str] = []
    with index.write():
        for result in results:
            rows = list(table.rows_where("link_id = ?", [result.link_id], limit=1))
            before = rows[0] if rows else {}
            verdict = result.verdict
            record = {
                "link_id": result.link_id,
                "article_id": result.article_id,
                "url": result.url,
                "last_checked": now,
                "last_alive": now if verdict == ALIVE else before.get("last_alive"),
                "first_dead": before.get("first_dead"),
                "alive": {ALIVE: 1, DEAD: 0}.get(verdict, before.get("alive")),
                "detail": json.dumps(result.parts, sort_keys=True),
            }
            if verdict == DEAD and not before.get("first_dead"):
                record["first_dead"] = now
                newly.append(result.url)
            if verdict == ALIVE:
                record["first_dead"] = None  # back from the dead: a later death is news again
            table.upsert(record, pk="link_id")
    verdicts = [r.verdict for r in results]
    return CheckReport(
        checked=len(results),
        alive=verdicts.count(ALIVE),
        dead=verdicts.count(DEAD),
        unknown=verdicts.count(UNKNOWN),
        newly_dead=newly,
    )
