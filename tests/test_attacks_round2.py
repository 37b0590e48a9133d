"""Attacks on the hardened archiver, as a hostile stranger (who writes the articles, feeds and
pages) and as an unlucky cron user would mount them.

Each was first written as `xfail(strict=True)` with the hole in its reason; all of them are
closed now, and each stays as a regression test of its attack.
"""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from embedarc.cli import cli
from embedarc.config import Settings
from embedarc.errors import NetworkError, Refused
from embedarc.network.guard import Policy, check_target
from embedarc.network.net import Net
from embedarc.reading import content
from embedarc.reading.articles import read_html
from tests.conftest import EMBEDARC, embedarc_env
from tests.helpers import (
    FEED_URL,
    HeaderTrickler,
    db,
    direct_to,
    embedarc,
    link_entry,
    read_terminal,
    resolving_to,
    rss,
    run,
    serve_feed,
    sidecar_of,
    text_input,
)
from tests.simweb import SimWeb
from tests.simweb.messages import Response

STORY = "https://news.example.org/story"


def archive_cli(archive_dir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli,
        ["archive", "--archive-dir", str(archive_dir), *args],
        env={"EMBEDARC_RETRY_PAUSE": "0"},
        catch_exceptions=False,
    )
    return result.exit_code, result.stdout, result.stderr


# -- 1: the private-address guard ------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127\u30020\u30020\u30021/clip.gif",  # ideographic full stops: IDNA's dots
        "http://127\uff0e0\uff0e0\uff0e1/clip.gif",  # fullwidth full stops
        "http://news.example.org@127.0.0.1/clip.gif",  # userinfo that looks like the host
        "http://news.example.org:443@0x7f000001/clip.gif",
        "http://[::ffff:7f00:1]/clip.gif",  # the mapped form in hex
        "http://[::127.0.0.1]/clip.gif",  # IPv4-compatible
        "http://%31%32%37.0.0.1/clip.gif",  # percent-encoded digits
    ],
)
def test_odd_loopback_spellings_in_an_article_are_refused_unsent(
    simweb: SimWeb, settings: Settings, url: str
) -> None:
    [report] = run(settings, text_input(f"Odd\n{url}\n"))

    assert report.outcomes == {"refused": 1}, report
    assert simweb.requests == []  # not even the proxy was asked


def test_site_local_ipv6_is_refused() -> None:
    with pytest.raises(Refused):
        check_target("[fec0::1]", Policy())


