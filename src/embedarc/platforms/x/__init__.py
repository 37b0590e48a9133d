"""Twitter/X: tweets are posts of the site `x`, looked up without logging in.

The syndication API answers first; fxtwitter (a third party, when allowed) and X's own
GraphQL API (graphql.py) are asked in turn until one shows the tweet or X says it is gone.
When none could answer now, yt-dlp is named as the last resort (it sees videos only). Every
answer is kept as evidence, whatever it said.

What a tweet URL is (the hosts of X, its link fixers and mirrors, its short links, photos at
original size, the unsafe-link interstitial) is in urls.py, which spells each tweet the same
way, `https://twitter.com/<user or i/web>/status/<id>`; tweet embeds in articles, with their
bylines, are read by embeds.py. The readers of articles reach both through the registry's
hooks (see `Platform`), never by name.

X offers the other optional hooks too: where web archives hold captures of a gone tweet and
how to read them (`archived.py`), the setting once named `fxtwitter`, and the tweet `doctor`
asks its services about.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ...model import LinkKind, Outcome
from ..base import (
    Embed,
    Platform,
    Post,
    PostAnswer,
    PostMedia,
    PostRef,
    Probe,
    ServiceCheck,
    Session,
)
from ..captures import ArchivedForms
from . import embeds, schema1, services, urls
from .tweet import MAX_MEDIA, Tweet, TweetMedia
from .urls import status_url, tweet_ref

if TYPE_CHECKING:
    from selectolax.lexbor import LexborNode

    from ...network.net import Net

SITE = "x"

__all__ = ["SITE", "X_PLATFORM", "Tweet", "TweetMedia", "X", "status_url", "to_post"]


def screen_name(ref: PostRef) -> str | None:
    """The author's screen name, when the URL the post was named by gives it."""
    found = tweet_ref(ref.url)
    return found[0] if found else None


def to_post(tweet: Tweet) -> Post:
    """A tweet as a post: its author as X writes the handle (`@name`), media by kind."""
    return Post(
        site=SITE,
        id=tweet.id,
        url=tweet.url,
        author=f"@{tweet.screen_name}" if tweet.screen_name else None,
        author_name=tweet.name,
        text=tweet.text,
        created_at=tweet.created_at,
        media=tuple(
            PostMedia(
                url=m.url,
                kind=m.kind,
                width=m.width,
                height=m.height,
                duration=m.duration,
            )
            for m in tweet.media[:MAX_MEDIA]
        ),
        quoted=to_post(tweet.quoted) if tweet.quoted else None,
        reposted=to_post(tweet.retweeted) if tweet.retweeted else None,
        source=tweet.source,
        card=tweet.card,
    )


def _checked(answer: services.Answer) -> PostAnswer:
    """One service's answer as the interface says it, its raw answer as evidence."""
    evidence = (answer.evidence,) if answer.evidence is not None else ()
    if answer.tweet is not None:
        return PostAnswer(to_post(answer.tweet), evidence=evidence)
    verdict = answer.verdict or Outcome.FAILED
    return PostAnswer(None, verdict, answer.reason, evidence, failure=answer.kind)


def _syndication_knows(net: Net, ref: PostRef) -> PostAnswer:
    return _checked(services.ask_syndication(net, ref.id))


def _fxtwitter_knows(net: Net, ref: PostRef) -> PostAnswer:
    return _checked(services.ask_fxtwitter(net, ref.id, None))


# A tweet that exists (@BarackObama's "Four more years.", among the most shared ever): the
# services must answer with it; a 404 from them means someone else is answering.
PROBE_TWEET = "266031293945503744"
PROBE = Probe(
    post=PostRef(SITE, PROBE_TWEET, status_url(PROBE_TWEET, "BarackObama")),
    services=(
        ServiceCheck("syndication API", _syndication_knows),
        ServiceCheck("fxtwitter", _fxtwitter_knows, third_party=True),
    ),
    hosts=(
        ("t.co", "https://t.co/"),
        ("x.com (yt-dlp)", "https://api.x.com/"),
        ("photo CDN", "https://pbs.twimg.com/"),
        ("video CDN", "https://video.twimg.com/"),
    ),
)


class X(Platform):
    site = SITE
    embed_selector = embeds.SELECTOR
    # The kinds releases before tweets were posts recorded, kept so sidecars read the same.
    link_kind = LinkKind.TWEET
    embed_kind = LinkKind.TWEET_EMBED
    short_links = urls.SHORT_LINKS
    bare_hosts = urls.BARE_HOSTS
    title_meta = ("twitter:title",)  # X's card markup, which many pages carry
    # `fxtwitter = false` and --no-fxtwitter, from before every site's third parties were
    # allowed or not at once.
    renamed_settings = MappingProxyType({"fxtwitter": "third_parties"})
    probe = PROBE

    def upgrade_sidecar(self, schema: int, data: dict[str, Any]) -> dict[str, Any]:
        return schema1.upgrade(data) if schema == 1 else data

    def claims(self, url: str) -> PostRef | None:
        found = tweet_ref(url)
        if found is None:
            return None
        return PostRef(SITE, found[1], status_url(found[1], found[0]))

    def embed_url(self, node: LexborNode, base: str | None) -> str | None:
        found = embeds.embed(node, base)
        return found.url if found is not None else None

    def embed(self, node: LexborNode, base: str | None) -> Embed | None:
        return embeds.embed(node, base)

    def owns(self, host: str) -> bool:
        return urls.owns(host)

    def normalise(self, url: str) -> str | None:
        return urls.normalise(url)

    def unwrap(self, url: str) -> str | None:
        return urls.unwrap(url)

    def player(self, url: str) -> str | None:
        return urls.player(url)

    def byline(self, line: str) -> str | None:
        return embeds.byline(line)

    def look_up(self, net: Net, ref: PostRef, session: Session | None = None) -> PostAnswer:
        """Syndication, fxtwitter, then X's GraphQL API, until one shows the tweet or X says
        it was deleted; yt-dlp is named when some service could not answer now."""
        from .graphql import GraphQL

        session = session or Session()
        answers = [services.ask_syndication(net, ref.id)]

        def settled() -> bool:
            last = answers[-1]
            return last.tweet is not None or last.final

        if not settled() and session.third_parties:
            answers.append(services.ask_fxtwitter(net, ref.id, screen_name(ref)))
        if not settled():
            # One client a run, so lookups share a guest token.
            client = session.shared("x.graphql", lambda: GraphQL(net, session.cookies))
            answers.append(client.ask(ref.id))
        evidence = tuple(a.evidence for a in answers if a.evidence is not None)
        found = next((a.tweet for a in answers if a.tweet is not None), None)
        if found is not None:
            return PostAnswer(to_post(found), evidence=evidence)
        outcome, reason = services.combine(answers)
        return PostAnswer(
            None,
            outcome,
            reason,
            evidence,
            retry_after=next((a.retry_after for a in answers if a.retry_after), None),
            # Some service could not answer now: yt-dlp may still get the videos.
            ytdlp_url=ref.url if any(a.verdict is Outcome.FAILED for a in answers) else None,
            failure=next((a.kind for a in answers if a.kind is not None), None),
        )

    def alive(self, net: Net, ref: PostRef, session: Session | None = None) -> PostAnswer:
        """One syndication call: cheap, and X's own word on whether the tweet is there."""
        return _checked(services.ask_syndication(net, ref.id))

    def archived_forms(self, ref: PostRef) -> ArchivedForms:
        """Captures of the tweet's syndication and community API answers and status pages."""
        from .archived import archived_forms

        return archived_forms(ref.id, screen_name(ref))


X_PLATFORM = X()
