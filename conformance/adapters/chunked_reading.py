"""What an SDK's chunked upload helper sent, read from its recorded requests.

`ChunkedFile` is the file a run uploads, written to disk from a seeded payload and never
held whole (a 64 MiB + 1 file costs a few blocks of memory), with the md5 of any slice.
`read_requests` follows the helper's requests (a create, parts, one completion) and says
how they depart from a correct chunked upload of that file, which request the target did
not accept, and which uploads were left pending. It blames no one: the SDK-CHUNKED-UPLOAD
check (`chunked`) and the argument check (`chunked_arguments`) decide whose fault it is.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlsplit

from conformance.adapters.sdk_records import ChunkedCall, ChunkedRun, HttpRecord, SentRequest
from strategies.payloads import Payload

__all__ = ["ChunkedFile", "Reading", "chunked_file", "read_requests", "was_stopped"]

_READ_CHUNK: Final = 1 << 20


@dataclass(frozen=True, slots=True)
class ChunkedFile:
    """A file on disk for the helper to upload: where it is, its size and md5."""

    path: Path
    size: int
    md5: str

    def slice_md5(self, offset: int, length: int) -> tuple[str, int]:
        """The md5 and length of bytes offset..offset+length (shorter past the end)."""
        digest, seen = hashlib.md5(), 0
        with self.path.open("rb") as file:
            file.seek(offset)
            while seen < length:
                chunk = file.read(min(_READ_CHUNK, length - seen))
                if not chunk:
                    break
                digest.update(chunk)
                seen += len(chunk)
        return digest.hexdigest(), seen


@contextmanager
def chunked_file(payload: Payload, filename: str) -> Iterator[ChunkedFile]:
    """The payload written, streamed, to `filename` in a temporary folder removed after."""
    with tempfile.TemporaryDirectory(prefix="uploads-conformance-") as folder:
        path, digest = Path(folder) / filename, hashlib.md5()
        with path.open("wb") as file:
            for chunk in payload.iter_chunks():
                digest.update(chunk)
                file.write(chunk)
        yield ChunkedFile(path, len(payload), digest.hexdigest())


@dataclass(slots=True)
class Reading:
    """The helper's requests, followed.

    `problems` say how they depart from a correct chunked upload of the file; `unusable`
    that they do not follow create, parts, one completion at all. `refused` is the first
    request the target did not accept (operation, status). `parts` are the part requests
    up to it; `left_pending` the uploads created and not completed.
    """

    records: list[HttpRecord]
    operations: list[str | None]
    create: HttpRecord | None = None
    upload_id: str | None = None
    parts: list[HttpRecord] = field(default_factory=list)
    completion: HttpRecord | None = None
    problems: list[str] = field(default_factory=list)
    unusable: bool = False
    refused: tuple[str, int | None] | None = None
    left_pending: list[str] = field(default_factory=list)

    @property
    def completed(self) -> bool:
        return self.completion is not None and self.refused is None

    def summary(self) -> str:
        """What was sent, in a few words: "a create (200), 3 parts (200), a completion (400)"."""
        said = [f"{_WORDS.get(operation or '', 'another request')} ({record.status})"
                for record, operation in zip(self.records, self.operations, strict=True)]
        return ", ".join(_grouped(said)) or "nothing"


_WORDS: Final = {"createUpload": "a create", "addUploadPart": "a part",
                 "completeUpload": "a completion", "cancelUpload": "a cancel"}


def _grouped(said: list[str]) -> list[str]:
    grouped: list[str] = []
    count = 0
    for index, item in enumerate(said):
        count += 1
        if index + 1 < len(said) and said[index + 1] == item:
            continue
        grouped.append(item if count == 1 else item.replace("a part", f"{count} parts", 1))
        count = 0
    return grouped


def read_requests(records: Sequence[HttpRecord], base_url: str, file: ChunkedFile, *,
                  part_limit: int, limit_label: str, md5: str | None) -> Reading:
    """Follows the helper's requests for `file`; parts larger than `part_limit` (so named by
    `limit_label`, e.g. "part size 1000") and a completion without `md5` are problems."""
    operations = [_operation_of(r.sent, base_url) for r in records]
    reading = Reading(list(records), operations,
                      left_pending=_left_pending(records, operations, base_url))
    problems = reading.problems
    if not records or operations[0] != "createUpload":
        problems.append(f"it began with {operations[0] if records else 'no request'}, "
                        "not a create")
        reading.unusable = True
        return reading
    create = reading.create = records[0]
    declared = create.sent.json.get("bytes") if isinstance(create.sent.json, dict) else None
    if declared != file.size:
        problems.append(f"its create declares bytes={declared!r} for a file of {file.size} "
                        "bytes")
    if create.status != 200 or not isinstance(create.json, dict):
        reading.refused = ("createUpload", create.status)
        return reading
    reading.upload_id = str(create.json.get("id"))
    offset, part_ids, index = 0, [], 1
    while index < len(records) and operations[index] == "addUploadPart":
        record = records[index]
        reading.parts.append(record)
        data = next((f for f in record.sent.form or [] if f.name == "data"), None)
        if data is not None:
            if not 0 < data.size <= part_limit:
                problems.append(f"part #{index} holds {data.size} bytes ({limit_label})")
            if file.slice_md5(offset, data.size) != (data.md5, data.size):
                problems.append(f"part #{index} does not hold the file's bytes "
                                f"{offset}..{offset + data.size} (parts out of order?)")
            offset += data.size
        if record.status != 200 or not isinstance(record.json, dict):
            reading.refused = ("addUploadPart", record.status)
            return reading
        part_ids.append(record.json.get("id"))
        index += 1
    if offset != file.size:
        problems.append(f"the parts hold {offset} of the file's {file.size} bytes")
    rest = operations[index:]
    if rest != ["completeUpload"]:
        problems.append(f"after the parts it sent {rest or 'nothing'}, not one completion")
        reading.unusable = True
        return reading
    complete = reading.completion = records[index]
    sent = complete.sent.json if isinstance(complete.sent.json, dict) else {}
    if sent.get("part_ids") != part_ids:
        problems.append(f"the completion lists part_ids {sent.get('part_ids')}, but the "
                        f"parts were sent as {part_ids}")
    if sent.get("md5") != md5:
        problems.append(f"the completion's md5 is {sent.get('md5')!r}, not {md5!r}")
    if complete.status != 200:
        reading.refused = ("completeUpload", complete.status)
    return reading


def was_stopped(run: ChunkedRun, call: ChunkedCall) -> bool:
    """Whether the adapter stopped the helper at its bound (it sends no request past it)."""
    return call.max_requests is not None and run.records is not None \
        and len(run.records) >= call.max_requests


def _left_pending(records: Sequence[HttpRecord], operations: Sequence[str | None],
                  base_url: str) -> list[str]:
    """The uploads the requests created and did not complete (nor cancel)."""
    created: list[str] = []
    ended: set[str] = set()
    for record, operation in zip(records, operations, strict=True):
        if record.status != 200:
            continue
        if operation == "createUpload" and isinstance(record.json, dict) \
                and isinstance(record.json.get("id"), str):
            created.append(record.json["id"])
        elif operation in ("completeUpload", "cancelUpload"):
            ended.add(_path(record.sent, base_url)[1])
    return [upload for upload in created if upload not in ended]


def _path(sent: SentRequest, base_url: str) -> list[str]:
    base = [s for s in urlsplit(base_url).path.split("/") if s]
    return [unquote(s) for s in urlsplit(sent.url).path.split("/") if s][len(base):]


def _operation_of(sent: SentRequest, base_url: str) -> str | None:
    path = _path(sent, base_url)
    if sent.method.upper() != "POST" or not path or path[0] != "uploads":
        return None
    if len(path) == 1:
        return "createUpload"
    if len(path) == 3:
        return {"parts": "addUploadPart", "complete": "completeUpload",
                "cancel": "cancelUpload"}.get(path[2])
    return None
