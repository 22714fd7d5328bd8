"""Reading a completed upload's file back, where the target serves files.

The answer to GET /files/{id}/content is judged as an answer first: a server error or no
answer breaks NO-SERVER-ERROR and CONTENT-BYTES (an error page is never compared with the
file), a 404 for a file the target has just made breaks CONTENT-BYTES, another refusal is
the target's choice (the real API refuses downloads for some purposes). Only a 200 body is
compared, byte for byte, with the parts the oracle says the file holds, in their order.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from conformance import api
from strategies.payloads import BLOCK_SIZE, concat_md5, matches

if TYPE_CHECKING:
    from conformance.client.answer import ContentStream
    from conformance.exerciser import Exerciser


def read_back(run: Exerciser, upload: str, file_id: str) -> None:
    """Where the target serves files, the file holds the listed parts' bytes in order."""
    if not run.target.files_served(file_id):
        return
    parts = [p.content for p in run.model.completed_parts(upload)]
    # Read in the payloads' own blocks, so that most comparisons are of whole objects.
    with run.target.client.stream_get(api.file_content_path(file_id),
                                      chunk_size=BLOCK_SIZE) as stream:
        compared = matches(parts, stream) if stream.status == 200 else None
    # Judged once the stream is closed: the exchange is recorded then, as the evidence.
    run.step(f"read the file of {run.name(upload)} back", stream)
    status, check = stream.status, run.check
    if compared is None:
        answered = f"answered {status}" if status is not None else \
            f"not answered ({stream.error})"
        where = f"the content was {answered} (the file of {run.name(upload)})"
        if status is None or status >= 500:
            check.fail("CONTENT-BYTES", f"{where}, not with the file's bytes",
                       also=["NO-SERVER-ERROR"])
        elif status == 404:
            check.fail("CONTENT-BYTES", f"{where}: the target serves the file endpoints, but "
                       "not the content of a file it has just completed")
        elif 400 <= status < 500:
            _refused(run, stream, status)
        else:
            check.fail("CONTENT-BYTES", f"{where}, not 200 with the file's bytes")
        return
    ok, difference = compared
    if ok:
        check.ok("CONTENT-BYTES")
        check.ok("COMPLETE-ORDER")
        return
    if stream.error:
        difference += f" ({stream.error})"
    state = run.model.uploads[upload]
    listed = set(state.completed_with)
    added = [p.content for part_id, p in state.parts.items() if part_id in listed]
    if added != parts and concat_md5(added) == _content_md5(run, file_id):
        check.fail("COMPLETE-ORDER", "the file holds the parts in the order they were added, "
                   "not in part_ids order")
    check.fail("CONTENT-BYTES", f"the file's content differs: {difference}")


def _refused(run: Exerciser, stream: ContentStream, status: int) -> None:
    """A refusal to serve the content: left open, but a refusal has the error envelope."""
    recorder = run.target.recorder
    recorder.observe("OPEN-FILE-ENDPOINTS", f"GET /files/{{id}}/content refused ({status})")
    recorder.cannot_test("CONTENT-BYTES", "the target refuses to serve a completed file's "
                         f"content (GET /files/{{id}}/content: {status})")
    run.check.refusal(stream, "the request for a file's content")


def _content_md5(run: Exerciser, file_id: str) -> str | None:
    """The md5 of the content as served again; None unless it is served with 200."""
    digest = hashlib.md5()
    with run.target.client.stream_get(api.file_content_path(file_id)) as stream:
        if stream.status != 200:
            return None
        for chunk in stream:
            digest.update(chunk)
    return digest.hexdigest()
