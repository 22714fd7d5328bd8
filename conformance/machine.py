"""The state machine: generated sequences of upload operations, each answer held to the oracle.

Each rule reads as the sentence of the API it exercises; sending, recording and comparing
happen in the helpers at the bottom. A broken requirement raises `ConformanceFailure`,
and Hypothesis shrinks the sequence of steps that led to it.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, multiple, precondition, rule

from conformance.adapters.http import upload_path
from conformance.checks import Answer
from conformance.model import LIFETIME_S, Expectation, Model, Part, Status, Verdict, accept
from conformance.target import Target
from strategies.malformed import malformed_json_requests, malformed_multipart_requests
from strategies.orderings import (
    Ordering,
    OrderingKind,
    orderings,
    unknown_part_ids,
    valid_orderings,
)
from strategies.payloads import Payload, concat_md5, matches
from strategies.sizes import size_plans
from strategies.uploads import invalid_create_requests, valid_create_requests

MAX_PARALLEL_PARTS = 8


def _upload_ready(machine: UploadsMachine) -> bool:
    return bool(machine._ready())


class UploadsMachine(RuleBasedStateMachine):
    """Uploads created, filled, completed and cancelled in generated orders."""

    target: ClassVar[Target]  # bound by `bind_machine`
    uploads = Bundle("uploads")

    def __init__(self) -> None:
        super().__init__()
        self.model = Model()
        self.steps: list[str] = []
        self.alias: dict[str, str] = {}  # target ID -> short name used in the steps
        self.tainted: set[str] = set()  # uploads whose state the target has already broken
        self.parallel: set[str] = set()  # uploads that received parts in parallel
        self.clock_advanced = False
        self.parts_made = 0
        self.target.checker.current_steps = self.steps
        self.check = self.target.checker

    # --- create ----------------------------------------------------------------------

    @rule(target=uploads, data=st.data())
    def create_an_upload(self, data: st.DataObject) -> Any:
        max_bytes = self.target.profile.max_upload_bytes
        upload_id = self._create(data.draw(valid_create_requests(max_bytes), label="request"))
        return multiple() if upload_id is None else upload_id

    @rule(target=uploads, data=st.data())
    def create_and_fill_an_upload(self, data: st.DataObject) -> Any:
        """An upload and, one after the other, parts that add up to its declared size."""
        max_bytes = self.target.profile.max_upload_bytes
        request = data.draw(valid_create_requests(max_bytes), label="request")
        upload_id = self._create(request)
        if upload_id is None:
            return multiple()
        plan = data.draw(size_plans(request["bytes"], max_part=max(request["bytes"], 1),
                                    max_parts=4), label="part sizes")
        for size in plan:
            self._add_part(upload_id, self._payload(size))
        return upload_id

    @rule(upload=uploads, data=st.data(), kind=st.sampled_from(
        ["invalid create", "unknown upload", "wrong credentials", "malformed"]))
    def send_a_bad_request(self, upload: str, data: st.DataObject, kind: str) -> None:
        """One request the target must refuse: rules of their own would crowd out the
        lifecycle rules, as Hypothesis picks among rules evenly."""
        if kind == "invalid create":
            self._invalid_create(data.draw(invalid_create_requests(), label="invalid"))
        elif kind == "unknown upload":
            self._on_unknown_upload(data)
        elif kind == "wrong credentials":
            self._without_the_right_key(upload, data)
        else:
            self._malformed(upload, data)

    def _invalid_create(self, invalid: Any) -> None:
        expectation = self.model.expect_create(invalid.body)
        answer = self.target.client.request("POST", "/uploads", json=invalid.body)
        self._step(f"create({_short(invalid.body)})  # {invalid.fault}", answer)
        if self.check.answer(expectation, answer, f"create with {invalid.fault}"):
            self._forget_created(answer)

    # --- parts -----------------------------------------------------------------------

    @rule(upload=uploads, data=st.data())
    def add_a_part(self, upload: str, data: st.DataObject) -> None:
        if upload in self.tainted:
            return
        remaining = self.model.uploads[upload].declared_bytes - \
            self.model.uploads[upload].bytes_added
        size = data.draw(_part_size(remaining), label="size")
        self._add_part(upload, self._payload(size))

    @rule(upload=uploads, data=st.data())
    def add_parts_in_parallel(self, upload: str, data: st.DataObject) -> None:
        state = self.model.uploads[upload]
        remaining = state.declared_bytes - state.bytes_added
        if upload in self.tainted or remaining < 2:
            return
        count = data.draw(st.integers(2, min(MAX_PARALLEL_PARTS, remaining)), label="count")
        sizes = _split(remaining, count)
        if not self.target.spend(remaining):
            return
        payloads = [self._payload(s) for s in sizes]
        expectations = [self.model.expect_add_part(upload, s, self.target.now()) for s in sizes]
        with ThreadPoolExecutor(max_workers=count) as pool:
            answers = list(pool.map(lambda p: self.target.adapter.add_part(upload, p), payloads))
        self._step(f"add {count} parts to {self._name(upload)} at once, sizes {sizes}",
                   *answers)
        self.parallel.add(upload)
        for payload, expectation, answer in zip(payloads, expectations, answers, strict=True):
            if expectation.verdict is Verdict.ACCEPT:
                expectation = accept("PART-PARALLEL", "parts may be added in parallel")
            self._record_part(upload, payload, expectation, answer)

    # --- complete ----------------------------------------------------------------------

    @precondition(_upload_ready)
    @rule(data=st.data())
    def complete_a_full_upload(self, data: st.DataObject) -> None:
        upload = data.draw(st.sampled_from(self._ready()), label="upload")
        part_ids = list(self.model.uploads[upload].parts)
        ordering = data.draw(valid_orderings(part_ids), label="ordering")
        if data.draw(st.integers(0, 4), label="slip in an unknown ID") == 4:
            unknown = data.draw(unknown_part_ids(avoid=part_ids), label="unknown ID")
            at = data.draw(st.integers(0, len(part_ids)), label="at")
            ordering = Ordering(OrderingKind.UNKNOWN,
                                [*ordering.part_ids[:at], unknown, *ordering.part_ids[at:]])
        right_md5 = self._md5_of(upload, ordering.part_ids)
        md5 = data.draw(_md5_choice(right_md5), label="md5")
        if md5 is not None and md5 == right_md5:
            # The md5 must be checked: the same completion with a wrong one is refused first.
            self._complete(upload, ordering, _wrong_md5(right_md5))
            if upload in self.tainted or self.model.uploads[upload].status is not Status.PENDING:
                return
        self._complete(upload, ordering, md5)

    @precondition(lambda self: bool(self.model.part_owner))
    @rule(data=st.data())
    def complete_with_a_part_of_another_upload(self, data: st.DataObject) -> None:
        """A new upload of exactly the size of another upload's part, completed with it."""
        part_id = data.draw(st.sampled_from(sorted(self.model.part_owner)), label="part")
        owner = self.model.uploads[self.model.part_owner[part_id]]
        size = owner.parts[part_id].size
        request = {"filename": "borrowed.txt", "purpose": "assistants", "bytes": size,
                   "mime_type": "text/plain"}
        upload = self._create(request)
        if upload is not None:
            self._complete(upload, Ordering(OrderingKind.FOREIGN, [part_id]), None)

    @precondition(lambda self: bool(self._finished()))
    @rule(data=st.data(), action=st.sampled_from(["parts", "complete", "cancel"]))
    def operate_on_a_finished_upload(self, data: st.DataObject, action: str) -> None:
        """A completed or cancelled upload takes no part, completion or (once completed)
        cancel; the completion lists exactly the parts that would otherwise be right."""
        finished = self._finished()
        # Full ones first: a completion they refuse is refused for their state alone.
        full = [u for u in finished if self.model.uploads[u].bytes_added ==
                self.model.uploads[u].declared_bytes]
        upload = data.draw(st.sampled_from(full or finished), label="upload")
        if action == "parts":
            self._add_part(upload, self._payload(1))
        elif action == "complete":
            state = self.model.uploads[upload]
            part_ids = state.completed_with or list(state.parts)
            self._complete(upload, Ordering(OrderingKind.IDENTITY, part_ids), None)
        else:
            self.cancel_the_upload(upload)

    @rule(upload=uploads, data=st.data())
    def complete_with_any_part_ids(self, upload: str, data: st.DataObject) -> None:
        if upload in self.tainted:
            return
        foreign = [p for p, owner in self.model.part_owner.items() if owner != upload]
        ordering = data.draw(orderings(list(self.model.uploads[upload].parts), foreign),
                             label="ordering")
        md5 = data.draw(_md5_choice(self._md5_of(upload, ordering.part_ids)), label="md5")
        self._complete(upload, ordering, md5)

    @precondition(_upload_ready)
    @rule(data=st.data())
    def race_completion_against_cancel(self, data: st.DataObject) -> None:
        upload = data.draw(st.sampled_from(self._ready()), label="upload")
        part_ids = list(self.model.uploads[upload].parts)
        if self.model.expect_complete(upload, part_ids, None, self.target.now()).open:
            return
        with ThreadPoolExecutor(max_workers=2) as pool:
            completion = pool.submit(self.target.adapter.complete, upload,
                                     {"part_ids": part_ids})
            cancel = pool.submit(self.target.adapter.cancel, upload)
            completed, cancelled = completion.result(), cancel.result()
        self._step(f"complete and cancel {self._name(upload)} at once", completed, cancelled)
        winners = [a for a in (completed, cancelled) if a.status and 200 <= a.status < 300]
        self.check.expect(len(winners) == 1, "RACE-LINEARIZABLE",
                          f"{len(winners)} of a racing completion and cancel succeeded "
                          f"(completion {completed.status}, cancel {cancelled.status}); "
                          "in any order exactly one must")
        if len(winners) != 1:
            self.tainted.add(upload)
        elif winners[0] is completed:
            self.check.refusal(cancelled, "the cancel that lost the race")
            self._completed(upload, part_ids, accept("COMPLETE-VALID", ""), completed)
        else:
            self.check.refusal(completed, "the completion that lost the race")
            self._cancelled(upload, cancelled)

    @precondition(_upload_ready)
    @rule(data=st.data(), extra=st.integers(1, 3))
    def race_completion_against_new_parts(self, data: st.DataObject, extra: int) -> None:
        """Completion of a full upload while more parts are in flight.

        Whatever the order, a completion that no extra part got ahead of sees exactly the
        listed parts: when the target took none of the extras, it must have completed.
        """
        upload = data.draw(st.sampled_from(self._ready()), label="upload")
        part_ids = list(self.model.uploads[upload].parts)
        right_md5 = self._md5_of(upload, part_ids)
        extras = [self._payload(1) for _ in range(extra)]
        with ThreadPoolExecutor(max_workers=extra + 1) as pool:
            completion = pool.submit(self.target.adapter.complete, upload,
                                     {"part_ids": part_ids, "md5": right_md5})
            parts = [pool.submit(self.target.adapter.add_part, upload, p) for p in extras]
            completed, added = completion.result(), [p.result() for p in parts]
        self._step(f"complete {self._name(upload)} while {extra} more part(s) of 1 byte are "
                   "sent", completed, *added)
        taken = [a for a in added if a.status and 200 <= a.status < 300]
        for answer in added:
            self.check.answer(Expectation(Verdict.EITHER, "OPEN-OVERFLOW-PART",
                                          "a part racing a completion"), answer, "a racing part")
        if taken:
            # A part got in (before the completion, or wrongly after it): either verdict
            # on the completion is possible; the upload's state is no longer ours to model.
            self.check.answer(Expectation(Verdict.EITHER, "OPEN-SUBSET-COMPLETION",
                                          "a completion after a part it does not list"),
                              completed, "the racing completion")
            self.tainted.add(upload)
            return
        expectation = accept("RACE-LINEARIZABLE", "no racing part was taken, so in any "
                             "order the completion saw exactly the parts it lists")
        if self.check.answer(expectation, completed, "the racing completion"):
            self._completed(upload, part_ids, expectation, completed)

    # --- cancel --------------------------------------------------------------------------

    @rule(upload=uploads)
    def cancel_the_upload(self, upload: str) -> None:
        if upload in self.tainted:
            return
        expectation = self.model.expect_cancel(upload, self.target.now())
        answer = self.target.adapter.cancel(upload)
        self._step(f"cancel {self._name(upload)}", answer)
        if self.check.answer(expectation, answer, "cancel"):
            if expectation.verdict is Verdict.REFUSE:
                self.tainted.add(upload)
            else:
                self._cancelled(upload, answer)

    # --- time --------------------------------------------------------------------------

    @precondition(lambda self: not self.clock_advanced and self.target.can_advance_clock()
                  and bool(self.model.pending(self.target.now())))
    @rule()
    def let_an_hour_pass(self) -> None:
        self.clock_advanced = True  # once an example: later steps need living uploads
        # Well past the hour, so no upload sits at the instant of its expiry.
        self.target.advance_clock(LIFETIME_S + 30)
        self._step(f"advance the target's clock by {LIFETIME_S + 30} s (test controls)")

    # --- unknown uploads, credentials ----------------------------------------------------

    def _on_unknown_upload(self, data: st.DataObject) -> None:
        action = data.draw(st.sampled_from(["parts", "complete", "cancel"]), label="action")
        upload = "upload_" + data.draw(st.text("abcdefghijklmnopqrstuvwxyz0123456789",
                                               min_size=8, max_size=24), label="id")
        if upload in self.model.uploads:
            return
        requirement = {"parts": "PART-UNKNOWN-UPLOAD", "complete": "COMPLETE-STATE",
                       "cancel": "CANCEL-STATE"}[action]
        expectation = Expectation(Verdict.REFUSE, requirement, "the upload ID was never issued")
        answer = self._send_action(upload, action, auth=True)
        self._step(f"{action} on the unknown upload {upload!r}", answer)
        self.check.answer(expectation, answer, f"{action} on an unknown upload")

    def _without_the_right_key(self, upload: str, data: st.DataObject) -> None:
        action = data.draw(st.sampled_from(["create", "parts", "complete", "cancel"]),
                           label="action")
        credentials = data.draw(st.sampled_from(["none", "wrong key"]), label="credentials")
        auth: bool | str = False if credentials == "none" else "sk-wrong-key-for-conformance"
        answer = self._send_action(upload, action, auth=auth)
        self._step(f"{action} on {self._name(upload)} with {credentials}", answer)
        if answer.status is None or answer.status >= 500:
            self.check.answer(Expectation(Verdict.REFUSE, "AUTH-REQUIRED", ""), answer, action)
            return
        if self.check.expect(answer.status == 401, "AUTH-REQUIRED",
                             f"{action} with {credentials} was answered {answer.status}, "
                             "not 401"):
            self.check.refusal(answer, f"{action} with {credentials}")
        elif 200 <= answer.status < 300:
            self.tainted.add(upload)

    def _malformed(self, upload: str, data: st.DataObject) -> None:
        raw = data.draw(st.one_of(malformed_json_requests(), malformed_multipart_requests()),
                        label="request")
        path = "/uploads" if raw.operation == "create" else upload_path(
            upload, {"add_part": "parts"}.get(raw.operation, raw.operation))
        headers = {"Content-Type": raw.content_type} if raw.content_type else None
        answer = self.target.client.request("POST", path, content=raw.body, headers=headers)
        self._step(f"{raw.operation} on {self._name(upload)} with {raw.description}", answer)
        expectation = Expectation(Verdict.REFUSE, raw.requirement, "the request is malformed")
        if self.check.answer(expectation, answer, f"{raw.operation} with {raw.description}"):
            if raw.operation == "create":
                self._forget_created(answer)
            else:
                self.tainted.add(upload)

    # --- cleanup -----------------------------------------------------------------------

    def teardown(self) -> None:
        # Leave nothing pending on the target: cancel what this example left open.
        for upload in self.model.pending(self.target.now()):
            self.target.adapter.cancel(upload.id)

    # --- plumbing ------------------------------------------------------------------------

    def _payload(self, size: int) -> Payload:
        # Consecutive seeds differ in their first byte, so any reordering of parts shows.
        self.parts_made += 1
        return Payload(self.target.seed + self.parts_made, size)

    def _ready(self) -> list[str]:
        """Pending uploads that hold exactly their declared bytes: ready to complete."""
        now = self.target.now()
        return [u.id for u in self.model.uploads.values()
                if u.status_at(now) is Status.PENDING and u.bytes_added == u.declared_bytes
                and u.id not in self.tainted and not u.near_expiry(now)]

    def _finished(self) -> list[str]:
        now = self.target.now()
        return [u.id for u in self.model.uploads.values()
                if u.status in (Status.COMPLETED, Status.CANCELLED) and u.id not in self.tainted
                and not u.near_expiry(now)]

    def _complete(self, upload: str, ordering: Ordering, md5: str | None) -> None:
        part_ids = list(ordering.part_ids)
        right_md5 = self._md5_of(upload, part_ids)
        body: dict[str, Any] = {"part_ids": part_ids}
        if md5 is not None:
            body["md5"] = md5
        expectation = self.model.expect_complete(upload, part_ids, md5, self.target.now(),
                                                 right_md5)
        expectation = self._sharpen(expectation, upload, ordering.kind, md5)
        answer = self.target.adapter.complete(upload, body)
        self._step(f"complete {self._name(upload)} with part_ids {self._names(part_ids)} "
                   f"({ordering.kind.value}), md5={_md5_label(md5, right_md5)}", answer)
        if self.check.answer(expectation, answer, "completion"):
            self._completed(upload, part_ids, expectation, answer)

    def _create(self, request: dict[str, Any]) -> str | None:
        expectation = self.model.expect_create(request)
        answer = self.target.adapter.create(request)
        name = f"u{len(self.alias) + 1}"
        self._step(f"{name} = create({_short(request)})", answer)
        if not self.check.answer(expectation, answer, "create"):
            return None
        body = answer.json
        if not self.check.upload_object(body, "the created upload"):
            return None
        upload_id = body["id"]
        self.check.expect(upload_id not in self.target.seen_ids, "IDS-UNIQUE",
                          f"the new upload's ID {upload_id!r} was issued before in this run")
        self.target.seen_ids.add(upload_id)
        echoed = {k: body.get(k) for k in ("filename", "purpose", "bytes")}
        wanted = {k: request[k] for k in echoed}
        self.check.expect(body["status"] == "pending" and echoed == wanted, "CREATE-VALID",
                          f"the new upload has status {body['status']!r} and {echoed}, "
                          f"expected 'pending' and {wanted}")
        self.check.timestamps(body, self.target.now(), "the created upload")
        self.target.recorder.observe("OPEN-ID-FORMAT", f"upload IDs look like {_shape(upload_id)}")
        self.alias[upload_id] = name
        self.model.record_create(request, upload_id, body["created_at"])
        return upload_id

    def _add_part(self, upload: str, payload: Payload) -> None:
        if not self.target.spend(len(payload)):
            return  # the profile's byte budget (a paid API) is spent
        expectation = self.model.expect_add_part(upload, len(payload), self.target.now())
        answer = self.target.adapter.add_part(upload, payload)
        self._step(f"add a part of {len(payload)} bytes to {self._name(upload)}", answer)
        self._record_part(upload, payload, expectation, answer)

    def _record_part(self, upload: str, payload: Payload, expectation: Expectation,
                     answer: Answer) -> None:
        if not self.check.answer(expectation, answer, f"a part of {len(payload)} bytes"):
            return
        if expectation.verdict is Verdict.REFUSE:
            self.tainted.add(upload)  # the target took a part it should not have
            return
        body = answer.json
        if not self.check.part_object(body, upload, "the added part"):
            return
        part_id = body["id"]
        self.check.expect(part_id not in self.target.seen_ids, "IDS-UNIQUE",
                          f"the new part's ID {part_id!r} was issued before in this run")
        self.target.seen_ids.add(part_id)
        self.target.recorder.observe("OPEN-ID-FORMAT", f"part IDs look like {_shape(part_id)}")
        self.alias[part_id] = f"p{sum(1 for v in self.alias.values() if v[0] == 'p') + 1}"
        self.model.record_part(upload, Part(part_id, len(payload), payload))

    def _completed(self, upload: str, part_ids: list[str], expectation: Expectation,
                   answer: Answer) -> None:
        if expectation.verdict is Verdict.REFUSE:
            self.tainted.add(upload)
            return
        body = answer.json
        if not self.check.upload_object(body, "the completed upload"):
            return
        self.check.expect(body["status"] == "completed", "COMPLETE-VALID",
                          f"the completed upload has status {body['status']!r}")
        state = self.model.uploads[upload]
        file = self.check.nested_file(body, state.declared_bytes, state.filename, state.purpose,
                                      "the completed upload")
        file_id = file["id"] if file else None
        self.model.record_complete(upload, part_ids, file_id)
        if file_id is not None and len(set(part_ids)) == len(part_ids):
            self._check_content(upload, file_id)
        self._add_part(upload, self._payload(1))  # the end: no part may follow

    def _cancelled(self, upload: str, answer: Answer) -> None:
        body = answer.json
        if self.check.upload_object(body, "the cancelled upload"):
            self.check.expect(body["status"] == "cancelled", "CANCEL-VALID",
                              f"the cancelled upload has status {body['status']!r}")
        self.model.record_cancel(upload)
        # The end: no part may follow, and a second cancel is observed (left open).
        self._add_part(upload, self._payload(1))
        if upload not in self.tainted:
            expectation = self.model.expect_cancel(upload, self.target.now())
            again = self.target.adapter.cancel(upload)
            self._step(f"cancel {self._name(upload)} again", again)
            self.check.answer(expectation, again, "a second cancel")

    def _check_content(self, upload: str, file_id: str) -> None:
        if not self.target.files_served(file_id):
            return
        parts = [p.content for p in self.model.completed_parts(upload)]
        with self.target.client.stream_get(f"/files/{file_id}/content") as stream:
            ok, difference = matches(parts, stream)
        if ok:
            self.check.ok("CONTENT-BYTES")
            self.check.ok("COMPLETE-ORDER")
            return
        added_order = list(self.model.uploads[upload].parts.values())
        if [p.content for p in added_order] != parts and concat_md5(
                [p.content for p in added_order]) == self._content_md5(file_id):
            self.check.fail("COMPLETE-ORDER", "the file holds the parts in the order they "
                            "were added, not in part_ids order")
        self.check.fail("CONTENT-BYTES", f"the file's content differs: {difference}")

    def _content_md5(self, file_id: str) -> str:
        digest = hashlib.md5()
        with self.target.client.stream_get(f"/files/{file_id}/content") as stream:
            for chunk in stream:
                digest.update(chunk)
        return digest.hexdigest()

    def _md5_of(self, upload: str, part_ids: list[str]) -> str | None:
        parts = self.model.uploads[upload].parts
        if not all(p in parts for p in part_ids) or len(set(part_ids)) != len(part_ids):
            return None
        return concat_md5([parts[p].content for p in part_ids])

    def _sharpen(self, expectation: Expectation, upload: str, kind: OrderingKind,
                 md5: str | None) -> Expectation:
        """Charges a refused valid completion to the rule it most likely breaks."""
        if expectation.verdict is not Verdict.ACCEPT:
            return expectation
        # Parts sent in parallel arrive in an order we do not know: any order is "other".
        if md5 is not None and (kind is not OrderingKind.IDENTITY or upload in self.parallel):
            return accept("COMPLETE-ORDER",
                          "the md5 is that of the parts in part_ids order, and that order "
                          "alone decides the bytes")
        if upload in self.parallel:
            return accept("PART-PARALLEL", "every part accepted in parallel must be usable")
        return expectation

    def _send_action(self, upload: str, action: str, auth: bool | str) -> Answer:
        client = self.target.client
        if action == "create":
            body = {"filename": "a.txt", "purpose": "assistants", "bytes": 1,
                    "mime_type": "text/plain"}
            return client.request("POST", "/uploads", json=body, auth=auth)
        if action == "parts":
            return client.add_part(upload, Payload(0, 1).iter_chunks, 1, auth=auth)
        if action == "complete":
            return client.request("POST", upload_path(upload, "complete"),
                                  json={"part_ids": []}, auth=auth)
        return client.request("POST", upload_path(upload, "cancel"), auth=auth)

    def _forget_created(self, answer: Answer) -> None:
        # An invalid request was accepted: cancel what it created, it is not ours to model.
        body = answer.json
        if isinstance(body, dict) and isinstance(body.get("id"), str):
            self.target.adapter.cancel(body["id"])

    def _step(self, text: str, *answers: Answer) -> None:
        codes = ", ".join(str(a.status) if a.status is not None else "no answer"
                          for a in answers)
        self.steps.append(f"{text} -> {codes}" if answers else text)
        self.target.adapter.report_checks(self.check, answers)  # the SDK's, once stepped

    def _name(self, target_id: str) -> str:
        return self.alias.get(target_id, repr(target_id))

    def _names(self, ids: list[str]) -> str:
        return "[" + ", ".join(self._name(i) for i in ids) + "]"


