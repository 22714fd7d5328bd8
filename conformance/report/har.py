"""exchanges.har: the HTTP exchanges behind the findings, as HAR 1.2 for browser dev tools.

Open it in a browser's network panel or any HAR viewer to read the requests that led to a
failure. One page per finding (titled by its requirement and message) groups its exchanges.
The exchanges are the report's, already redacted, with bodies already cut to previews; the
writer scrubs the run's secrets from this file again, as from every report.

HAR wants a start time per entry, which the suite does not record: an entry starts at the
run's `started_at` plus the durations of the entries before it. The times only order the
entries; the log's comment says so.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from importlib import metadata
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from conformance.results import Exchange, Finding, RunReport

__all__ = ["HAR_VERSION", "render_har"]

HAR_VERSION = "1.2"
CREATOR = "uploads-conformance"
HTTP_VERSION = "HTTP/1.1"  # not recorded; what the suite's clients speak
UNKNOWN_MIME = "x-unknown"  # what browsers write when an answer names no content type
TIMES_COMMENT = ("Start times are synthetic: the run's start plus the durations of the "
                 "exchanges before. Bodies are previews, cut as in report.json.")


def render_har(report: RunReport) -> str:
    """The HAR document (JSON text) of every exchange of every finding of the report."""
    clock = _Clock(_start(report.started_at))
    pages: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    findings = [f for r in report.requirements for f in r.failures if f.exchanges]
    for number, finding in enumerate(findings, 1):
        page_id = f"finding_{number}"
        pages.append(_page(page_id, finding, clock.now()))
        entries += [_entry(exchange, page_id, clock) for exchange in finding.exchanges]
    document = {"log": {
        "version": HAR_VERSION,
        "creator": {"name": CREATOR, "version": _suite_version(report)},
        "pages": pages,
        "entries": entries,
        "comment": TIMES_COMMENT,
    }}
    try:
        text = json.dumps(document, indent=1, ensure_ascii=False)
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate from an odd answer: escape all, as report.json
        text = json.dumps(document, indent=1, ensure_ascii=True)
    return text + "\n"


class _Clock:
    """The synthetic time: each exchange advances it by its own duration."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> str:
        return _iso(self._now)

    def take(self, seconds: float) -> str:
        started = self._now
        self._now += timedelta(seconds=max(seconds, 0.0))
        return _iso(started)


def _page(page_id: str, finding: Finding, started: str) -> dict[str, Any]:
    return {"startedDateTime": started, "id": page_id,
            "title": f"{finding.requirement}: {' '.join(finding.message.split())}",
            "pageTimings": {"onContentLoad": -1, "onLoad": -1},
            "_requirement": finding.requirement, "_outcome": finding.outcome.value}


def _entry(exchange: Exchange, page_id: str, clock: _Clock) -> dict[str, Any]:
    milliseconds = round(max(exchange.duration_s, 0.0) * 1000, 3)
    entry: dict[str, Any] = {
        "pageref": page_id,
        "startedDateTime": clock.take(exchange.duration_s),
        "time": milliseconds,
        "request": _request(exchange),
        "response": _response(exchange),
        "cache": {},
        # Only the whole is measured: all of it counts as waiting for the answer.
        "timings": {"send": 0, "wait": milliseconds, "receive": 0},
    }
    if exchange.error:
        entry["_error"] = exchange.error
        entry["comment"] = ("no answer: " if exchange.status is None else "") + exchange.error
    if exchange.curl:
        entry["_curl"] = exchange.curl
    return entry


def _request(exchange: Exchange) -> dict[str, Any]:
    headers = exchange.request_headers
    request: dict[str, Any] = {
        "method": exchange.method,
        "url": exchange.url,
        "httpVersion": HTTP_VERSION,
        "headers": _pairs(headers),
        "queryString": [{"name": name, "value": value} for name, value
                        in parse_qsl(urlsplit(exchange.url).query, keep_blank_values=True)],
        "cookies": [],
        "headersSize": -1,
        "bodySize": _size(headers, exchange.request_body),
    }
    if exchange.request_body:
        request["postData"] = {"mimeType": _header(headers, "content-type") or UNKNOWN_MIME,
                               "text": exchange.request_body}
    return request


def _response(exchange: Exchange) -> dict[str, Any]:
    headers = exchange.response_headers
    answered = exchange.status is not None
    status = exchange.status if exchange.status is not None else 0  # HAR's "no answer"
    return {
        "status": status,
        "statusText": _reason(status) if answered else "",
        "httpVersion": HTTP_VERSION if answered else "",
        "headers": _pairs(headers),
        "cookies": [],
        "content": {"size": _size(headers, exchange.response_body) if answered else 0,
                    "mimeType": _header(headers, "content-type") or UNKNOWN_MIME,
                    "text": exchange.response_body},
        "redirectURL": _header(headers, "location") or "",
        "headersSize": -1,
        "bodySize": _size(headers, exchange.response_body) if answered else -1,
    }


def _pairs(headers: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": str(name), "value": str(value)} for name, value in headers.items()]


def _header(headers: dict[str, str], name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name), None)


def _size(headers: dict[str, str], preview: str) -> int:
    """The body's size in bytes: Content-Length when sent (the preview may be cut, or a
    summary of a multipart body), else the preview's own size."""
    length = _header(headers, "content-length")
    if length is not None and length.strip().isdigit():
        return int(length)
    return len(preview.encode("utf-8", "replace"))


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _start(started_at: str) -> datetime:
    try:
        moment = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
    except ValueError:
        return datetime.fromtimestamp(0, UTC)  # a report with no usable start: the epoch
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _suite_version(report: RunReport) -> str:
    # The version that wrote the exchanges, when the report names it.
    if "uploads-conformance" in report.versions:
        return report.versions["uploads-conformance"]
    try:
        return metadata.version("uploads-conformance")
    except metadata.PackageNotFoundError:
        return "unknown"
