"""One article reached several ways is one article: counted once, its originals all named."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from embedarc.cli import cli
from embedarc.config import Settings
from embedarc.job.pipeline import Input
from embedarc.upkeep.verify import verify
from tests.helpers import html_input, make_tweet, run, sidecar_of, text_input
from tests.simweb import Photo, SimWeb

STORY = "https://news.example.org/2022/01/strike"


def story_page(simweb: SimWeb) -> str:
    tweet = make_tweet(simweb, 7, [Photo(64, 48), Photo(48, 64), Photo(80, 60)])
    page = (
        "<html><head><title>Strike</title>"
        f'<link rel="canonical" href="{STORY}"></head>'
        f'<body><article><p>Footage:</p><a href="{tweet.status_url}">the video</a></article>'
        "</body></html>"
    )
    simweb.page(STORY, page)
    return page


def test_one_article_given_three_ways_in_one_call_is_counted_once(
    simweb: SimWeb, settings: Settings, tmp_path: Path
) -> None:
    page = story_page(simweb)
    short = simweb.ift_tt("3StRiKe", STORY)
    saved = tmp_path / "saved.html"
    saved.write_text(page)

    result = CliRunner().invoke(
        cli,
        ["archive", "--json", str(saved), STORY, short, "--archive-dir", str(settings.archive_dir)],
        catch_exceptions=False,
    )

    reports = [json.loads(line) for line in result.output.splitlines()]
    assert result.exit_code == 0, result.output
    assert len({r["folder"] for r in reports}) == 1
    assert sum(r["new_media"] for r in reports) == 3  # each file counted new once
    assert sorted(r["same_as"] is None for r in reports) == [False, False, True]
    assert verify(settings.archive_dir).sound


def test_the_summary_says_which_input_was_the_same_article(
    simweb: SimWeb, settings: Settings
) -> None:
    page = story_page(simweb)
    reports = run(settings, html_input(page, url=STORY, label="a.html"), Input(STORY, url=STORY))

    # Whichever finished first was written first; the other says it was the same article.
    [first] = [r for r in reports if r.same_as is None]
    [second] = [r for r in reports if r.same_as is not None]
    assert second.same_as == first.source
    assert (first.new_media, second.new_media) == (3, 0)
    assert f"(the same article as {first.source})" in second.summary()


def test_an_article_archived_by_url_then_by_file_names_both_originals(
    simweb: SimWeb, settings: Settings
) -> None:
    story_page(simweb)
    short = simweb.ift_tt("3StRiKe", STORY)
    [by_url] = run(settings, Input(STORY, url=STORY))
    [by_file] = run(
        settings, text_input(f"Strike\nThe text version.\nvia News {short} Staff\n", "strike.txt")
    )

    assert by_file.folder == by_url.folder
    data = sidecar_of(settings.archive_dir, by_file)
    assert data["article"]["original"] == "article.txt"
    [earlier] = data["article"]["earlier_originals"]
    assert earlier["name"] == "article.html"
    report = verify(settings.archive_dir)
    assert report.sound, report.as_dict()


def test_verify_reports_a_file_in_an_article_folder_its_sidecar_does_not_name(
    simweb: SimWeb, settings: Settings
) -> None:
    [report] = run(settings, text_input("Plain\nno links here\n"))
    folder = settings.archive_dir / (report.folder or "")
    (folder / "article.html").write_text("<html>a stray page</html>")

    found = verify(settings.archive_dir)

    assert not found.sound
    assert [p.path for p in found.unindexed] == [f"{report.folder}/article.html"]


def test_verify_reports_an_earlier_original_that_was_altered(
    simweb: SimWeb, settings: Settings
) -> None:
    story_page(simweb)
    short = simweb.ift_tt("3StRiKe", STORY)
    run(settings, Input(STORY, url=STORY))
    [report] = run(settings, text_input(f"Strike\nText.\nvia News {short} Staff\n", "s.txt"))
    (settings.archive_dir / (report.folder or "") / "article.html").write_text("changed")

    found = verify(settings.archive_dir)

    assert [p.path for p in found.altered] == [f"{report.folder}/article.html"]


def test_archiving_again_names_an_original_an_earlier_release_left_unnamed(
    simweb: SimWeb, settings: Settings
) -> None:
    [report] = run(settings, text_input("Plain\nno links here\n"))
    folder = settings.archive_dir / (report.folder or "")
    (folder / "article.html").write_text("<html>the page, archived before</html>")
    data = json.loads((folder / "article.json").read_text())
    del data["article"]["earlier_originals"]  # as the previous release wrote it
    (folder / "article.json").write_text(json.dumps(data))

    run(settings, text_input("Plain\nno links here\n"))

    [earlier] = sidecar_of(settings.archive_dir, report)["article"]["earlier_originals"]
    assert earlier["name"] == "article.html"
    assert verify(settings.archive_dir).sound
