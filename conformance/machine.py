"""The state machine: generated sequences of upload operations, each answer held to the oracle.

Each rule reads as the sentence of the API it exercises; sending, recording, checking and
moving the model happen in the `Exerciser` below it. A broken requirement raises
`ConformanceFailure`, and Hypothesis shrinks the sequence of steps that led to it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, multiple, precondition, rule

from conformance import api, races
from conformance.exerciser import Exerciser
from conformance.model import Status
from conformance.target import Target
from strategies.malformed import (
    malformed_json_requests,
    malformed_multipart_requests,
    unknown_upload_ids,
)
from strategies.orderings import (
    Ordering,
    OrderingKind,
    orderings,
    valid_orderings,
    with_an_unknown_id,
)
from strategies.payloads import md5_choices, wrong_md5
from strategies.sizes import next_part_sizes, size_plans, split_evenly
from strategies.uploads import invalid_create_requests, valid_create_requests

MAX_PARALLEL_PARTS = 8
WRONG_KEY = "sk-wrong-key-for-conformance"


def _ready(machine: UploadsMachine) -> list[str]:
    return machine.model.ready(machine.target.now())


def _finished(machine: UploadsMachine) -> list[str]:
    return machine.model.finished(machine.target.now())


def _race_ready(machine: UploadsMachine) -> list[str]:
    """Full uploads whose completion the documentation decides (not left open)."""
    model, now = machine.model, machine.target.now()
    return [u for u in _ready(machine)
            if not model.expect_complete(u, list(model.uploads[u].parts), None, now).open]


def _has_parts(machine: UploadsMachine) -> bool:
    return bool(machine.model.part_owner)


def _may_let_an_hour_pass(machine: UploadsMachine) -> bool:
    target = machine.target
    return not machine.clock_advanced and target.can_advance_clock() \
        and bool(machine.model.pending(target.now()))


class UploadsMachine(RuleBasedStateMachine):
    """Uploads created, filled, completed and cancelled in generated orders."""

    target: ClassVar[Target]  # bound by `bind_machine`
    uploads = Bundle("uploads")

    def __init__(self) -> None:
        super().__init__()
        self.run = Exerciser(self.target)
        self.model = self.run.model
        self.check = self.target.checker
        self.clock_advanced = False

    def _tracked(self, upload: str) -> bool:
        # An upload whose state the target broke is judged no further.
        return not self.model.uploads[upload].untracked

    # --- create ----------------------------------------------------------------------

    @rule(target=uploads, data=st.data())
    def create_an_upload(self, data: st.DataObject) -> Any:
        request = data.draw(valid_create_requests(self.target.profile.max_upload_bytes),
                            label="request")
        upload = self.run.create(request)
        return multiple() if upload is None else upload

    @rule(target=uploads, data=st.data())
    def create_and_fill_an_upload(self, data: st.DataObject) -> Any:
        """An upload and, one after the other, parts that add up to its declared size."""
        request = data.draw(valid_create_requests(self.target.profile.max_upload_bytes),
                            label="request")
        upload = self.run.create(request)
        if upload is None:
            return multiple()
        declared = request["bytes"]
        plan = data.draw(size_plans(declared, max_part=max(declared, 1), max_parts=4),
                         label="part sizes")
        for size in plan:
            self.run.add_part(upload, self.run.payload(size))
        return upload

    @rule(upload=uploads, data=st.data(), kind=st.sampled_from(
        ["invalid create", "unknown upload", "wrong credentials", "malformed"]))
    def send_a_bad_request(self, upload: str, data: st.DataObject, kind: str) -> None:
        """One request the target must refuse: rules of their own would crowd out the
        lifecycle rules, as Hypothesis picks among rules evenly."""
        if kind == "invalid create":
            self._invalid_create(data)
        elif kind == "unknown upload":
            self._on_an_unknown_upload(data)
        elif kind == "wrong credentials":
            self._without_the_right_key(upload, data)
        else:
            self._malformed(upload, data)

    # --- parts -----------------------------------------------------------------------

    @rule(upload=uploads, data=st.data())
    def add_a_part(self, upload: str, data: st.DataObject) -> None:
        if self._tracked(upload):
            size = data.draw(next_part_sizes(self.model.uploads[upload].remaining),
                             label="size")
            self.run.add_part(upload, self.run.payload(size))

    @rule(upload=uploads, data=st.data())
    def add_parts_in_parallel(self, upload: str, data: st.DataObject) -> None:
        remaining = self.model.uploads[upload].remaining
        if self._tracked(upload) and remaining >= 2:
            count = data.draw(st.integers(2, min(MAX_PARALLEL_PARTS, remaining)),
                              label="count")
            payloads = [self.run.payload(s) for s in split_evenly(remaining, count)]
            self.run.add_parts_at_once(upload, payloads)

    # --- complete ----------------------------------------------------------------------

    @precondition(lambda self: bool(_ready(self)))
    @rule(data=st.data())
    def complete_a_full_upload(self, data: st.DataObject) -> None:
        """Every part, in an order of their own, with or without an md5; a right md5 is
        sent only after the same completion with a wrong one was refused."""
        upload = data.draw(st.sampled_from(_ready(self)), label="upload")
        ordering = data.draw(valid_orderings(list(self.model.uploads[upload].parts)),
                             label="ordering")
        right_md5 = self.model.right_md5(upload, ordering.part_ids)
        md5 = data.draw(md5_choices(right_md5), label="md5")
        if right_md5 is not None and md5 == right_md5:
            self._complete(upload, ordering, wrong_md5(right_md5))
            if not self._tracked(upload) or self.model.uploads[upload].status is not \
                    Status.PENDING:
                return
        self._complete(upload, ordering, md5)

    @precondition(lambda self: bool(_ready(self)))
    @rule(data=st.data())
    def complete_a_full_upload_listing_an_unknown_part(self, data: st.DataObject) -> None:
        """A part ID that was never issued, among every part: the completion is refused."""
        upload = data.draw(st.sampled_from(_ready(self)), label="upload")
        ordering = data.draw(valid_orderings(list(self.model.uploads[upload].parts)),
                             label="ordering")
        self._complete(upload, data.draw(with_an_unknown_id(ordering), label="unknown ID"),
                       None)

    @precondition(lambda self: bool(self.model.partly_filled(self.target.now())))
    @rule(data=st.data())
    def complete_an_upload_that_is_not_full(self, data: st.DataObject) -> None:
        """Parts that do not add up to the declared bytes complete nothing, in any order."""
        upload = data.draw(st.sampled_from(self.model.partly_filled(self.target.now())),
                           label="upload")
        ordering = data.draw(valid_orderings(list(self.model.uploads[upload].parts)),
                             label="ordering")
        self._complete(upload, ordering, None)

    @precondition(_has_parts)
    @rule(data=st.data())
    def complete_with_a_part_of_another_upload(self, data: st.DataObject) -> None:
        """A new upload of exactly the size of another upload's part, completed with it."""
        part_id = data.draw(st.sampled_from(sorted(self.model.part_owner)), label="part")
        size = self.model.uploads[self.model.part_owner[part_id]].parts[part_id].size
        upload = self.run.create({"filename": "borrowed.txt", "purpose": "assistants",
                                  "bytes": size, "mime_type": "text/plain"})
        if upload is not None:
            self._complete(upload, Ordering(OrderingKind.FOREIGN, [part_id]), None)

    @precondition(lambda self: bool(_finished(self)))
    @rule(data=st.data(), action=st.sampled_from(["parts", "complete", "cancel"]))
    def operate_on_a_finished_upload(self, data: st.DataObject, action: str) -> None:
        """A completed or cancelled upload takes no part, completion or (once completed)
        cancel; the completion lists exactly the parts that would otherwise be right."""
        finished = _finished(self)
        # Full ones first: a completion they refuse is refused for their state alone.
        full = [u for u in finished if self.model.uploads[u].full]
        upload = data.draw(st.sampled_from(full or finished), label="upload")
        state = self.model.uploads[upload]
        if action == "parts":
            self.run.add_part(upload, self.run.payload(1))
        elif action == "complete":
            part_ids = state.completed_with or list(state.parts)
            self._complete(upload, Ordering(OrderingKind.IDENTITY, part_ids), None)
        else:
            self.cancel_the_upload(upload)

    @rule(upload=uploads, data=st.data())
    def complete_with_any_part_ids(self, upload: str, data: st.DataObject) -> None:
        if self._tracked(upload):
            foreign = [p for p, owner in self.model.part_owner.items() if owner != upload]
            ordering = data.draw(orderings(list(self.model.uploads[upload].parts), foreign),
                                 label="ordering")
            md5 = data.draw(md5_choices(self.model.right_md5(upload, ordering.part_ids)),
                            label="md5")
            self._complete(upload, ordering, md5)

    @precondition(lambda self: bool(_race_ready(self)))
    @rule(data=st.data())
    def race_completion_against_cancel(self, data: st.DataObject) -> None:
        """A completion and a cancel sent at once: in any order, exactly one succeeds."""
        upload = data.draw(st.sampled_from(_race_ready(self)), label="upload")
        winner = races.complete_against_cancel(self.run, upload)
        if winner == "completed":
            self._after_the_end(upload)
        elif winner == "cancelled":
            self._after_a_cancel(upload)

    @precondition(lambda self: bool(_ready(self)))
    @rule(data=st.data(), extra=st.integers(1, 3))
    def race_completion_against_new_parts(self, data: st.DataObject, extra: int) -> None:
        """Completion of a full upload while more parts are in flight.

        Whatever the order, a completion that no extra part got ahead of sees exactly the
        listed parts: when the target took none of the extras, it must have completed.
        """
        upload = data.draw(st.sampled_from(_ready(self)), label="upload")
        if races.parts_against_completion(self.run, upload, extra):
            self._after_the_end(upload)

    # --- cancel --------------------------------------------------------------------------

    @rule(upload=uploads)
    def cancel_the_upload(self, upload: str) -> None:
        if self._tracked(upload) and self.run.cancel(upload):
            self._after_a_cancel(upload)

    # --- time --------------------------------------------------------------------------

    @precondition(_may_let_an_hour_pass)
    @rule()
    def let_an_hour_pass(self) -> None:
        self.clock_advanced = True  # once an example: later steps need living uploads
        # Well past the hour, so no upload sits at the instant of its expiry.
        self.target.advance_clock(api.LIFETIME_S + 30)
        self.run.step(f"advance the target's clock by {api.LIFETIME_S + 30} s "
                      "(test controls)")

    # --- the end of an upload ------------------------------------------------------------

    def _complete(self, upload: str, ordering: Ordering, md5: str | None) -> None:
        if self.run.complete(upload, list(ordering.part_ids), md5, ordering.kind.value):
            self._after_the_end(upload)

    def _after_the_end(self, upload: str) -> None:
        """An ended upload takes no more parts."""
        self.run.add_part(upload, self.run.payload(1))

    def _after_a_cancel(self, upload: str) -> None:
        """No part may follow a cancel, and a second cancel is observed (left open)."""
        self._after_the_end(upload)
        if self._tracked(upload):
            self.run.cancel_again(upload)

    # --- bad requests ---------------------------------------------------------------------

    def _invalid_create(self, data: st.DataObject) -> None:
        invalid = data.draw(invalid_create_requests(), label="invalid")
        answer = self.run.send_raw(api.CREATE, json=invalid.body)
        self.run.step(f"create({invalid.body!r:.160})  # {invalid.fault}", answer)
        self.run.answered(self.model.expect_create(invalid.body), answer,
                         f"create with {invalid.fault}")

    def _on_an_unknown_upload(self, data: st.DataObject) -> None:
        operation = data.draw(st.sampled_from([api.ADD_PART, api.COMPLETE, api.CANCEL]),
                              label="operation")
        upload = data.draw(unknown_upload_ids(), label="id")
        if upload not in self.model.uploads:
            expectation = _expect_on(self.run, operation, upload)
            answer = self.run.send_raw(operation, upload, **_minimal_body(operation))
            self.run.step(f"{operation.step_word} on the unknown upload {upload!r}", answer)
            self.check.answer(expectation, answer, f"{operation.step_word} on an unknown upload")

    def _without_the_right_key(self, upload: str, data: st.DataObject) -> None:
        operation = data.draw(st.sampled_from(api.OPERATIONS), label="operation")
        credentials = data.draw(st.sampled_from(["none", "wrong key"]), label="credentials")
        auth: bool | str = False if credentials == "none" else WRONG_KEY
        answer = self.run.send_raw(operation, upload, auth=auth, **_minimal_body(operation))
        what = f"{operation.step_word} on {self.run.name(upload)} with {credentials}"
        self.run.step(what, answer)
        expectation = self.model.expect_without_credentials()
        if answer.status is None or answer.status >= 500:
            self.check.answer(expectation, answer, what)
        elif self.check.expect(answer.status == 401, expectation.requirement,
                               f"{what} was answered {answer.status}, not 401"):
            self.check.refusal(answer, what)
        elif 200 <= answer.status < 300:
            self.model.lose_track(upload)  # it took what it had to refuse

    def _malformed(self, upload: str, data: st.DataObject) -> None:
        raw = data.draw(st.one_of(malformed_json_requests(), malformed_multipart_requests()),
                        label="request")
        operation = api.BY_ADAPTER_METHOD[raw.operation]
        headers = {"Content-Type": raw.content_type} if raw.content_type else None
        answer = self.run.send_raw(operation, upload, content=raw.body, headers=headers)
        what = f"{raw.operation} on {self.run.name(upload)} with {raw.description}"
        self.run.step(what, answer)
        self.run.answered(self.model.expect_malformed(raw.requirement), answer, what, upload)

    def teardown(self) -> None:
        # Leave nothing pending on the target: cancel what this example left open.
        self.run.cancel_what_is_pending()


def _expect_on(run: Exerciser, operation: api.Operation, upload: str) -> Any:
    now = run.target.now()
    if operation is api.ADD_PART:
        return run.model.expect_add_part(upload, 1, now)
    if operation is api.COMPLETE:
        return run.model.expect_complete(upload, [], None, now)
    return run.model.expect_cancel(upload, now)


def _minimal_body(operation: api.Operation) -> dict[str, Any]:
    """The smallest well-formed request of each operation, for requests refused whatever
    their body (unknown upload, no credentials)."""
    if operation is api.CREATE:
        return {"json": {"filename": "a.txt", "purpose": "assistants", "bytes": 1,
                         "mime_type": "text/plain"}}
    if operation is api.COMPLETE:
        return {"json": {"part_ids": []}}
    return {}


def bind_machine(target: Target) -> type[UploadsMachine]:
    """A machine class whose rules run against this target."""
    return type("UploadsMachine", (UploadsMachine,), {"target": target})
