"""The state machine: generated sequences of upload operations, each answer held to the oracle.

Each rule reads as the sentence of the API it exercises; sending, recording, checking and
moving the model happen in the `Exerciser` below it. A broken requirement raises
`ConformanceFailure`, and Hypothesis shrinks the sequence of steps that led to it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from conformance import api, races
from conformance.choices import INDEXES, pick
from conformance.exerciser import Exerciser
from conformance.model import Status
from conformance.plan import Plan
from conformance.target import Target
from strategies.malformed import (
    malformed_json_requests,
    malformed_multipart_requests,
    unknown_upload_ids,
)
from strategies.orderings import ORDER_CHOICES, OrderChoice, Ordering, OrderingKind
from strategies.payloads import MD5_CHOICES, md5_for, wrong_md5
from strategies.sizes import SIZE_CHOICES, SizeChoice, size_plans, split_evenly
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


class UploadsMachine(RuleBasedStateMachine):
    """Uploads created, filled, completed and cancelled in generated orders.

    What Hypothesis may draw never depends on what the target answered: the preconditions
    read the plan (`conformance.plan`: what the steps meant to do), and every draw has
    bounds of its own (`conformance.choices`), mapped onto the uploads a step finds; a step
    that finds none to act on does nothing. So the same draws are the same steps, and a
    target that answers a replay differently cannot end the exploration.
    """

    target: ClassVar[Target]  # bound by `bind_machine`

    def __init__(self) -> None:
        super().__init__()
        self.run = Exerciser(self.target)
        self.model = self.run.model
        self.check = self.target.checker
        self.clock_advanced = False
        self.plan = Plan()
        self.uploads: list[str | None] = []  # what each create rule made (None: refused)

    def _tracked(self, upload: str | None) -> bool:
        # An upload whose state the target broke is judged no further.
        return upload is not None and not self.model.uploads[upload].untracked

    # --- create ----------------------------------------------------------------------

    @rule(data=st.data())
    def create_an_upload(self, data: st.DataObject) -> None:
        request = data.draw(valid_create_requests(self.target.profile.max_upload_bytes),
                            label="request")
        self.plan.create(request["bytes"])
        self.uploads.append(self.run.create(request))

    @rule(data=st.data())
    def create_and_fill_an_upload(self, data: st.DataObject) -> None:
        """An upload and, one after the other, parts that add up to its declared size."""
        request = data.draw(valid_create_requests(self.target.profile.max_upload_bytes),
                            label="request")
        declared = request["bytes"]
        plan = data.draw(size_plans(declared, max_part=max(declared, 1), max_parts=4),
                         label="part sizes")
        self.plan.create(declared, added=sum(plan))
        upload = self.run.create(request)
        self.uploads.append(upload)
        if upload is None:
            return
        for size in plan:
            self.run.add_part(upload, self.run.payload(size))

    @rule(index=INDEXES, data=st.data(), kind=st.sampled_from(
        ["invalid create", "unknown upload", "wrong credentials", "malformed"]))
    def send_a_bad_request(self, index: int, data: st.DataObject, kind: str) -> None:
        """One request the target must refuse: rules of their own would crowd out the
        lifecycle rules, as Hypothesis picks among rules evenly."""
        upload = pick(self.uploads, index)
        if kind == "invalid create":
            self._invalid_create(data)
        elif kind == "unknown upload":
            self._on_an_unknown_upload(data)
        elif kind == "wrong credentials":
            self._without_the_right_key(upload, data)
        else:
            self._malformed(upload, data)

    # --- parts -----------------------------------------------------------------------

    @rule(index=INDEXES, size=SIZE_CHOICES)
    def add_a_part(self, index: int, size: SizeChoice) -> None:
        planned = self.plan.at(index)
        if planned is not None and planned.pending:
            planned.added += size.size(planned.remaining)
        upload = pick(self.uploads, index)
        if upload is not None and self._tracked(upload):
            bytes_ = size.size(self.model.uploads[upload].remaining)
            self.run.add_part(upload, self.run.payload(bytes_))

    @rule(index=INDEXES, count=st.integers(2, MAX_PARALLEL_PARTS))
    def add_parts_in_parallel(self, index: int, count: int) -> None:
        planned = self.plan.at(index)
        if planned is not None and planned.pending and planned.remaining >= 2:
            planned.added = planned.declared
        upload = pick(self.uploads, index)
        if upload is None or not self._tracked(upload):
            return
        remaining = self.model.uploads[upload].remaining
        if remaining >= 2:
            sizes = split_evenly(remaining, min(count, remaining))
            self.run.add_parts_at_once(upload, [self.run.payload(s) for s in sizes])

    # --- complete ----------------------------------------------------------------------

    @precondition(lambda self: bool(self.plan.ready()))
    @rule(index=INDEXES, order=ORDER_CHOICES, md5=MD5_CHOICES)
    def complete_a_full_upload(self, index: int, order: OrderChoice, md5: int) -> None:
        """Every part, in an order of their own, with or without an md5; a right md5 is
        sent only after the same completion with a wrong one was refused."""
        self.plan.end(pick(self.plan.ready(), index))
        upload = pick(_ready(self), index)
        if upload is None:
            return
        ordering = order.valid(list(self.model.uploads[upload].parts))
        right_md5 = self.model.right_md5(upload, ordering.part_ids)
        sent = md5_for(md5, right_md5)
        if right_md5 is not None and sent == right_md5:
            self._complete(upload, ordering, wrong_md5(right_md5))
            if not self._tracked(upload) or self.model.uploads[upload].status is not \
                    Status.PENDING:
                return
        self._complete(upload, ordering, sent)

    @precondition(lambda self: bool(self.plan.ready()))
    @rule(index=INDEXES, order=ORDER_CHOICES)
    def complete_a_full_upload_listing_an_unknown_part(self, index: int,
                                                       order: OrderChoice) -> None:
        """A part ID that was never issued, among every part: the completion is refused."""
        upload = pick(_ready(self), index)
        if upload is not None:
            ordering = order.valid(list(self.model.uploads[upload].parts))
            self._complete(upload, order.with_unknown(ordering), None)

    @precondition(lambda self: bool(self.plan.partly_filled()))
    @rule(index=INDEXES, order=ORDER_CHOICES)
    def complete_an_upload_that_is_not_full(self, index: int, order: OrderChoice) -> None:
        """Parts that do not add up to the declared bytes complete nothing, in any order."""
        upload = pick(self.model.partly_filled(self.target.now()), index)
        if upload is not None:
            self._complete(upload, order.valid(list(self.model.uploads[upload].parts)), None)

    @precondition(lambda self: bool(self.plan.with_parts()))
    @rule(index=INDEXES)
    def complete_with_a_part_of_another_upload(self, index: int) -> None:
        """A new upload of exactly the size of another upload's part, completed with it."""
        part_id = pick(list(self.model.part_owner), index)
        if part_id is None:
            return
        size = self.model.uploads[self.model.part_owner[part_id]].parts[part_id].size
        upload = self.run.create({"filename": "borrowed.txt", "purpose": "assistants",
                                  "bytes": size, "mime_type": "text/plain"})
        if upload is not None:
            self._complete(upload, Ordering(OrderingKind.FOREIGN, [part_id]), None)

    @precondition(lambda self: bool(self.plan.finished()))
    @rule(index=INDEXES, action=st.sampled_from(["parts", "complete", "cancel"]))
    def operate_on_a_finished_upload(self, index: int, action: str) -> None:
        """A completed or cancelled upload takes no part, completion or (once completed)
        cancel; the completion lists exactly the parts that would otherwise be right."""
        finished = _finished(self)
        # Full ones first: a completion they refuse is refused for their state alone.
        upload = pick([u for u in finished if self.model.uploads[u].full] or finished, index)
        if upload is None:
            return
        state = self.model.uploads[upload]
        if action == "parts":
            self.run.add_part(upload, self.run.payload(1))
        elif action == "complete":
            part_ids = state.completed_with or list(state.parts)
            self._complete(upload, Ordering(OrderingKind.IDENTITY, part_ids), None)
        else:
            self._cancel(upload)

    @rule(index=INDEXES, order=ORDER_CHOICES, md5=MD5_CHOICES)
    def complete_with_any_part_ids(self, index: int, order: OrderChoice, md5: int) -> None:
        upload = pick(self.uploads, index)
        if upload is not None and self._tracked(upload):
            foreign = [p for p, owner in self.model.part_owner.items() if owner != upload]
            ordering = order.any(list(self.model.uploads[upload].parts), foreign)
            self._complete(upload, ordering,
                           md5_for(md5, self.model.right_md5(upload, ordering.part_ids)))

    @precondition(lambda self: bool(self.plan.ready()))
    @rule(index=INDEXES)
    def race_completion_against_cancel(self, index: int) -> None:
        """A completion and a cancel sent at once: in any order, exactly one succeeds."""
        self.plan.end(pick(self.plan.ready(), index))
        upload = pick(_race_ready(self), index)
        if upload is None:
            return
        winner = races.complete_against_cancel(self.run, upload)
        if winner == "completed":
            self._after_the_end(upload)
        elif winner == "cancelled":
            self._after_a_cancel(upload)

    @precondition(lambda self: bool(self.plan.ready()))
    @rule(index=INDEXES, extra=st.integers(1, 3))
    def race_completion_against_new_parts(self, index: int, extra: int) -> None:
        """Completion of a full upload while more parts are in flight.

        Whatever the order, a completion that no extra part got ahead of sees exactly the
        listed parts: when the target took none of the extras, it must have completed.
        """
        self.plan.end(pick(self.plan.ready(), index))
        upload = pick(_ready(self), index)
        if upload is not None and races.parts_against_completion(self.run, upload, extra):
            self._after_the_end(upload)

    # --- cancel --------------------------------------------------------------------------

    @rule(index=INDEXES)
    def cancel_the_upload(self, index: int) -> None:
        self.plan.end(self.plan.at(index))
        upload = pick(self.uploads, index)
        if upload is not None:
            self._cancel(upload)

    # --- time --------------------------------------------------------------------------

    # Once an example (later steps need living uploads), with an upload it can expire;
    # whether the clock can be advanced at all is the run's to say, the same every time.
    @precondition(lambda self: not self.clock_advanced and bool(self.plan.pending())
                  and self.target.can_advance_clock())
    @rule()
    def let_an_hour_pass(self) -> None:
        self.clock_advanced = True
        self.plan.let_an_hour_pass()
        # Well past the hour, so no upload sits at the instant of its expiry.
        self.target.advance_clock(api.LIFETIME_S + 30)
        self.run.step(f"advance the target's clock by {api.LIFETIME_S + 30} s "
                      "(test controls)")

    # --- the end of an upload ------------------------------------------------------------

    def _cancel(self, upload: str) -> None:
        if self._tracked(upload) and self.run.cancel(upload):
            self._after_a_cancel(upload)

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

    def _without_the_right_key(self, upload: str | None, data: st.DataObject) -> None:
        operation = data.draw(st.sampled_from(api.OPERATIONS), label="operation")
        credentials = data.draw(st.sampled_from(["none", "wrong key"]), label="credentials")
        if upload is None:
            return  # drawn all the same: the draws after it keep their meaning
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

    def _malformed(self, upload: str | None, data: st.DataObject) -> None:
        raw = data.draw(st.one_of(malformed_json_requests(), malformed_multipart_requests()),
                        label="request")
        if upload is None:
            return
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
