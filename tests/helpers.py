"""What test modules share: running archive(), reading what it wrote, worlds in the web."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import sqlite_utils
from click.testing import CliRunner, Result
from PIL import Image
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from embedarc.cli import cli
from embedarc.config import Settings
from embedarc.job.pipeline import Input, Report, archive
from embedarc.model import (
    Evidence,
    Hop,
    Link,
    LinkKind,
    LinkResult,
    MediaFile,
    MediaKind,
    Outcome,
    Post,
    PostMedia,
    Resolution,
    Stop,
    Via,
)
from embedarc.network.guard import Resolver
from embedarc.reading.articles import read_html, read_text
from embedarc.reading.links import normalise
from embedarc.upkeep.verify import VerifyReport
from tests.conftest import EMBEDARC, embedarc_env
from tests.simweb import (
    Gif,
    Photo,
    Request,
    Response,
    SimWeb,
    TweetSpec,
    Video,
    snowflake,
)
from tests.simweb.bluesky import BlueskySim, BskyImage, install
from tests.simweb.media import make_mp4

WHEN = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
FEED_WHEN = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)


def html_input(body: str, url: str | None = None, label: str = "page.html") -> Input:
    return Input(label, article=read_html(body.encode(), source=label, url=url))


def link_entry(sidecar: dict[str, Any], url: str) -> dict[str, Any]:
    return next(entry for entry in sidecar["links"] if entry["url"] == url)


def make_tweet(web: SimWeb, seq: int, media: Sequence[Photo | Video | Gif], **kw: Any) -> TweetSpec:
    return web.tweet(
        snowflake(WHEN, seq=seq),
        f"user{seq}",
        f"User {seq}",
        f"tweet {seq}",
        WHEN,
        media=list(media),
        **kw,
    )


def media_requests(web: SimWeb) -> list[str]:
    return [
        r.url
        for r in web.requests
        if r.host in ("video.twimg.com", "pbs.twimg.com", "media.example.org")
    ]


def run(settings: Settings, *inputs: Input) -> list[Report]:
    return archive(inputs=list(inputs), settings=settings)


def sidecar_of(archive_dir: Path, report: Report) -> dict[str, Any]:
    assert report.folder is not None, report.error
    data: dict[str, Any] = json.loads((archive_dir / report.folder / "article.json").read_text())
    return data


def stored_hashes(archive_dir: Path) -> set[str]:
    return {p.name.split(".")[0] for p in (archive_dir / "media").rglob("*") if p.is_file()}


def text_input(body: str, label: str = "post.txt") -> Input:
    return Input(label, article=read_text(body.encode(), source=label))


FEED_URL = "https://feeds.example.com/world.xml"


def article_world(web: SimWeb, count: int) -> list[Any]:
    """`count` articles, each behind an ift.tt link, each embedding a photo tweet."""
    tweets = []
    for n in range(count):
        tweet = web.tweet(
            snowflake(FEED_WHEN, seq=n),
            f"src{n}",
            f"Source {n}",
            f"photo {n}",
            FEED_WHEN,
            media=[Photo(120, 90)],
        )
        page = (
            f"<html><head><title>Story {n}</title>"
            f"<link rel=canonical href='https://news.example.org/{n}'></head>"
            f"<body><article><p>Story {n}</p><a href='{tweet.status_url}'>tweet</a></article>"
            "</body></html>"
        )
        web.page(f"https://news.example.org/{n}", page)
        web.ift_tt(f"story{n}", f"https://news.example.org/{n}")
        tweets.append(tweet)
    return tweets


def db(archive_dir: Path) -> sqlite_utils.Database:
    return sqlite_utils.Database(archive_dir / "index.db")


def embedarc(archive_dir: Path, *args: str) -> Result:
    """The CLI in-process on the test's archive; `simweb` has pointed the environment at it."""
    return CliRunner().invoke(
        cli,
        [*args, "--archive-dir", str(archive_dir)],
        catch_exceptions=False,
        env={"EMBEDARC_RETRY_PAUSE": "0"},
    )


