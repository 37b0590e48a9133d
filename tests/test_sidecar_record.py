"""article.json as a typed record: every sidecar embedarc wrote reads and writes back unchanged,
values a hand or a later release put there are kept, and no reader can edit one in place."""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from embedarc.config import Settings
from embedarc.job.retries import RetryBook
from embedarc.keeping import sidecar
from embedarc.keeping.index import Index
from embedarc.keeping.sidecar import upgrade
from embedarc.keeping.sidecar_record import NOT_GIVEN, Sidecar, SidecarError, SidecarLink, Unknown
from embedarc.model import Failure, FoundIn, LinkKind, MediaKind, Method, Outcome, Stop, Via
from tests.helpers import PREVIOUS_RELEASE, archive_text, article_folder, embedarc
from tests.simweb import SimWeb, scenarios
from tests.simweb.bluesky import BskyImage, install

EXAMPLE = Path(__file__).parent.parent / "examples" / "zerohedge-syria-strike.txt"


def _sidecars(root: Path) -> list[Path]:
    return sorted((root / "articles").glob("*/article.json"))


def _edit(folder: Path, change: Callable[[dict[str, Any]], None]) -> None:
    path = folder / "article.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2))


# -- every sidecar embedarc wrote -----------------------------------------------------------


@pytest.mark.parametrize("path", _sidecars(PREVIOUS_RELEASE), ids=lambda p: p.parent.name[-8:])
def test_a_sidecar_of_the_previous_release_reads_and_writes_back_unchanged(path: Path) -> None:
    data = upgrade(json.loads(path.read_bytes()))

    record = Sidecar.from_json(data)

    assert record.problems == ()
    assert record.to_json() == data
    assert json.dumps(record.to_json()) == json.dumps(data)  # keys in the order read
    assert record.schema == sidecar.SCHEMA and record.article.title.startswith("US Launches")
    assert {link.kind for link in record.links} >= {LinkKind.ORIGIN, LinkKind.PIC_TWITTER}
    assert all(isinstance(link.outcome, Outcome) for link in record.links)
    assert {post.key for post in record.posts} == {m.post for m in record.media}
    assert record.links[0].resolution is not None
    assert record.links[0].resolution.hops[0].via is Via.HTTP
    # Kept from schema 1, unknown to this one: the resolution's tweet_id.
    assert "tweet_id" in record.links[0].resolution.extra


def test_a_schema_1_sidecar_is_read_through_its_upgrade() -> None:
    [path] = _sidecars(PREVIOUS_RELEASE)
    data = json.loads(path.read_bytes())

    record = sidecar.parse(data)

    assert record == Sidecar.from_json(upgrade(data)) and record.schema == sidecar.SCHEMA
    assert record.posts and "tweets" not in record.extra


@pytest.fixture
def busy_archive(simweb: SimWeb, archive_dir: Path, tmp_path: Path) -> Path:
    """An archive written by this release: the bundled example (tweets, an origin page), a
    Bluesky post with a picture, a file that fails with 503 (a retry entry) and one gone."""
    scenarios.example(simweb)
    shutil.copy(EXAMPLE, tmp_path / "example.txt")
    assert embedarc(archive_dir, "archive", str(tmp_path / "example.txt")).exit_code == 0
    sky = install(simweb)
    una = sky.account("una.example.com", "Una")
    post = sky.post(una, "3lrecordkeep2a", "a picture", images=[BskyImage(100, 80, 3)])
    simweb.fail("https://news.example.org/b.mp4", 503)
    simweb.fail("https://news.example.org/gone.mp4", 404)
    body = f"Busy story\n{post.url}\nhttps://news.example.org/b.mp4\n"
    archive_text(archive_dir, tmp_path, "busy.txt", body + "https://news.example.org/gone.mp4\n")
    return archive_dir


