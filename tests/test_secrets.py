"""Cookies and proxy credentials never reach sidecars, evidence, the index, logs or errors."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from tests.conftest import run_embedarc
from tests.helpers import make_tweet
from tests.simweb import SimWeb, Video

AUTH_TOKEN = "authtok-5ecret-0f-the-reader"
CT0 = "ct0-csrf-5ecret-value"
PROXY_PASSWORD = "pr0xy-pa55word-5ecret"


def leaks(secret: str, *outputs: str, archive: Path) -> list[str]:
    """Where `secret` (or its base64 form in a Basic header) shows up: outputs or archive files."""
    forms = [secret.encode(), base64.b64encode(f"reader:{secret}".encode())]
    found = [
        f"output {n}" for n, text in enumerate(outputs) if any(f in text.encode() for f in forms)
    ]
    for path in archive.rglob("*"):
        if path.is_file() and any(f in path.read_bytes() for f in forms):
            found.append(str(path.relative_to(archive)))
    return found


def cookies_file(tmp_path: Path) -> Path:
    path = tmp_path / "cookies.txt"
    path.write_text(
        "# Netscape HTTP Cookie File\n"
        f".x.com\tTRUE\t/\tTRUE\t2147483647\tauth_token\t{AUTH_TOKEN}\n"
        f".x.com\tTRUE\t/\tTRUE\t2147483647\tct0\t{CT0}\n"
    )
    return path


def test_cookie_values_stay_out_of_the_archive_and_the_verbose_log(
    simweb: SimWeb, tmp_path: Path
) -> None:
    tweet = make_tweet(
        simweb,
        80,
        [Video(320, 180)],
        syndication="missing",
        fxtwitter="missing",
        graphql="protected",
    )
    (tmp_path / "a.txt").write_text(f"Protected\n{tweet.status_url}\n")
    cookies = cookies_file(tmp_path)

    done = run_embedarc(
        "archive", "a.txt", "--cookies", str(cookies), "-v", web=simweb, cwd=tmp_path
    )

    assert done.returncode == 0, done.stderr
    archive = tmp_path / "archive"
    assert list(archive.rglob("*.graphql.json"))  # the logged-in answer was kept, as evidence
    assert any(r.cookies.get("auth_token") == AUTH_TOKEN for r in simweb.requests)  # it was used
    for secret in (AUTH_TOKEN, CT0):
        assert leaks(secret, done.stdout, done.stderr, archive=archive) == []


def test_proxy_password_stays_out_of_the_archive_and_the_verbose_log(
    simweb: SimWeb, tmp_path: Path
) -> None:
    tweet = make_tweet(simweb, 81, [Video(320, 180)], syndication="missing", fxtwitter="missing")
    (tmp_path / "a.txt").write_text(f"Proxied\n{tweet.status_url}\n")
    proxy = simweb.proxy_url.replace("http://", f"http://reader:{PROXY_PASSWORD}@")

    done = run_embedarc(
        "archive", "a.txt", "--proxy", proxy, "-v", "--json", web=simweb, cwd=tmp_path
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["outcomes"] == {"archived": 1}  # yt-dlp went through it too
    assert leaks(PROXY_PASSWORD, done.stdout, done.stderr, archive=tmp_path / "archive") == []


def test_proxy_password_stays_out_of_error_messages(simweb: SimWeb, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Unreachable\nhttps://t.co/abcdef1234\n")
    proxy = f"http://reader:{PROXY_PASSWORD}@127.0.0.1:9"  # nothing listens on the discard port

    done = run_embedarc(
        "archive", "a.txt", "--proxy", proxy, "-v", "--json", web=simweb, cwd=tmp_path
    )

    assert done.returncode == 1
    assert json.loads(done.stdout)["outcomes"] == {"failed": 1}
    assert leaks(PROXY_PASSWORD, done.stdout, done.stderr, archive=tmp_path / "archive") == []


def test_proxy_password_stays_out_of_an_article_fetch_error(simweb: SimWeb, tmp_path: Path) -> None:
    proxy = f"http://reader:{PROXY_PASSWORD}@127.0.0.1:9"

    done = run_embedarc(
        "archive",
        "https://news.example.org/story",
        "--proxy",
        proxy,
        "-v",
        web=simweb,
        cwd=tmp_path,
    )

    assert done.returncode == 1
    assert "cannot fetch the article" in done.stderr
    assert leaks(PROXY_PASSWORD, done.stdout, done.stderr, archive=tmp_path / "archive") == []