def media_hits(web: SimWeb) -> int:
    return len(web.requests_to("pbs.twimg.com")) + len(web.requests_to("video.twimg.com"))


def new_archive(archive_dir: Path) -> Path:
    """An empty archive, as `sources add` or `archive` leaves one: `run` needs one to exist."""
    from embedarc.keeping.index import Index
    from embedarc.keeping.store import Store

    Store(archive_dir).ensure()
    Index(archive_dir / "index.db").close()
    return archive_dir


def photo_url(tweet: Any) -> str:
    """The URL embedarc asks for a tweet's photo: its name=orig form."""
    return normalise(tweet.files[0].url)


def rss(items: list[tuple[str, str]]) -> str:
    entries = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid></item>"
        for title, link in items
    )
    channel = f"<channel><title>World</title>{entries}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'


def serve_feed(web: SimWeb, body: str, etag: str = '"v1"') -> None:
    """A feed that answers conditional GETs as real servers do."""

    def answer(request: Request) -> Response:
        if request.headers.get("if-none-match") == etag:
            return Response(304, {"ETag": etag})
        return Response(200, {"Content-Type": "application/rss+xml", "ETag": etag}, body.encode())

    web.route(FEED_URL, answer)


def direct_to(monkeypatch: pytest.MonkeyPatch, *hosts: str) -> None:
    """Send requests for `hosts` without the proxy, as an intranet user's NO_PROXY would."""
    monkeypatch.setenv("NO_PROXY", ",".join(hosts))
    monkeypatch.setenv("no_proxy", ",".join(hosts))


def resolving_to(*addresses: str) -> tuple[list[str], Resolver]:
    """A resolver answering `addresses` for every name, and the list of names it was asked."""
    asked: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return list(addresses)

    return asked, resolver


def syndication_answer(web: SimWeb, tweet_id: str) -> dict[str, Any]:
    """What the simulated syndication API says about a tweet, fetched like any client would."""
    from embedarc.platforms.x.services import syndication_token

    with web.client() as client:
        url = "https://cdn.syndication.twimg.com/tweet-result"
        got = client.get(url, params={"id": tweet_id, "token": syndication_token(tweet_id)})
    data: dict[str, Any] = got.json()
    return data


def assert_consistent(report: VerifyReport) -> None:
    """What must hold even right after a kill: no file unlike its name, no dangling row."""
    assert not report.altered, report.altered
    assert not report.missing, report.missing


def finish(web: SimWeb, cwd: Path, *args: str) -> None:
    """Run to completion."""
    proc = start(web, cwd, *args)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()


