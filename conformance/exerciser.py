"""The exerciser: one operation sent to a target, recorded, judged, and modelled.

Every rule of the state machine and every fixed scenario runs its operations through an
`Exerciser`. For each one it asks the oracle what to expect, sends the operation through the
adapter, records the step for a report, checks the answer against the expectation and the
object shapes, and moves the model along with what the target did; a completed file is read
back where the target serves files. One path, so a scenario gets every check the machine makes.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from conformance import api
from conformance.checks import Answer
from conformance.client.multipart import SMALL_BODY_BYTES
from conformance.model import Expectation, Model, Part, Verdict
from conformance.read_back import read_back
from conformance.recorder import ConformanceFailure
from conformance.target import Target
from conformance.upload_answers import UploadAnswers, upload_answer
from strategies.payloads import Payload, concat_md5

BARRIER_TIMEOUT_S = 30  # past that, requests sent "at once" (or held back) are sent anyway
# A held part streams (a smaller one goes from one buffer, all at once), so its last byte
# can wait while its first ones have reached the target.
HELD_PART_BYTES = SMALL_BODY_BYTES + 1

Send = Callable[[], Answer]  # one request of a race


class Exerciser:
    """One example's (or one scenario's) model of the target and record of its steps."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.check = target.checker
        self.answers = UploadAnswers(self.check)  # every Upload answer, held to its create's
        self.model = Model(digest=concat_md5)
        self.steps: list[str] = []
        self.alias: dict[str, str] = {}  # target ID -> short name used in the steps
        self.parts_made = 0
        target.checker.current_steps = self.steps
        target.evidence_mark = target.client.mark()  # its exchanges are its findings' evidence

    # --- steps, as a report shows them ----------------------------------------------------

    def step(self, text: str, *answers: Answer) -> None:
        codes = ", ".join(str(a.status) if a.status is not None else "no answer"
                          for a in answers)
        self.steps.append(f"{text} -> {codes}" if answers else text)
        self.target.adapter.report_checks(self.check, answers)  # the SDK's, once stepped

    def name(self, target_id: str) -> str:
        return self.alias.get(target_id, repr(target_id))

    def names(self, ids: list[str]) -> str:
        return "[" + ", ".join(self.name(i) for i in ids) + "]"

    def payload(self, size: int) -> Payload:
        # Consecutive seeds differ in their first byte, so any reordering of parts shows.
        self.parts_made += 1
        return Payload(self.target.seed + self.parts_made, size)

    # --- create ---------------------------------------------------------------------------

    def create(self, request: dict[str, Any]) -> str | None:
        """Creates an upload; its ID when the target took it and it is well formed."""
        expectation = self.model.expect_create(request)
        answer = self.target.adapter.create(request)
        name = f"u{sum(1 for v in self.alias.values() if v[0] == 'u') + 1}"
        self.step(f"{name} = {api.CREATE.step_word}({_short(request)})", answer)
        if not self.check.answer(expectation, answer, "create"):
            return None
        body = answer.json
        if not self.answers.first(body, "the created upload", self.target.now()):
            return None
        upload_id: str = body["id"]
        self._new_id(upload_id, "upload")
        echoed = {k: body.get(k) for k in ("filename", "purpose", "bytes")}
        wanted = {k: request[k] for k in echoed}
        self.check.expect(body["status"] == "pending" and echoed == wanted, "CREATE-VALID",
                          f"the new upload has status {body['status']!r} and {echoed}, "
                          f"expected 'pending' and {wanted}")
        self.alias[upload_id] = name
        self.model.record_create(request, upload_id, body["created_at"])
        return upload_id

    # --- add part -------------------------------------------------------------------------

    def add_part(self, upload: str, payload: Payload) -> str | None:
        """Adds one part; its ID when the target took it and it is well formed."""
        if not self.target.spend(len(payload)):
            return None  # the profile's byte budget (a paid API) is spent
        expectation = self.model.expect_add_part(upload, len(payload), self.target.now())
        answer = self.target.adapter.add_part(upload, payload)
        self.step(f"{api.ADD_PART.step_word} of {len(payload)} bytes to {self.name(upload)}",
                  answer)
        return self.part_answered(upload, payload, expectation, answer)

    def add_parts_at_once(self, upload: str, payloads: list[Payload]) -> list[str] | None:
        """Sends every part at the same moment; the IDs of the parts, when the target took
        every one."""
        if not self.target.spend(sum(len(p) for p in payloads)):
            return None
        now = self.target.now()
        expectations = [self.model.expect_add_part(upload, len(p), now, parallel=True)
                        for p in payloads]
        adapter = self.target.adapter
        answers = self.race(
            f"add {len(payloads)} parts to {self.name(upload)} at once, sizes "
            f"{[len(p) for p in payloads]}",
            [functools.partial(adapter.add_part, upload, p) for p in payloads])
        part_ids = [self.part_answered(upload, payload, expectation, answer, parallel=True)
                    for payload, expectation, answer in zip(payloads, expectations, answers,
                                                            strict=True)]
        return None if None in part_ids else [p for p in part_ids if p is not None]

    def hold_part(self, upload: str) -> HeldPart | None:
        """Starts a part whose last byte waits for `HeldPart.finish`: a part still arriving
        while other operations are sent (close it when done). Sent as plain HTTP: an SDK
        sends a part whole."""
        if not self.target.spend(HELD_PART_BYTES):
            return None
        held = HeldPart(self, upload, self.payload(HELD_PART_BYTES))
        self.step(f"start a part of {HELD_PART_BYTES} bytes to {self.name(upload)}, its last "
                  "byte held back")
        return held

    def part_answered(self, upload: str, payload: Payload, expectation: Expectation,
                      answer: Answer, parallel: bool = False) -> str | None:
        """Judges the answer to a part; its ID when the target took it and it is well formed."""
        if not self.check.answer(expectation, answer, f"a part of {len(payload)} bytes"):
            return None
        if expectation.verdict is Verdict.REFUSE:
            self.model.lose_track(upload)  # the target took a part it should not have
            return None
        body = answer.json
        if not self.check.part_object(body, upload, "the added part"):
            return None
        part_id: str = body["id"]
        self._new_id(part_id, "part")
        self.alias[part_id] = f"p{sum(1 for v in self.alias.values() if v[0] == 'p') + 1}"
        self.model.record_part(upload, Part(part_id, len(payload), payload), parallel)
        return part_id

    # --- complete -------------------------------------------------------------------------

    def complete(self, upload: str, part_ids: list[str], md5: str | None,
                 kind: str = "") -> bool:
        """Completes an upload; True when the target completed it as the model expected."""
        expectation = self.model.expect_complete(upload, part_ids, md5, self.target.now())
        body: dict[str, Any] = {"part_ids": part_ids}
        if md5 is not None:
            body["md5"] = md5
        answer = self.target.adapter.complete(upload, body)
        right = self.model.right_md5(upload, part_ids)
        self.step(f"{api.COMPLETE.step_word} {self.name(upload)} with part_ids "
                  f"{self.names(part_ids)}{f' ({kind})' if kind else ''}, "
                  f"md5={_md5_label(md5, right)}", answer)
        if not self.check.answer(expectation, answer, "completion"):
            return False
        return self.completed(upload, part_ids, expectation, answer)

    def completed(self, upload: str, part_ids: list[str], expectation: Expectation,
                  answer: Answer) -> bool:
        """Judges a completion the target accepted, and reads the file back."""
        if expectation.verdict is Verdict.REFUSE:
            self.model.lose_track(upload)
            return False
        body = answer.json
        if not self.answers.later(upload, body, "the completed upload"):
            return False
        self.check.expect(body["status"] == "completed", "COMPLETE-VALID",
                          f"the completed upload has status {body['status']!r}")
        state = self.model.uploads[upload]
        file = self.check.nested_file(body, state.declared_bytes, state.filename, state.purpose,
                                      "the completed upload")
        file_id = file["id"] if file else None
        self.model.record_complete(upload, part_ids, file_id)
        if file_id is not None:  # a subset or duplicates too: the oracle says what it holds
            read_back(self, upload, file_id)
        return True

    # --- cancel ---------------------------------------------------------------------------

    def cancel(self, upload: str) -> bool:
        """Cancels an upload; True when the target cancelled it as the model expected."""
        expectation = self.model.expect_cancel(upload, self.target.now())
        answer = self.target.adapter.cancel(upload)
        self.step(f"{api.CANCEL.step_word} {self.name(upload)}", answer)
        if not self.check.answer(expectation, answer, "cancel"):
            return False
        if expectation.verdict is Verdict.REFUSE:
            self.model.lose_track(upload)
            return False
        return self.cancelled(upload, answer)

    def cancel_again(self, upload: str) -> None:
        """A second cancel: whether it is taken is left open; an Upload it answers is held
        to every rule of an Upload answer."""
        expectation = self.model.expect_cancel(upload, self.target.now())
        answer = self.target.adapter.cancel(upload)
        self.step(f"{api.CANCEL.step_word} {self.name(upload)} again", answer)
        if self.check.answer(expectation, answer, "a second cancel"):
            self.answers.later(upload, answer.json, "the upload cancelled again")

    def cancelled(self, upload: str, answer: Answer) -> bool:
        """Judges a cancel the target accepted."""
        body = answer.json
        if self.answers.later(upload, body, "the cancelled upload"):
            self.check.expect(body["status"] == "cancelled", "CANCEL-VALID",
                              f"the cancelled upload has status {body['status']!r}")
        self.model.record_cancel(upload)
        return True

    # --- races ---------------------------------------------------------------------------

    def race(self, what: str, sends: Sequence[Send]) -> list[Answer]:
        """Sends every request at the same moment (each thread waits at a barrier first) and
        records them as one step; the answers, in the order of `sends`. Judging them is the
        caller's: which outcomes some order of the requests allows depends on the race."""
        barrier = threading.Barrier(len(sends))

        def send(one: Send) -> Answer:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=BARRIER_TIMEOUT_S)
            return one()

        with ThreadPoolExecutor(max_workers=len(sends)) as pool:
            answers = list(pool.map(send, sends))
        self.step(what, *answers)
        return answers

    # --- requests the adapter does not send ----------------------------------------------

    def send_raw(self, operation: api.Operation, upload: str = "", *, auth: bool | str = True,
                 **request: Any) -> Answer:
        """One operation as a plain HTTP request (no SDK in between): for bad requests."""
        if operation is api.ADD_PART and "content" not in request:
            payload = request.pop("payload", Payload(0, 1))
            return self.target.client.add_part(upload, payload.iter_chunks, len(payload),
                                               auth=auth, **request)
        return self.target.client.request(operation.method, operation.path(upload), auth=auth,
                                          **request)

    def answered(self, expectation: Expectation, answer: Answer, what: str,
                 upload: str = "") -> bool:
        """Judges the answer to a request sent raw (a bad or lenient one); True if the
        target took it. What it created or changed against the model is set aside."""
        if not self.check.answer(expectation, answer, what):
            return False
        body = answer.json
        if isinstance(body, dict) and body.get("object") == "upload" \
                and isinstance(body.get("id"), str) and body["id"] not in self.model.uploads:
            # It created an upload the model does not know: cancel it, it is not ours.
            if body.get("status") == "pending":
                self.target.adapter.cancel(body["id"])
            if expectation.verdict is not Verdict.REFUSE:  # taken as it may be: judged
                # as every Upload answer (one that had to be refused holds what it may)
                upload_answer(self.check, body, f"the upload made by {what}", self.target.now())
        elif upload and expectation.verdict is Verdict.REFUSE:
            self.model.lose_track(upload)
        return True

    # --- the end --------------------------------------------------------------------------

    def cancel_what_is_pending(self) -> None:
        """Leaves nothing pending on the target."""
        for upload in self.model.pending(self.target.now()):
            self.target.adapter.cancel(upload.id)

    def _new_id(self, issued: str, kind: str) -> None:
        self.check.expect(issued not in self.target.seen_ids, "IDS-UNIQUE",
                          f"the new {kind}'s ID {issued!r} was issued before in this run")
        self.target.seen_ids.add(issued)
        self.target.recorder.observe("OPEN-ID-FORMAT", f"{kind} IDs look like {_shape(issued)}")