def test_wayback_answer_naming_a_private_capture_url_is_never_fetched(
    simweb: SimWeb, settings: Settings
) -> None:
    dead = "https://media.example.org/dead.mp4"
    simweb.fail(dead, 404)
    capture = "http://169.254.169.254/latest/meta-data/iam"
    simweb.json(
        "https://archive.org/wayback/available",
        {"archived_snapshots": {"closest": {"available": True, "url": capture,
                                            "timestamp": "20220101000000", "status": "200"}}},
    )  # fmt: skip

    [report] = run(settings, text_input(f"Dead\n{dead}\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), dead)
    assert entry["outcome"] != "archived_from_wayback", entry
    assert simweb.requests_to("archive.org"), "the capture was looked for"
    # The replay URL is built on web.archive.org from the timestamp; the answer's own "url"
    # (a stranger could plant anything there via a mirror) is never fetched.
    assert "web.archive.org/web/20220101000000id_/" in str(entry["reason"]), entry
    assert not [r for r in simweb.requests if r.host == "169.254.169.254"]


def test_feed_item_linking_loopback_is_rejected_and_never_requested(
    simweb: SimWeb, archive_dir: Path
) -> None:
    serve_feed(simweb, rss([("Local", "http://0x7f.1:8080/admin")]))
    assert embedarc(archive_dir, "sources", "add", FEED_URL).exit_code == 0

    result = embedarc(archive_dir, "run")

    [item] = db(archive_dir)["source_items"].rows
    assert item["state"] == "rejected", item
    assert "loopback" in (item["last_error"] or ""), item
    assert [r.host for r in simweb.requests] == ["feeds.example.com"]
    assert "Traceback" not in result.output


# -- 3: writes outside the archive -----------------------------------------------------------


def test_a_linked_index_is_not_written_through(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    simweb.page(STORY, "<html><title>Story</title><article><p>text</p></article></html>")
    (tmp_path / "a.txt").write_text(f"Story\n{STORY}\n")
    assert archive_cli(archive_dir, str(tmp_path / "a.txt"))[0] == 0
    elsewhere = tmp_path / "elsewhere.db"
    (archive_dir / "index.db").rename(elsewhere)
    (archive_dir / "index.db").symlink_to(elsewhere)
    before = elsewhere.read_bytes()
    (tmp_path / "b.txt").write_text(f"Other story\n{STORY}?x=1\n")

    code, _, err = archive_cli(archive_dir, str(tmp_path / "b.txt"))

    assert code == 1 and "symlink" in err, err
    assert elsewhere.read_bytes() == before
    assert not (tmp_path / "elsewhere.db-wal").exists()


# -- 4: resource exhaustion ------------------------------------------------------------------


def test_nested_articles_cost_work_in_proportion_to_their_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = 0
    real = content.is_boilerplate

    def counting(node: object, *, page_level: bool) -> bool:
        nonlocal calls
        calls += 1
        return real(node, page_level=page_level)  # type: ignore[arg-type]

    monkeypatch.setattr(content, "is_boilerplate", counting)
    depth = 400
    page = "<html><body>" + "<article>" * depth + '<a href="https://x.example/a">a</a>'
    page += "</article>" * depth + "</body></html>"

    article = read_html(page.encode(), source="p.html")

    assert [link.url for link in article.links] == ["https://x.example/a"]
    assert calls <= 10 * depth, calls  # linear in the page, not quadratic


def test_gzip_bomb_answering_ytdlp_api_call_is_cut_off(
    simweb: SimWeb, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    largest = 0  # the most bytes any one answer produced, decoded
    real_iter = httpx.Response.iter_bytes

    def counting_iter(self: object, *args: object, **kwargs: object) -> Iterator[bytes]:
        nonlocal largest
        total = 0
        for chunk in real_iter(self, *args, **kwargs):  # type: ignore[arg-type]
            total += len(chunk)
            largest = max(largest, total)
            yield chunk

    monkeypatch.setattr(httpx.Response, "iter_bytes", counting_iter)
    api = "https://ajax.streamable.com/videos/bomb01"
    simweb.json(api, {"status": 2})
    simweb.fault(api, "gzip_bomb", size=64 * 1024 * 1024)

    [report] = run(settings, text_input("Bomb\nhttps://streamable.com/bomb01\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), "https://streamable.com/bomb01")
    assert largest <= 32 * 1024 * 1024, (largest, entry)


def test_headers_trickled_past_the_download_time_limit_are_cut_off(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    direct_to(monkeypatch, "slow.example")
    _, resolver = resolving_to("127.0.0.1")
    server = HeaderTrickler(interval=0.05, padding=40)  # ~60 bytes: about 3 s of headers
    limited = settings.with_updates(
        allow_hosts=("slow.example",), max_download_time=1.0, timeout=5.0
    )
    try:
        with (
            Net(limited, resolver=resolver) as net,
            pytest.raises(NetworkError, match="--max-download-time"),
        ):
            net.fetch(f"http://slow.example:{server.port}/")
    finally:
        server.close()


def test_deeply_nested_json_from_the_syndication_api_is_a_failure_not_a_traceback(
    simweb: SimWeb, settings: Settings
) -> None:
    tweet_url = "https://twitter.com/someone/status/1500000000000000001"
    deep = b"[" * 200_000 + b"]" * 200_000
    simweb.route(
        "https://cdn.syndication.twimg.com/tweet-result",
        lambda _req: Response(200, {"Content-Type": "application/json"}, deep),
    )
    simweb.route(
        "https://api.fxtwitter.com/someone/status/1500000000000000001",
        lambda _req: Response(200, {"Content-Type": "application/json"}, deep),
    )

    [report] = run(settings, text_input(f"Deep\n{tweet_url}\n"))

    assert report.error is None, report.error
    entry = link_entry(sidecar_of(settings.archive_dir, report), tweet_url)
    assert "internal error" not in str(entry["reason"]), entry


# -- 6: cron steadiness ----------------------------------------------------------------------


def test_run_on_a_mistyped_archive_dir_says_so_instead_of_succeeding_silently(
    simweb: SimWeb, tmp_path: Path
) -> None:
    real = tmp_path / "embedarc-archive"
    assert embedarc(real, "sources", "add", FEED_URL).exit_code == 0
    typo = tmp_path / "embedarc-archvie"

    result = CliRunner().invoke(
        cli, ["run", "--quiet", "--archive-dir", str(typo)], catch_exceptions=False
    )

    # cron mails only output: an archive with no sources polled nothing and said nothing.
    assert result.exit_code != 0 or result.output.strip(), result.output


# -- 7: output and log injection -------------------------------------------------------------

ESCAPES = ("\x1b", "\x9b", "\x07")  # ESC, the 8-bit CSI, BEL (ends an OSC title sequence)


def raw_controls(text: str) -> list[str]:
    return [c for c in ESCAPES if c in text]


def test_dropped_file_named_with_escape_sequences_is_not_printed_raw(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "\x1b]0;owned\x07\x1b[2J.txt").write_bytes(b"")  # empty: an error names it
    assert embedarc(archive_dir, "sources", "add", str(inbox)).exit_code == 0

    result = embedarc(archive_dir, "run")

    assert "Traceback" not in result.output
    assert raw_controls(result.output) == [], result.output


def test_redirect_to_a_location_with_c1_controls_is_not_printed_raw(
    simweb: SimWeb, archive_dir: Path
) -> None:
    simweb.redirect(STORY, "javascript:\x9b2J\x9b31mALERT")

    code, out, err = archive_cli(archive_dir, STORY)

    assert code == 1
    assert "ALERT" in out + err  # the message names the target...
    assert raw_controls(out + err) == [], err  # ...without the terminal acting on it


def tty_stderr_run(web: SimWeb, cwd: Path, *args: str) -> tuple[int, str, str]:
    """Run the installed command with stderr on a pseudo-terminal (so the progress bar
    shows), stdout on a pipe; returns (exit status, stdout, what the terminal received)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [EMBEDARC, *args],
        cwd=cwd,
        env={**embedarc_env(web), "TERM": "xterm", "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=slave,
        stdin=subprocess.DEVNULL,
    )
    os.close(slave)
    received = read_terminal(master, proc)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    return proc.wait(timeout=120), out, received


def test_link_with_console_markup_does_not_break_the_run_on_a_terminal(
    simweb: SimWeb, tmp_path: Path
) -> None:
    bad = "https://news.example.org/a[/x]"
    simweb.page(bad, "gone", status=404)
    article = tmp_path / "post.txt"
    article.write_text(f"Markup\n{bad}\n")

    code, out, terminal = tty_stderr_run(
        simweb, tmp_path, "archive", "--archive-dir", str(tmp_path / "archive"), str(article)
    )

    assert "Traceback" not in terminal and "MarkupError" not in terminal, terminal
    assert code == 0 and "'Markup': 1 links (1 gone)" in out, (code, out, terminal)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_link_markup_does_not_become_a_terminal_hyperlink(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from embedarc.cli.options import Progress

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    progress = Progress(enabled=True)
    progress.add(1)
    progress.done("gone: https://x.example/[link=https://evil.example/]login[/link]")
    progress.stop()

    assert "\x1b]8;" not in terminal.getvalue()  # OSC 8: a hyperlink


@pytest.mark.parametrize("name", ["write.lock", "run.lock", "index.db-wal", "index.db-shm"])
def test_a_dangling_link_beside_the_index_creates_nothing_outside(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path, name: str
) -> None:
    serve_feed(simweb, rss([]))
    assert embedarc(archive_dir, "sources", "add", FEED_URL).exit_code == 0
    (archive_dir / name).unlink(missing_ok=True)
    target = tmp_path / "outside" / name
    target.parent.mkdir()
    (archive_dir / name).symlink_to(target)

    embedarc(archive_dir, "run")
    (tmp_path / "a.txt").write_text("Plain\nno links here\n")
    archive_cli(archive_dir, str(tmp_path / "a.txt"))

    assert list(target.parent.iterdir()) == []


# -- secrets ---------------------------------------------------------------------------------


def test_feed_password_stays_out_of_the_run_output_when_the_feed_fails(
    simweb: SimWeb, archive_dir: Path
) -> None:
    secret = "feedpass-0451"
    feed = f"https://reader:{secret}@feeds.example.com/world.xml"
    simweb.fail(FEED_URL, 503)
    assert embedarc(archive_dir, "sources", "add", feed).exit_code == 0

    polled = embedarc(archive_dir, "run")
    listed = embedarc(archive_dir, "sources", "list")
    status = embedarc(archive_dir, "status")

    for result in (polled, listed, status):
        assert secret not in result.output, result.output
