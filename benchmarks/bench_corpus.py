"""How many of the tweets a reader sees in real articles does `read_html` find, and how many else?

    uv run python -m benchmarks.bench_corpus [--json corpus.json] [--pages DIR] [--verbose]

The corpus is tests/corpus/manifest.json: real pages taken from the public test fixtures of other
article-extraction projects, each with its provenance (repository, commit, path, licence, SHA-256)
and tweet ids labelled by hand from the page source:

- expected: tweets in the article a reader sees (embeds, tweets linked from the text, status URLs
  written as text);
- furniture: tweets in page furniture (a site's "latest tweets" box, a timeline, a sidebar), which
  must not be found;
- ignore: tweets that only exist inside a script's data; neither found nor missed counts.

The pages themselves are not part of the repository. They are looked for in the folder given by
--pages or EMBEDARC_CORPUS_PAGES, then in tests/corpus/pages/, then in shared/corpus/pages/ beside
the checkout; each is stored gzip-compressed as <name>.html.gz.

Recall is found-and-expected over expected; precision is found-and-expected over everything found
that is not ignored. Both are over tweet ids, summed over all pages.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from embedarc.reading.articles import read_html

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "tests" / "corpus" / "manifest.json"
PAGES_ENV = "EMBEDARC_CORPUS_PAGES"


@dataclass(frozen=True)
class Page:
    name: str
    repository: str
    commit: str
    path: str
    licence: str
    sha256: str
    expected: tuple[str, ...]
    furniture: tuple[str, ...]
    ignore: tuple[str, ...]
    note: str


@dataclass
class PageScore:
    name: str
    found: list[str]
    missed: list[str]
    extra: list[str]  # found, neither expected nor ignored
    furniture: list[str]  # the part of extra that was labelled page furniture


@dataclass
class Score:
    pages: list[PageScore] = field(default_factory=list)

    @property
    def hits(self) -> int:
        return sum(len(page.found) for page in self.pages)

    @property
    def expected(self) -> int:
        return self.hits + sum(len(page.missed) for page in self.pages)

    @property
    def extra(self) -> int:
        return sum(len(page.extra) for page in self.pages)

    @property
    def furniture(self) -> int:
        return sum(len(page.furniture) for page in self.pages)

    @property
    def recall(self) -> float:
        return self.hits / self.expected if self.expected else 1.0

    @property
    def precision(self) -> float:
        found = self.hits + self.extra
        return self.hits / found if found else 1.0

    def summary(self) -> dict[str, Any]:
        return {
            "pages": len(self.pages),
            "expected": self.expected,
            "found": self.hits,
            "extra": self.extra,
            "furniture_found": self.furniture,
            "recall": round(self.recall, 4),
            "precision": round(self.precision, 4),
        }


def load_manifest(path: Path = MANIFEST) -> list[Page]:
    entries = json.loads(path.read_text(encoding="utf-8"))["pages"]
    return [
        Page(
            name=entry["name"],
            repository=entry["repository"],
            commit=entry["commit"],
            path=entry["path"],
            licence=entry["licence"],
            sha256=entry["sha256"],
            expected=tuple(entry["expected"]),
            furniture=tuple(entry["furniture"]),
            ignore=tuple(entry["ignore"]),
            note=entry["note"],
        )
        for entry in entries
    ]


def pages_dir(given: str | None = None) -> Path | None:
    """The first folder that holds the corpus pages, or None when there is none."""
    candidates = [given, os.environ.get(PAGES_ENV)]
    candidates += [str(ROOT / "tests" / "corpus" / "pages")]
    candidates += [str(ROOT.parent / "shared" / "corpus" / "pages")]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir() and any(Path(candidate).glob("*.html.gz")):
            return Path(candidate)
    return None


def page_bytes(folder: Path, page: Page) -> bytes:
    """The page as it was in its source repository; a changed copy is an error, not a score."""
    raw = gzip.decompress((folder / f"{page.name}.html.gz").read_bytes())
    if hashlib.sha256(raw).hexdigest() != page.sha256:
        raise ValueError(f"{page.name}: the stored page is not the one labelled (SHA-256 differs)")
    return raw


def _tweet_id(post: str | None) -> str | None:
    """The tweet id of a link's post key ("x:<id>"), else None."""
    return post.removeprefix("x:") if post and post.startswith("x:") else None


def score_page(page: Page, raw: bytes) -> PageScore:
    article = read_html(raw, source=page.name)
    found = {tid for link in article.links if (tid := _tweet_id(link.post))}
    expected, ignore, furniture = set(page.expected), set(page.ignore), set(page.furniture)
    extra = found - expected - ignore
    return PageScore(
        name=page.name,
        found=sorted(found & expected),
        missed=sorted(expected - found),
        extra=sorted(extra),
        furniture=sorted(extra & furniture),
    )


def score(folder: Path, pages: list[Page]) -> Score:
    return Score([score_page(page, page_bytes(folder, page)) for page in pages])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures and per-page results here")
    parser.add_argument("--pages", help="folder holding <name>.html.gz for every manifest entry")
    parser.add_argument("--verbose", action="store_true", help="list misses and extras by page")
    args = parser.parse_args()
    folder = pages_dir(args.pages)
    if folder is None:
        raise SystemExit(f"no corpus pages found: give --pages or set {PAGES_ENV}")
    result = score(folder, load_manifest())
    summary = result.summary()
    print(json.dumps(summary))
    if args.verbose:
        for page in result.pages:
            if page.missed or page.extra:
                print(f"{page.name}: missed {page.missed} extra {page.extra}")
    if args.json:
        report = {**summary, "per_page": [asdict(page) for page in result.pages]}
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