def start(web: SimWeb, cwd: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [EMBEDARC, *args],
        cwd=cwd,
        env=embedarc_env(web),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def write_articles(web: SimWeb, folder: Path, count: int) -> tuple[list[str], set[str]]:
    """Article files citing one tweet each (through t.co); their names and the media wanted."""
    names, wanted = [], set()
    for n in range(count):
        media: list[Photo | Video] = [Photo(96 + n, 64)]
        if n % 3 == 0:
            media.append(Video(160, 90, seconds=0.5))
        tweet = make_tweet(web, 100 + n, media)
        (folder / f"a{n}.txt").write_text(f"Article {n}\nFootage: {tweet.tco_url}\n")
        names.append(f"a{n}.txt")
        wanted |= {f.sha256 for f in tweet.files}
    return names, wanted


class HeaderTrickler:
    """An HTTP server on loopback that sends its status line at once, then its headers one
    byte at a time, `interval` seconds apart: each read finishes well inside any timeout."""

    def __init__(self, interval: float, padding: int) -> None:
        self.interval = interval
        self.padding = padding
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            head = b"X-Pad: " + b"a" * self.padding + b"\r\nContent-Length: 2\r\n\r\n"
            try:
                for byte in head:
                    conn.sendall(bytes([byte]))
                    time.sleep(self.interval)
                conn.sendall(b"ok")
            except OSError:
                return

    def close(self) -> None:
        self.sock.close()


def read_terminal(master: int, proc: subprocess.Popen[bytes]) -> str:
    """Everything a pseudo-terminal's child wrote to it, until it closed it (or 120 s of
    silence, when the child is killed); closes the terminal's master side."""
    received = bytearray()
    while True:
        ready, _, _ = select.select([master], [], [], 120)
        if not ready:
            proc.kill()
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        received += chunk
    os.close(master)
    return received.decode(errors="replace")


def archive_text(archive_dir: Path, tmp_path: Path, name: str, text: str, *args: str) -> None:
    source = tmp_path / name
    source.write_text(text)
    done = embedarc(archive_dir, "archive", str(source), *args)
    assert done.exit_code in (0, 1), done.output


def article_folder(archive_dir: Path, title_part: str) -> Path:
    for folder in (archive_dir / "articles").iterdir():
        data = json.loads((folder / "article.json").read_text())
        if title_part in data["article"]["title"]:
            return folder
    raise AssertionError(f"no article titled {title_part!r}")


def parse(path: Path) -> HTMLParser:
    return HTMLParser(path.read_text(encoding="utf-8"))


def local_targets(page: Path) -> list[Path]:
    """Every file a page points at in the archive (href, src, poster), resolved from the page."""
    tree = parse(page)
    found = []
    for node in tree.css("[href], [src], [poster]"):
        for name in ("href", "src", "poster"):
            value = node.attributes.get(name)
            if value is None or value.startswith("#"):
                continue
            if urlsplit(value).scheme in ("http", "https"):
                continue
            found.append(page.parent / unquote(value))
    return found


TSA_URL = "https://tsa.example.org/tsr"


PHOTO_URL = "https://media.example.org/photo.jpg"


def jpeg(color: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, "JPEG")
    return out.getvalue()


def archive_photo(settings: Settings, simweb: SimWeb, title: str = "Story") -> Report:
    simweb.file(PHOTO_URL, jpeg(), "image/jpeg")
    [report] = run(settings, text_input(f"{title}\nThe photo: {PHOTO_URL}\n", f"{title}.txt"))
    assert report.folder is not None and not report.failed, report.summary()
    return report


STORY = "https://news.example.org/2024/03/strike"


SHORT = "https://sho.rt/clip"


CLIP = "https://cdn.example.net/footage/clip.mp4"


def story_html(post_url: str) -> str:
    return (
        "<html><head><title>Strike</title>"
        f'<link rel="canonical" href="{STORY}"></head><body><p>Footage: '
        f'<a href="{SHORT}">clip</a> and <a href="{post_url}">a post</a></p></body></html>'
    )


def make_world(web: SimWeb) -> dict[str, Any]:
    """An article served gzip-encoded, a short link to a video, a Bluesky photo post."""
    sky: BlueskySim = install(web)
    alice = sky.account("alice.example.com", "Alice")
    post = sky.post(alice, "3lbdyqv6l5k2a", "a picture", images=[BskyImage(320, 240, 1)])
    page = story_html(post.url).encode()
    web.page(STORY, gzip.compress(page, mtime=0), headers={"Content-Encoding": "gzip"})
    web.redirect(SHORT, CLIP, 302)
    clip = make_mp4(64, 48, 1.0, seed=3)
    web.file(CLIP, clip, "video/mp4")
    return {"post": post, "page": page, "gzipped": gzip.compress(page, mtime=0), "clip": clip}


def archive_world(settings: Settings, web: SimWeb) -> tuple[Report, dict[str, Any]]:
    world = make_world(web)
    [report] = run(settings, Input(STORY, url=STORY))
    assert report.error is None, report.error
    return report, world


def export(archive_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["export", "--archive-dir", str(archive_dir), *args], catch_exceptions=False
    )


def wacz_validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wacz", "validate", "-f", str(path)], capture_output=True, text=True
    )


PREVIOUS_RELEASE = Path(__file__).parent / "fixtures" / "archive-0.1.0"