def test_sidecars_this_release_writes_read_and_write_back_byte_for_byte(
    busy_archive: Path,
) -> None:
    paths = _sidecars(busy_archive)
    assert len(paths) == 2

    for path in paths:
        raw = path.read_bytes()
        record = sidecar.parse(json.loads(raw))
        assert record.problems == ()
        assert sidecar.dumps(record) == raw

    busy = sidecar.read(article_folder(busy_archive, "Busy story"))
    assert busy is not None
    by_url = {link.url: link for link in busy.links}
    failed = by_url["https://news.example.org/b.mp4"]
    assert failed.outcome is Outcome.FAILED and failed.failure is Failure.SERVER_ERROR
    assert failed.attempts == 1 and failed.next_attempt
    assert by_url["https://news.example.org/gone.mp4"].outcome is Outcome.GONE
    [kept] = [link for link in busy.links if link.outcome is Outcome.ARCHIVED]
    assert kept.kind is LinkKind.POST and kept.found_in is FoundIn.ARTICLE
    assert kept.resolution is not None and kept.resolution.stop is Stop.POST
    [post] = busy.posts
    assert post.key == kept.post and post.media[0].kind is MediaKind.PHOTO
    [media] = busy.media
    assert media.method is Method.HTTP and media.kind is MediaKind.PHOTO and media.article_path


# -- values a hand or a later release put there -----------------------------------------------


def _plain() -> dict[str, Any]:
    [path] = _sidecars(PREVIOUS_RELEASE)
    return upgrade(json.loads(path.read_bytes()))


def _at(data: dict[str, Any], where: str, value: Any) -> None:
    *parents, last = where.split(".")
    for name in parents:
        data = data[name][0] if isinstance(data[name], list) else data[name]
    data[last] = value


HOSTILE = {
    "a number for a link's URL": ("links.url", 5, "Sidecar.links[0].url"),
    "a list for the title": ("article.title", ["t"], "Sidecar.article.title"),
    "text for a hop's status": ("links.resolution.hops.status", "200", "hops[0].status"),
    "an object for the evidence": ("links.evidence", {"a": 1}, "Sidecar.links[0].evidence"),
    "a list for an outcome": ("links.outcome", ["gone"], "Sidecar.links[0].outcome"),
    "text for a flag": ("media.remuxed", "no", "Sidecar.media[0].remuxed"),
    "a number for the links": ("links", 3, "Sidecar.links"),
    "a list for a post's key": ("posts.key", ["x:1"], "Sidecar.posts[0].key"),
    "numbers for headers": ("media.headers", {"a": 1}, "Sidecar.media[0].headers.a"),
    "text for the links skipped": ("article.links_skipped", "2", "article.links_skipped"),
}


@pytest.mark.parametrize(("where", "value", "named"), HOSTILE.values(), ids=HOSTILE.keys())
def test_a_field_that_does_not_fit_is_named_and_kept_as_written(
    where: str, value: Any, named: str
) -> None:
    data = _plain()
    _at(data, where, value)

    record = Sidecar.from_json(data)

    assert any(named in problem for problem in record.problems), record.problems
    assert record.to_json() == data  # written back as the hand wrote it
    with pytest.raises(SidecarError, match=named.replace("[", r"\[").replace("]", r"\]")):
        Sidecar.from_json(data, strict=True)


def test_a_field_that_does_not_fit_reads_as_its_default() -> None:
    data = _plain()
    data["links"][0]["url"] = 5
    data["links"][0]["outcome"] = ["gone"]
    data["posts"][0]["key"] = ["x:1"]

    record = Sidecar.from_json(data)

    assert record.links[0].url == "" and not record.links[0].has("url")
    assert record.links[0].outcome is NOT_GIVEN and str(record.links[0].outcome) == ""
    assert record.posts[0].key == ""
    # Given a value, the record writes it, not the one kept as read.
    fixed = record.links[0].updated(url="https://a.example/")
    assert fixed.to_json()["url"] == "https://a.example/" and fixed.has("url")