def _part_size(remaining: int) -> st.SearchStrategy[int]:
    """Mostly sizes that fit what is left to upload; sometimes empty or too big."""
    remaining = max(remaining, 0)  # below 0 when a target took parts past the declared size
    fitting = st.integers(1, remaining) if remaining > 0 else st.just(1)
    return st.one_of(st.just(max(remaining, 1)), fitting, st.just(0),
                     st.integers(remaining + 1, remaining + 16))


def _split(total: int, count: int) -> list[int]:
    base, extra = divmod(total, count)
    return [base + (1 if i < extra else 0) for i in range(count)]


def _md5_choice(right: str | None) -> st.SearchStrategy[str | None]:
    if right is None:
        return st.sampled_from([None, "0" * 32])
    return st.sampled_from([None, right, _wrong_md5(right), right.upper()])


def _wrong_md5(right: str) -> str:
    return hashlib.md5(right.encode()).hexdigest()  # a well-formed md5 of other bytes


def _md5_label(md5: str | None, right: str | None) -> str:
    if md5 is None:
        return "none"
    if md5 == right:
        return "right"
    return "right (upper-case)" if right and md5 == right.upper() else "wrong"


def _short(body: Any) -> str:
    text = repr(body)
    return text if len(text) <= 160 else text[:157] + "..."


def _shape(identifier: str) -> str:
    """'upload_' + 24 alphanumerics -> 'upload_<24 chars>': the format, not the value."""
    for sep in ("_", "-"):
        if sep in identifier:
            prefix = identifier.split(sep, 1)[0]
            return f"{prefix}{sep}<{len(identifier) - len(prefix) - 1} chars>"
    return f"<{len(identifier)} chars, no prefix>"


def bind_machine(target: Target) -> type[UploadsMachine]:
    """A machine class whose rules run against this target."""
    return type("UploadsMachine", (UploadsMachine,), {"target": target})