@contextlib.contextmanager
def read_only_view(folder: Path, mount_point: Path) -> Iterator[Path]:
    """`folder` seen through a read-only bind mount: what a non-root user of a read-only
    archive (or a read-only snapshot) sees, even though the tests run as root."""
    mount_point.mkdir()
    try:
        subprocess.run(["mount", "--bind", str(folder), str(mount_point)], check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        pytest.skip(f"cannot bind-mount here: {e}")
    try:
        subprocess.run(
            ["mount", "-o", "remount,bind,ro", str(mount_point)], check=True, capture_output=True
        )
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=True)


def records(warc: Path) -> list[Any]:
    """(type, target URI, payload digest, HTTP status, block, WARC headers) of each record."""
    from warcio.archiveiterator import ArchiveIterator

    found = []
    with warc.open("rb") as f:
        for record in ArchiveIterator(f, no_record_parse=True):
            block = record.raw_stream.read()
            status = None
            if record.rec_type == "response":
                status = block.split(b" ", 2)[1].decode()
            found.append(
                (
                    record.rec_type,
                    record.rec_headers.get_header("WARC-Target-URI"),
                    record.rec_headers.get_header("WARC-Payload-Digest"),
                    status,
                    block,
                    dict(record.rec_headers.headers),
                )
            )
    return found


def rich_result() -> LinkResult:
    original = Post(
        site="x",
        id="8",
        url="https://twitter.com/b/status/8",
        author="@b",
        author_name="B",
        text="orig \u2603",
        created_at="2024-03-01T12:00:00Z",
        media=(PostMedia("https://pbs.twimg.com/media/a.jpg", MediaKind.PHOTO, 640, 480),),
        quoted=Post("x", "7", "https://twitter.com/c/status/7", None, None, "", None),
    )
    post = Post(
        site="x",
        id="9",
        url="https://twitter.com/a/status/9",
        author="@a",
        author_name="A",
        text="rt",
        created_at=None,
        reposted=original,
        source="graphql",
        card="summary",
    )
    media = MediaFile(
        sha256="ab" * 32,
        size=10,
        mime="video/mp4",
        path="media/ab/" + "ab" * 32 + ".mp4",
        source_url="https://video.twimg.com/v.mp4",
        fetched_at="2024-03-01T12:00:01Z",
        width=640,
        height=360,
        duration=2.0,
        headers={"content-type": "video/mp4"},
        post="x:8",
        kind=MediaKind.VIDEO,
    )
    return LinkResult(
        link=Link("https://t.co/abc", LinkKind.TCO, raw="t.co/abc", post=None),
        outcome=Outcome.ARCHIVED,
        resolution=Resolution(
            url="https://t.co/abc",
            hops=(
                Hop("https://t.co/abc", 301, "https://twitter.com/a/status/9", "t", via=Via.HTTP),
            ),
            final_url="https://twitter.com/a/status/9",
            stop=Stop.POST,
            status=301,
        ),
        reason=None,
        media=(media,),
        evidence=(Evidence("9.x.json", b"\x00\xff{binary}"),),
        extra={"retry_after": "120"},
        post=post,
    )


BIN = Path(sys.executable).parent


def warcio_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "warcio"), "check", "-v", str(path)], capture_output=True, text=True
    )


def run_cpu_limited(script: str, cpu_seconds: int = 120) -> subprocess.CompletedProcess[str]:
    """Run a Python `script` in a fresh interpreter from the checkout, killed past
    `cpu_seconds` of CPU: a hang guard for work that must stay linear, not a measure of speed
    (the limit sits far from both the linear and the quadratic cost)."""
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))

    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        preexec_fn=limit,
        cwd=Path(__file__).parent.parent,
        check=False,
    )


def telegram_photo_page(style: str, channel: str = "evilchan", id: int = 7) -> str:
    stamp = WHEN.isoformat(timespec="seconds")
    return (
        f'<div class="tgme_widget_message js-widget_message" data-post="{channel}/{id}">'
        f'<a class="tgme_widget_message_photo_wrap" href="https://t.me/{channel}/{id}"'
        f' style="{style}"></a>'
        '<div class="tgme_widget_message_text">x</div>'
        '<div class="tgme_widget_message_footer"><a class="tgme_widget_message_date">'
        f'<time datetime="{stamp}"></time></a></div></div>'
    )
