"""WARC export: the stored evidence behind every version as WARC/1.1 records,
so archivists can cite an edit with the tools they already have (warcio,
pywb, ReplayWeb.page).

For each stored raw response, in the order it was fetched:
- a `response` record (an http(s) fetch) or a `resource` record (a local
  file): the fetch time as WARC-Date, the URL after redirects as
  WARC-Target-URI, the response headers as received and the body as stored,
  with payload and block digests;
- a `request` record for the GET as it was sent (WARC-Concurrent-To the
  response);
- one `metadata` record per version made from it (WARC-Refers-To the
  response): feedsvc's article id, version number, change class and the
  sha256 of the extracted text.

The body is kept decoded (feedsvc inflates gzip/brotli before it stores), so
the response headers say so: Content-Encoding and Transfer-Encoding are
dropped and Content-Length is the stored body's, with the original values
kept under X-Feedsvc-Orig-* names. Records are made one at a time from a
stream of the database: memory does not grow with the number of versions.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from typing import IO
from urllib.parse import urlsplit

from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from feedsvc import __version__
from feedsvc.models import Evidence
from feedsvc.storage.evidence import EvidenceItem, EvidenceVersion

WARC_VERSION = "WARC/1.1"
CONTENT_TYPE = "application/warc"

# Headers that describe the bytes on the wire rather than the body we kept.
_WIRE_HEADERS = ("content-encoding", "transfer-encoding", "content-length")


def warc_date(when: datetime) -> str:
    """A WARC-Date (ISO 8601 in UTC with a Z, microseconds when there are
    any). warcio wants a naive UTC time: an aware one gets "+00:00Z"."""
    return datetime_to_iso_date(when.astimezone(UTC).replace(tzinfo=None), use_micros=True)


def warcinfo_fields(feed: str | None, since: datetime | None) -> dict[str, str]:
    fields = {
        "software": f"feedsvc/{__version__}",
        "format": "WARC File Format 1.1",
        "description": "Raw responses behind every stored version, with a metadata "
        "record per version (feedsvc-article-id, feedsvc-version, feedsvc-change-class, "
        "feedsvc-text-sha256).",
    }
    if feed is not None:
        fields["feedsvc-feed"] = feed
    if since is not None:
        fields["feedsvc-since"] = warc_date(since)
    return fields


def write_warc(
    items: Iterable[EvidenceItem],
    out: IO[bytes],
    *,
    filename: str = "feedsvc.warc.gz",
    info: Mapping[str, str] | None = None,
) -> int:
    """Write a gzipped WARC of `items` to `out`; returns the number of
    versions it describes."""
    versions = 0

    def counted() -> Iterator[EvidenceItem]:
        nonlocal versions
        for item in items:
            versions += len(item.versions)
            yield item

    for chunk in warc_chunks(counted(), filename=filename, info=info):
        out.write(chunk)
    return versions


def warc_chunks(
    items: Iterable[EvidenceItem],
    *,
    filename: str = "feedsvc.warc.gz",
    info: Mapping[str, str] | None = None,
) -> Iterator[bytes]:
    """The gzipped WARC as a stream of bytes, one chunk per raw response
    (each record its own gzip member, as the WARC spec recommends)."""
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True, warc_version=WARC_VERSION)
    writer.write_record(writer.create_warcinfo_record(filename, dict(info or {})))
    yield _drain(buffer)
    for item in items:
        _write_item(writer, item)
        yield _drain(buffer)


def _drain(buffer: io.BytesIO) -> bytes:
    data = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return data


def _write_item(writer: WARCWriter, item: EvidenceItem) -> None:
    ev = item.evidence
    date = warc_date(ev.fetched_at)
    http = urlsplit(ev.url).scheme in ("http", "https")
    if http:
        main = writer.create_warc_record(
            ev.url,
            "response",
            payload=io.BytesIO(ev.body),
            http_headers=_response_headers(ev),
            warc_headers_dict={"WARC-Date": date},
        )
    else:  # a local file: no HTTP exchange, the file's bytes as a resource
        main = writer.create_warc_record(
            ev.url,
            "resource",
            payload=io.BytesIO(ev.body),
            warc_content_type=ev.content_type or "application/octet-stream",
            warc_headers_dict={"WARC-Date": date},
        )
    main_id = main.rec_headers.get_header("WARC-Record-ID")
    writer.write_record(main)
    if http:
        request = writer.create_warc_record(
            ev.url,
            "request",
            payload=io.BytesIO(b""),
            http_headers=_request_headers(ev),
            warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": main_id},
        )
        writer.write_record(request)
    for facts in item.versions:
        writer.write_record(_metadata_record(writer, ev, facts, main_id))


def _metadata_record(
    writer: WARCWriter, ev: Evidence, facts: EvidenceVersion, refers_to: str
) -> ArcWarcRecord:
    fields = [
        ("feedsvc-article-id", facts.article_id),
        ("feedsvc-feed", facts.feed),
        ("feedsvc-version", str(facts.number)),
        ("feedsvc-seen-at", warc_date(facts.seen_at)),
        ("feedsvc-change-class", facts.change_class),
        ("feedsvc-text-sha256", facts.sha256),
        ("feedsvc-suspect", "true" if facts.suspect else "false"),
    ]
    if ev.extractor:
        fields.append(("feedsvc-extractor", ev.extractor))
    body = "".join(f"{name}: {value}\r\n" for name, value in fields).encode("utf-8")
    return writer.create_warc_record(
        ev.url,
        "metadata",
        payload=io.BytesIO(body),
        warc_content_type="application/warc-fields",
        warc_headers_dict={
            "WARC-Date": warc_date(facts.seen_at),
            "WARC-Refers-To": refers_to,
        },
    )


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _response_headers(ev: Evidence) -> StatusAndHeaders:
    headers: list[tuple[str, str]] = []
    received = ev.response_headers
    if received is None:  # stored before the exchange was kept: what we know
        received = {
            name: value
            for name, value in (
                ("content-type", ev.content_type),
                ("etag", ev.etag),
                ("last-modified", ev.last_modified),
            )
            if value
        }
    for name, value in received.items():
        if name.lower() in _WIRE_HEADERS:
            if name.lower() != "content-length":
                headers.append((f"X-Feedsvc-Orig-{_title(name)}", value))
            continue
        headers.append((_title(name), value))
    headers.append(("Content-Length", str(len(ev.body))))
    return StatusAndHeaders(_status_line(ev.status), headers, protocol="HTTP/1.1")


def _request_headers(ev: Evidence) -> StatusAndHeaders:
    parts = urlsplit(ev.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    sent = dict(ev.request_headers or {})
    sent.setdefault("host", parts.netloc)
    headers = [(_title(name), value) for name, value in sent.items()]
    return StatusAndHeaders(f"GET {target} HTTP/1.1", headers, is_http_request=True)


def _title(name: str) -> str:
    """Header names as they are usually written (content-type -> Content-Type)."""
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))