def test_an_entry_that_is_not_an_object_is_left_out_and_named() -> None:
    data = _plain()
    data["links"].insert(1, "not a link")
    data["posts"].append(7)

    record = Sidecar.from_json(data)

    assert len(record.links) == len(data["links"]) - 1
    assert "Sidecar.links[1]: an object expected, not str" in record.problems
    assert any(p.startswith("Sidecar.posts[") for p in record.problems)
    with pytest.raises(SidecarError, match=r"Sidecar\.links\[1\]"):
        Sidecar.from_json(data, strict=True)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"{not json", "article.json is not valid JSON"),
        (b"[]", "article.json has no article"),
        (b'{"article": 5}', "article.json has no article"),
        (b'{"article": {}, "media": [1]}', "article.json has a malformed media list"),
        (b'{"article": {}, "media": {}}', "article.json has a malformed media list"),
    ],
)
def test_a_file_that_is_no_sidecar_is_refused_in_one_line(
    tmp_path: Path, content: bytes, why: str
) -> None:
    (tmp_path / "article.json").write_bytes(content)

    data, reason = sidecar.load(tmp_path)

    assert data is None and reason is not None and reason.startswith(why)
    assert "\n" not in reason


def test_keys_this_release_does_not_know_are_kept_at_every_level() -> None:
    data = _plain()
    data["future"] = {"a": [1, 2]}
    data["article"]["language"] = "en"
    data["links"][1]["archived_by"] = "a later release"
    data["links"][1]["media"][0]["frame"] = 3
    data["links"][1]["resolution"]["hops"][0]["tls"] = "1.3"
    data["posts"][0]["lang"] = "en"
    data["posts"][0]["media"][0]["alt"] = "a picture"
    data["media"][0]["codec"] = "h264"

    record = Sidecar.from_json(data)

    assert record.problems == ()
    assert record.extra == {"future": {"a": [1, 2]}}
    assert record.article.unknown() == {"language": "en"}
    assert record.to_json() == data
    assert json.dumps(record.to_json()) == json.dumps(data)


def test_archiving_again_keeps_what_a_later_release_wrote(
    archive_dir: Path, tmp_path: Path, simweb: SimWeb
) -> None:
    simweb.fail("https://news.example.org/gone.mp4", 404)
    archive_text(archive_dir, tmp_path, "a.txt", "Kept story\nhttps://news.example.org/gone.mp4\n")
    folder = article_folder(archive_dir, "Kept story")

    def later(data: dict[str, Any]) -> None:
        data["future"] = {"a": [1, 2]}
        data["article"]["language"] = "en"
        data["links"][0]["archived_by"] = "a later release"
        data["links"][0]["resolution"]["hops"][0]["tls"] = "1.3"

    _edit(folder, later)

    archive_text(archive_dir, tmp_path, "a.txt", "Kept story\nhttps://news.example.org/gone.mp4\n")

    data = json.loads((folder / "article.json").read_text())
    assert data["future"] == {"a": [1, 2]}
    assert data["article"]["language"] == "en"
    [link] = data["links"]
    assert link["outcome"] == "gone"  # final: carried over, not asked again
    assert link["archived_by"] == "a later release"
    assert link["resolution"]["hops"][0]["tls"] == "1.3"


# -- values of a set -------------------------------------------------------------------------

UNKNOWN = {
    "links.kind": "hologram",
    "links.found_in": "footnote",
    "links.outcome": "vanished",
    "links.resolution.stop": "teleported",
    "links.resolution.hops.via": "pigeon",
    "links.media.kind": "smell",
    "posts.media.kind": "smell",
    "media.kind": "smell",
    "media.method": "telepathy",
}


def _with_unknown_values(data: dict[str, Any]) -> None:
    data["links"] = data["links"][1:]  # the first with hops and media
    for where, value in UNKNOWN.items():
        _at(data, where, value)
    data["links"][0]["failure"] = "cosmic rays"


def test_a_value_of_a_set_this_release_does_not_know_is_read_as_unknown() -> None:
    data = _plain()
    _with_unknown_values(data)

    record = Sidecar.from_json(data, strict=True)  # not a problem: a later release's value

    link = record.links[0]
    assert link.resolution is not None
    values = [
        link.kind,
        link.found_in,
        link.outcome,
        link.resolution.stop,
        link.resolution.hops[0].via,
        link.media[0].kind,
        record.posts[0].media[0].kind,
        record.media[0].kind,
        record.media[0].method,
        link.failure,
    ]
    assert all(isinstance(value, Unknown) for value in values), values
    assert [str(v) for v in values] == [*UNKNOWN.values(), "cosmic rays"]
    assert link.outcome == "vanished" and link.outcome is not Outcome.GONE
    assert record.to_json() == data


