"""The server's side of an exchange: its answer held to the oracle, as the suite holds it.

For each operation that went through, the steps of `conformance.exerciser`, minus the
sending: the oracle (`Model.expect_*`) says what the answer must be, given the request as
it went (one the document calls invalid must be refused, one it leaves open may go either
way); the `Checker` checks the answer against that and against the object shapes; the
model then records what the target did. A completed file's content is checked when the
client downloads it. An upload the model cannot follow (its create was not seen, another
tenant's, or one whose state the target broke) is not judged here: its requests are only
held to the document, on the client's side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance.checks import Checker
from conformance.model import Expectation, Model, Part, Upload, Verdict
from conformance.openapi.judge import Judgement, Reading
from conformance.proxy.observe import Observed
from conformance.proxy.spool import Spool
from conformance.upload_answers import UploadAnswers

__all__ = ["CompletedFile", "ServerRules"]


@dataclass(frozen=True, slots=True)
class CompletedFile:
    """What a completed upload's file must hold: its md5 and size (and, to tell a file in
    the order the parts were sent from one in part_ids order, the md5 of that order)."""

    upload_id: str
    tenant: str
    md5: str
    size: int
    sent_order_md5: str | None


class ServerRules:
    """The oracle following the observed operations; the checker judging each answer."""

    def __init__(self, check: Checker, model: Model, spool: Spool,
                 new_id: Callable[[str, str], None], name: Callable[[str], str]) -> None:
        self.check, self.model, self.spool = check, model, spool
        self.answers = UploadAnswers(check)
        self.new_id, self.name = new_id, name
        self.tenants: dict[str, str] = {}  # upload ID -> the tenant that created it
        self.files: dict[str, CompletedFile] = {}

    def followed(self, observed: Observed) -> Upload | None:
        """The upload the request is about, if the model follows it for this tenant."""
        upload = self.model.uploads.get(observed.route.upload_id or "")
        if upload is None or upload.untracked \
                or self.tenants.get(upload.id) != observed.tenant:
            return None
        return upload

    # --- the operations ---------------------------------------------------------------------

    def create(self, observed: Observed, reading: Judgement) -> str | None:
        body = observed.sent.json
        expectation = _lenient(self.model, self.model.expect_create(body), reading)
        if not self.check.answer(expectation, observed, "create"):
            return None
        upload = observed.json
        if not self.answers.first(upload, "the created upload", observed.wall_time):
            return None
        if expectation.verdict is Verdict.ACCEPT:
            echoed = {k: upload.get(k) for k in ("filename", "purpose", "bytes")}
            wanted = {k: body[k] for k in echoed}
            self.check.expect(upload["status"] == "pending" and echoed == wanted,
                              "CREATE-VALID", f"the new upload has status "
                              f"{upload['status']!r} and {echoed}, expected 'pending' and "
                              f"{wanted}")
        upload_id: str = upload["id"]
        self.new_id(upload_id, "upload")
        # What the target made of the request (the same as asked, for a valid one).
        self.model.record_create(upload, upload_id, upload["created_at"])
        self.tenants[upload_id] = observed.tenant
        return upload_id

    def add_part(self, observed: Observed, reading: Judgement, parallel: bool) -> None:
        upload = self.followed(observed)
        if upload is None:
            return
        part = observed.part
        if reading.reading is Reading.INVALID or part is None:
            expectation = self.model.expect_malformed("PART-INVALID")
        else:
            expectation = _lenient(self.model, self.model.expect_add_part(
                upload.id, part.size, observed.wall_time, parallel), reading)
        what = f"a part of {part.size} bytes" if part is not None else "a part"
        if not self.check.answer(expectation, observed, what):
            return
        if part is None or not part.complete:
            self.model.lose_track(upload.id)  # taken, but its bytes are not known
            return
        body = observed.json
        if not self.check.part_object(body, upload.id, "the added part"):
            return
        self.new_id(body["id"], "part")
        self.model.record_part(upload.id, Part(body["id"], part.size, part), parallel)

    def complete(self, observed: Observed, reading: Judgement) -> None:
        upload = self.followed(observed)
        if upload is None:
            return
        body: Any = observed.sent.json
        if reading.reading is Reading.INVALID or not isinstance(body, dict):
            expectation = self.model.expect_malformed("COMPLETE-INVALID")
        else:
            part_ids, md5 = body["part_ids"], body.get("md5")
            try:
                expected = self.model.expect_complete(upload.id, part_ids, md5,
                                                      observed.wall_time)
            except LookupError:  # a part's bytes are gone from the spool: md5 not judged
                expected = self.model.expect_complete(upload.id, part_ids, None,
                                                      observed.wall_time)
            expectation = _lenient(self.model, expected, reading)
        if not self.check.answer(expectation, observed, "completion"):
            return
        answer = observed.json
        if not self.answers.later(upload.id, answer, "the completed upload"):
            return
        self.check.expect(answer["status"] == "completed", "COMPLETE-VALID",
                          f"the completed upload has status {answer['status']!r}")
        file = self.check.nested_file(answer, upload.declared_bytes, upload.filename,
                                      upload.purpose, "the completed upload")
        file_id = file["id"] if file else None
        self.model.record_complete(upload.id, body["part_ids"], file_id)
        if file_id is not None:
            self._remember_file(upload, file_id, observed.tenant)
        self.ended(upload)

    def cancel(self, observed: Observed, reading: Judgement) -> None:
        upload = self.followed(observed)
        if upload is None:
            return
        expectation = _lenient(self.model, self.model.expect_cancel(
            upload.id, observed.wall_time), reading)
        if not self.check.answer(expectation, observed, "cancel"):
            return
        answer = observed.json
        if self.answers.later(upload.id, answer, "the cancelled upload") and \
                expectation.verdict is Verdict.ACCEPT:
            self.check.expect(answer["status"] == "cancelled", "CANCEL-VALID",
                              f"the cancelled upload has status {answer['status']!r}")
        self.model.record_cancel(upload.id)
        self.ended(upload)

    def download(self, observed: Observed) -> None:
        """GET /files/{id}/content of a file the model saw made: its bytes, in order."""
        file = self.files.get(observed.route.file_id or "")
        if file is None or file.tenant != observed.tenant or observed.client_left:
            return
        status, check = observed.status, self.check
        where = f"the content of the file of {self.name(file.upload_id)}"
        if status == 200:
            if observed.header("content-encoding") not in (None, "identity"):
                return  # compressed on the way: its bytes are not the file's to compare
            if observed.error:
                check.fail("CONTENT-BYTES", f"{where} broke off after "
                           f"{observed.content_size} bytes ({observed.error})")
            if observed.content_md5 == file.md5 and observed.content_size == file.size:
                check.ok("CONTENT-BYTES")
                check.ok("COMPLETE-ORDER")
                return
            if file.sent_order_md5 == observed.content_md5:
                check.fail("COMPLETE-ORDER", "the file holds the parts in the order they "
                           "were sent, not in part_ids order")
            check.fail("CONTENT-BYTES", f"{where} differs from the listed parts' bytes: "
                       f"{observed.content_size} bytes with md5 {observed.content_md5}, "
                       f"not {file.size} bytes with md5 {file.md5}")
        if status is None or status >= 500:
            answered = "not answered" if status is None else f"answered {status}"
            check.fail("CONTENT-BYTES", f"{where} was {answered}, not with the file's bytes",
                       also=["NO-SERVER-ERROR"])
        elif status == 404:
            check.fail("CONTENT-BYTES", f"{where} was answered 404, for a file the target "
                       "made")
        elif 400 <= status < 500:  # refusing a download is the target's choice
            check.recorder.observe("OPEN-FILE-ENDPOINTS",
                                   f"GET /files/{{id}}/content refused ({status})")
            check.refusal(observed, "the request for a file's content")
        else:
            check.fail("CONTENT-BYTES", f"{where} was answered {status}, not 200 with the "
                       "file's bytes")

    # --- the spool ---------------------------------------------------------------------------

    def ended(self, upload: Upload) -> None:
        """The upload is over: its parts' bytes leave the spool."""
        self.spool.discard([p.content for p in upload.parts.values()])

    def _remember_file(self, upload: Upload, file_id: str, tenant: str) -> None:
        parts = self.model.completed_parts(upload.id)
        listed = set(upload.completed_with)
        sent = [p.content for p in upload.parts.values() if p.id in listed]
        try:
            md5 = self.spool.md5([p.content for p in parts])
            sent_md5 = self.spool.md5(sent) if sent != [p.content for p in parts] else None
        except LookupError:
            return  # a part's bytes never made it to the spool whole: not judged
        self.files[file_id] = CompletedFile(upload.id, tenant, md5,
                                            sum(p.size for p in parts), sent_md5)


def _lenient(model: Model, expectation: Expectation, reading: Judgement) -> Expectation:
    """A request the document leaves open may be taken or refused, unless its state
    calls for a refusal anyway; one it calls invalid is the oracle's own business."""
    if reading.reading is Reading.OPEN and expectation.verdict is not Verdict.REFUSE:
        return model.expect_lenient(reading.reason)
    return expectation
