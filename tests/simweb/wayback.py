"""The Wayback Machine as archive.org and web.archive.org answer: availability, CDX, replay, SPN2.

    sim = wayback.install(web)
    sim.capture("https://video.twimg.com/x.mp4", data, "video/mp4", timestamp="20220104101244")
    sim.rate_limit(times=1)                     # the availability API answers 429 once
    # CDX answers matchType=prefix too: every captured URL whose index key starts with the URL's
    sim.save_outcome("error", status_ext="error:too-many-daily-captures")
    sim.saves                                   # what Save Page Now was asked to capture

Captures are keyed as the real index keys them (a SURT: scheme and "www." dropped, host
reversed, lower case, query parameters sorted), so http/https and www variants find each other.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import parse_qsl, urlsplit

from .messages import Request, Response, html_response, json_response
from .web import SimWeb

AVAILABILITY = "https://archive.org/wayback/available"
CDX = "https://web.archive.org/cdx/search/cdx"
SAVE = "https://web.archive.org/save"

CDX_FIELDS = ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]

_REPLAY_RE = re.compile(r"^/web/(\d{1,14})([a-z]{2}_)?/(.+)$")
_TIMESTAMP_PAD = "00000101000000"  # "2022" means 2022-01-01 00:00:00, as the replay reads it


def surt(url: str) -> str:
    """The index key of a URL (a simplified SURT, as CDX's urlkey column shows it)."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    host = (parts.hostname or "").lower().removeprefix("www.")
    key = ",".join(reversed(host.split(".")))
    if parts.port and parts.port not in (80, 443):
        key += f":{parts.port}"
    key += ")" + (parts.path or "/")
    if parts.query:
        key += "?" + "&".join(sorted(parts.query.split("&")))
    return key.lower()


def pad_timestamp(timestamp: str) -> str:
    return timestamp + _TIMESTAMP_PAD[len(timestamp) :]


def _moment(timestamp: str) -> datetime:
    return datetime.strptime(pad_timestamp(timestamp), "%Y%m%d%H%M%S").replace(tzinfo=UTC)


@dataclass(frozen=True)
class SimCapture:
    """One capture the simulated archive holds."""

    original: str
    timestamp: str
    data: bytes = field(repr=False)
    content_type: str
    status: int = 200
    in_availability_api: bool = True  # the availability API misses some captures CDX has

    @property
    def urlkey(self) -> str:
        return surt(self.original)

    @property
    def mimetype(self) -> str:
        return self.content_type.split(";", 1)[0].strip().lower()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def raw_url(self) -> str:
        return f"https://web.archive.org/web/{self.timestamp}id_/{self.original}"

    def cdx_row(self) -> dict[str, str]:
        digest = base64.b32encode(hashlib.sha1(self.data).digest()).decode()
        return {
            "urlkey": self.urlkey,
            "timestamp": self.timestamp,
            "original": self.original,
            "mimetype": self.mimetype,
            "statuscode": str(self.status),
            "digest": digest,
            "length": str(len(self.data)),
        }


@dataclass(frozen=True)
class SaveSubmission:
    """One POST to Save Page Now, as the service saw it."""

    url: str
    authorization: str | None  # the Authorization header value, verbatim
    job_id: str
    form: dict[str, str]


@dataclass
class _Plan:
    """How the next SPN2 jobs end."""

    status: str = "success"  # "success" | "error"
    status_ext: str | None = None
    message: str | None = None
    pending: int = 1  # status polls answered "pending" before the end
    timestamp: str = "20220105120000"  # of the capture a successful job makes


@dataclass
class _Job:
    submission: SaveSubmission
    plan: _Plan
    polls: int = 0


class WaybackSim:
    """The Wayback Machine's public endpoints, answering from captures registered by tests."""

    def __init__(self, web: SimWeb) -> None:
        self.web = web
        self._lock = threading.Lock()
        self._captures: dict[str, list[SimCapture]] = {}
        self._jobs: dict[str, _Job] = {}
        self._plan = _Plan()
        self.saves: list[SaveSubmission] = []
        web.host("archive.org", self._archive_org)
        web.host("web.archive.org", self._web_archive_org)

    # --- what tests set up

    def capture(
        self,
        url: str,
        data: bytes,
        content_type: str,
        timestamp: str = "20220104101244",
        *,
        status: int = 200,
        in_availability_api: bool = True,
    ) -> SimCapture:
        """Hold a capture of url taken at timestamp (YYYYMMDDhhmmss)."""
        capture = SimCapture(url, timestamp, data, content_type, status, in_availability_api)
        with self._lock:
            held = [c for c in self._captures.get(capture.urlkey, []) if c.timestamp != timestamp]
            self._captures[capture.urlkey] = sorted([*held, capture], key=lambda c: c.timestamp)
        return capture

    def rate_limit(
        self, times: int | None = 1, *, endpoint: str = "available", retry_after: str | None = "30"
    ) -> None:
        """Answer 429 for the next `times` requests to an endpoint: available, cdx or save."""
        urls = {"available": AVAILABILITY, "cdx": CDX, "save": SAVE}
        headers = {"Retry-After": retry_after} if retry_after else {}
        self.web.fail(urls[endpoint], 429, headers=headers, times=times)

    def save_outcome(
        self,
        status: str = "success",
        *,
        status_ext: str | None = None,
        message: str | None = None,
        pending: int = 1,
        timestamp: str = "20220105120000",
    ) -> None:
        """How Save Page Now jobs submitted from now on end, after `pending` pending polls."""
        if status not in ("success", "error"):
            raise ValueError(f"a job ends in success or error, not {status!r}")
        with self._lock:
            self._plan = _Plan(status, status_ext, message, pending, timestamp)

    def captures_of(self, url: str) -> list[SimCapture]:
        with self._lock:
            return list(self._captures.get(surt(url), []))

    def captures_under(self, prefix: str) -> list[SimCapture]:
        """Captures of every URL whose key starts with prefix's, in index order (key, time)."""
        key = surt(prefix)
        with self._lock:
            return [
                c for k in sorted(self._captures) if k.startswith(key) for c in self._captures[k]
            ]

    # --- archive.org

    def _archive_org(self, request: Request) -> Response | None:
        if request.path.rstrip("/") == "/wayback/available":
            return self._available(request)
        return None

    def _available(self, request: Request) -> Response:
        url = request.params.get("url", "")
        wanted = request.params.get("timestamp")
        listed = [c for c in self.captures_of(url) if c.status == 200 and c.in_availability_api]
        if not url or not listed:
            return json_response({"url": url, "archived_snapshots": {}})
        if wanted:  # the closest in time; without a timestamp, the newest
            target = _moment(wanted)
            best = min(listed, key=lambda c: abs((_moment(c.timestamp) - target).total_seconds()))
        else:
            best = listed[-1]
        closest = {
            "status": "200",
            "available": True,
            "url": f"http://web.archive.org/web/{best.timestamp}/{best.original}",
            "timestamp": best.timestamp,
        }
        return json_response({"url": url, "archived_snapshots": {"closest": closest}})

    # --- web.archive.org

    def _web_archive_org(self, request: Request) -> Response | None:
        path = request.path
        if path.rstrip("/") == "/cdx/search/cdx":
            return self._cdx(request)
        if path.rstrip("/") == "/save" and request.method == "POST":
            return self._save(request)
        if path.startswith("/save/status/"):
            return self._save_status(request, path.removeprefix("/save/status/"))
        if path.startswith("/web/"):
            return self._replay(request)
        return None

    def _cdx(self, request: Request) -> Response:
        params = parse_qsl(request.query, keep_blank_values=True)
        single = dict(params)
        url = single.get("url", "")
        if not url:
            return Response(400, {"Content-Type": "text/plain"}, b"Missing url parameter\n")
        if single.get("matchType") == "prefix":  # every URL whose key starts with this one's
            rows = [c.cdx_row() for c in self.captures_under(url)]
        else:
            rows = [c.cdx_row() for c in self.captures_of(url)]
        for name, value in params:
            if name == "filter":
                rows = [r for r in rows if _cdx_filter(value, r)]
        if single.get("from"):
            rows = [r for r in rows if r["timestamp"] >= pad_timestamp(single["from"])]
        if single.get("to"):
            rows = [r for r in rows if r["timestamp"][: len(single["to"])] <= single["to"]]
        limit = int(single["limit"]) if single.get("limit", "").lstrip("-").isdigit() else 0
        if limit > 0:
            rows = rows[:limit]
        elif limit < 0:
            rows = rows[limit:]
        fields = [f for f in single.get("fl", "").split(",") if f in CDX_FIELDS] or CDX_FIELDS
        table = [[row[f] for f in fields] for row in rows]
        # The real service labels both forms text/plain.
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if single.get("output") == "json":
            body = json.dumps([fields, *table] if table else []).encode()
        else:
            body = "".join(" ".join(r) + "\n" for r in table).encode()
        return Response(200, headers, body)

    def _replay(self, request: Request) -> Response:
        match = _REPLAY_RE.match(request.path)
        if match is None:
            return _not_archived()
        timestamp, mode, rest = match.group(1), match.group(2) or "", match.group(3)
        # Some clients squash "https://" to "https:/" inside paths; the service accepts both.
        rest = re.sub(r"^(https?):/+", r"\1://", rest)
        original = rest + (f"?{request.query}" if request.query else "")
        held = self.captures_of(original)
        if not held:
            return _not_archived()
        target = _moment(timestamp)
        best = min(held, key=lambda c: abs((_moment(c.timestamp) - target).total_seconds()))
        if best.timestamp != timestamp:
            location = f"https://web.archive.org/web/{best.timestamp}{mode}/{best.original}"
            return Response(
                302, {"Location": location, "Content-Type": "text/plain; charset=utf-8"}, b""
            )
        body = best.data
        if mode != "id_" and best.mimetype == "text/html":
            body = b"<!-- BEGIN WAYBACK TOOLBAR INSERT -->\n<!-- END WAYBACK TOOLBAR INSERT -->\n"
            body += best.data
        stamp = format_datetime(_moment(best.timestamp), usegmt=True)
        headers = {
            "Content-Type": best.content_type,
            "Memento-Datetime": stamp,
            "Link": f'<{best.original}>; rel="original"',
            "X-Archive-Orig-Content-Length": str(len(best.data)),
            "X-Archive-Src": f"spn2-{best.timestamp}-wwwb-spn01.us.archive.org-8000.warc.gz",
            "Cache-Control": "max-age=1800",
        }
        return Response(best.status, headers, body)

    # --- Save Page Now 2

    def _save(self, request: Request) -> Response:
        if "application/json" not in request.headers.get("accept", ""):
            return html_response("<!DOCTYPE html><title>Save Page Now</title><form></form>")
        authorization = request.headers.get("authorization")
        if not re.fullmatch(r"LOW [^:\s]+:\S+", authorization or ""):
            return json_response(
                {
                    "status": "error",
                    "status_ext": "error:unauthorized",
                    "message": "You need to be logged in to use Save Page Now.",
                },
                401,
            )
        form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        url = form.get("url", "")
        if not url:
            return json_response(
                {"status": "error", "status_ext": "error:invalid-url-syntax", "message": "No URL"},
                400,
            )
        with self._lock:
            job_id = "spn2-" + hashlib.sha1(f"{url}:{len(self.saves)}".encode()).hexdigest()
            submission = SaveSubmission(url, authorization, job_id, form)
            self.saves.append(submission)
            self._jobs[job_id] = _Job(submission, self._plan)
        return json_response({"url": url, "job_id": job_id})

    def _save_status(self, request: Request, job_id: str) -> Response:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None:
                job.polls += 1
        if job is None:
            return json_response(
                {"status": "error", "status_ext": "error:not-found", "message": "Job not found"},
                404,
            )
        plan, url = job.plan, job.submission.url
        if job.polls <= plan.pending:
            return json_response({"status": "pending", "job_id": job_id, "resources": []})
        if plan.status == "success":
            answer: dict[str, object] = {
                "status": "success",
                "job_id": job_id,
                "original_url": url,
                "timestamp": plan.timestamp,
                "duration_sec": 6.2,
                "resources": [url],
                "outlinks": {},
            }
            if plan.message:
                answer["message"] = plan.message
            return json_response(answer)
        return json_response(
            {
                "status": "error",
                "job_id": job_id,
                "status_ext": plan.status_ext or "error:unknown",
                "message": plan.message or "Save Page Now could not capture this URL.",
            }
        )


def _cdx_filter(spec: str, row: dict[str, str]) -> bool:
    """A CDX filter: `[!]field:regex`, the regex matching the whole field."""
    negate = spec.startswith("!")
    name, _, pattern = spec.removeprefix("!").partition(":")
    matched = name in row and re.fullmatch(pattern, row[name]) is not None
    return matched != negate


def _not_archived() -> Response:
    return html_response(
        "<!DOCTYPE html><title>Wayback Machine</title>"
        "<p>Hrm. The Wayback Machine has not archived that URL.</p>",
        404,
    )


def install(web: SimWeb) -> WaybackSim:
    """Make archive.org and web.archive.org answer in `web`."""
    return WaybackSim(web)