def test_an_archive_holding_values_this_release_does_not_know_is_read_without_a_traceback(
    busy_archive: Path,
) -> None:
    folder = article_folder(busy_archive, "Busy story")

    def later(data: dict[str, Any]) -> None:
        for link in data["links"]:
            link.update(kind="hologram", found_in="footnote", outcome="vanished")
            link["resolution"].update(stop="teleported")
            for hop in link["resolution"]["hops"]:
                hop["via"] = "pigeon"
        data["media"][0].update(kind="smell", method="telepathy")

    _edit(folder, later)
    assert sidecar.read(folder) is not None

    for command in (["report"], ["show", "--json", folder.name], ["rebuild-index"]):
        done = embedarc(busy_archive, *command)
        assert done.exit_code == 0, (command, done.output)
    assert embedarc(busy_archive, "verify").exit_code == 0
    out = busy_archive.parent / "out.warc.gz"
    assert embedarc(busy_archive, "export", "--warc", folder.name, "-o", str(out)).exit_code == 0
    assert out.is_file()
    with sqlite3.connect(busy_archive / "index.db") as db:
        rows = set(db.execute("select kind, found_in, outcome, stop from links"))
        methods = {m for (m,) in db.execute("select method from media_sources")}
    assert ("hologram", "footnote", "vanished", "teleported") in rows
    assert "telepathy" in methods
    shown = json.loads(embedarc(busy_archive, "show", "--json", folder.name).output)
    assert {link["outcome"] for link in shown["links"]} == {"vanished"}
    assert {hop["via"] for link in shown["links"] for hop in link["hops"]} == {"pigeon"}


# -- no reader edits a sidecar -----------------------------------------------------------------


def test_records_are_frozen_and_updates_are_new_records() -> None:
    record = Sidecar.from_json(_plain())
    before = copy.deepcopy(record.to_json())

    with pytest.raises(dataclasses.FrozenInstanceError):
        record.links[0].outcome = Outcome.GONE  # type: ignore[misc]
    changed = record.updated(links=(record.links[0].updated(outcome=Outcome.GONE),))

    assert changed.links[0].outcome is Outcome.GONE and len(changed.links) == 1
    assert record.to_json() == before


def test_writing_the_retry_schedule_leaves_the_sidecar_read_and_its_file_alone(
    busy_archive: Path, settings: Settings
) -> None:
    folder = article_folder(busy_archive, "Busy story")
    raw = (folder / "article.json").read_bytes()
    record = sidecar.read(folder)
    assert record is not None
    before = copy.deepcopy(record.to_json())
    failed = [link for link in record.links if link.outcome is Outcome.FAILED]
    assert [link.attempts for link in failed] == [1]

    with Index(busy_archive / "index.db") as index:
        settled = RetryBook(index, settings).settle(
            record.links, article_id=record.article.id, fresh={link.id for link in failed}
        )

    [tried] = [link for link in settled if link.id == failed[0].id]
    assert tried.attempts == 2 and tried is not failed[0]
    assert failed[0].attempts == 1
    assert record.to_json() == before
    assert (folder / "article.json").read_bytes() == raw
    # Links it did not try are handed back as they were given.
    assert [s for s in settled if s.id != tried.id] == [
        link for link in record.links if link.id != tried.id
    ]


def test_a_retry_entry_is_written_with_its_attempts_after_the_failure() -> None:
    link = SidecarLink(
        id="l1", url="https://a.example/x", kind=LinkKind.URL, outcome=Outcome.FAILED,
        failure=Failure.NETWORK,
    )  # fmt: skip
    assert list(link.to_json())[-2:] == ["evidence", "failure"]

    settled = link.updated(attempts=3, next_attempt=None)

    assert list(settled.to_json())[-3:] == ["failure", "attempts", "next_attempt"]
    assert settled.to_json()["next_attempt"] is None