class HeldPart:
    """A part request under way, its last byte held back until `finish`."""

    def __init__(self, run: Exerciser, upload: str, payload: Payload) -> None:
        self._run, self._upload, self._payload = run, upload, payload
        self._streaming, self._go = threading.Event(), threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._answer = self._pool.submit(run.target.client.add_part, upload, self._chunks(),
                                         len(payload))
        # Until the first bytes are on the wire, the target may not know of the part.
        while not self._streaming.wait(0.01) and not self._answer.done():
            pass

    def _chunks(self) -> Iterator[bytes]:
        data = self._payload.read()
        yield data[:-1]
        self._streaming.set()
        self._go.wait(BARRIER_TIMEOUT_S)
        yield data[-1:]

    def finish(self) -> str | None:
        """Sends the last byte; judged as a part added now, when it can first be added.
        The part's ID when the target took it and it is well formed."""
        run, upload, size = self._run, self._upload, len(self._payload)
        expectation = run.model.expect_add_part(upload, size, run.target.now())
        self._go.set()
        answer = self._answer.result()
        self._pool.shutdown()
        run.step(f"send the last byte of the held part to {run.name(upload)}", answer)
        return run.part_answered(upload, self._payload, expectation, answer)

    def close(self) -> None:
        """Lets the request end, unjudged if `finish` never ran (the scenario stopped
        first), rather than leave it waiting."""
        self._go.set()
        self._pool.shutdown()


@contextmanager
def scenario(target: Target, name: str, judges: Sequence[str] = ()) -> Iterator[Exerciser]:
    """Runs one fixed scenario; a broken requirement becomes a finding with its steps,
    and the other scenarios go on. `judges`: the requirements the scenario is for; one it
    ended without checking (its create got no usable answer, say) is recorded as a check
    not run, with the scenario's last step as the reason, so that it cannot say PASS."""
    exerciser = Exerciser(target)
    recorder = target.recorder
    before = {requirement: recorder.activity(requirement) for requirement in judges}
    try:
        yield exerciser
    except ConformanceFailure as failure:
        failure.steps = list(exerciser.steps)
        for finding in failure.to_findings(f"scenario: {name}"):
            recorder.failed(finding, at_s=target.elapsed())
    finally:
        exerciser.cancel_what_is_pending()
    for requirement, seen in before.items():
        ran = recorder.activity(requirement) > seen or requirement in target.checker.waived
        last = exerciser.steps[-1] if exerciser.steps else "nothing was sent"
        recorder.planned_check(requirement, name, "" if ran else f"it stopped at: {last}")


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
