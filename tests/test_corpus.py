"""Real articles from other projects' public test fixtures: tweet recall and precision.

The labels and provenance are in tests/corpus/manifest.json; the pages are kept outside the
repository (see benchmarks/bench_corpus.py for where they are looked for). Run with -s to see
the figures; `uv run python -m benchmarks.bench_corpus --verbose` lists misses page by page.
"""

from __future__ import annotations

import re

import pytest
from benchmarks.bench_corpus import PAGES_ENV, load_manifest, pages_dir, score

# Measured on this code, less a small margin: a drop below them is a regression.
RECALL_FLOOR = 0.97
PRECISION_FLOOR = 0.98
# Collections kept aside as the independent check of the body detector; never used here.
EXCLUDED = ("mozilla/readability", "postlight/parser", "adbar/trafilatura")
LICENCES = frozenset({"MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause"})


def test_every_corpus_page_names_its_source_and_its_labels() -> None:
    pages = load_manifest()
    assert len(pages) >= 40
    assert len({page.name for page in pages}) == len(pages)
    assert len({page.sha256 for page in pages}) == len(pages), "a page is in the corpus twice"
    for page in pages:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", page.repository), page.name
        assert not page.repository.lower().endswith(EXCLUDED), page.name
        assert re.fullmatch(r"[0-9a-f]{40}", page.commit), page.name
        assert page.path and page.licence in LICENCES, page.name
        assert re.fullmatch(r"[0-9a-f]{64}", page.sha256), page.name
        labels = [*page.expected, *page.furniture, *page.ignore]
        assert all(tweet_id.isdigit() for tweet_id in labels), page.name
        assert len(set(labels)) == len(labels), f"{page.name}: an id has two labels"
    assert sum(len(page.expected) for page in pages) >= 50
    assert sum(len(page.furniture) for page in pages) >= 10


def test_tweets_in_real_articles_are_found_and_page_furniture_is_not() -> None:
    folder = pages_dir()
    if folder is None:
        pytest.skip(f"corpus pages not present (set {PAGES_ENV})")
    result = score(folder, load_manifest())
    print("\ncorpus", result.summary())
    for page in result.pages:
        if page.missed or page.extra:
            print(f"  {page.name}: missed {page.missed} extra {page.extra}")
    assert result.furniture == 0, "a sidebar or timeline tweet was taken for the article's"
    assert result.recall >= RECALL_FLOOR
    assert result.precision >= PRECISION_FLOOR
