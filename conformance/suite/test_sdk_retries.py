"""The SDK as its users run it: its own defaults, and an answer lost on the way back.

The run's SDK adapter switches the SDK's retries off and gives it the suite's HTTP client,
so that every answer is seen. Its users do neither. Here the SDK is built as they build it
(`users_sdk`: `OpenAI(api_key=..., base_url=...)`, its HTTP only observed, the run's
timeout) and used twice:

- SDK-DEFAULTS: an upload from create to completion, nothing lost. Built like that, the SDK
  must work (an old SDK beside a newer HTTP library can fail at `OpenAI()` already);
- each operation once more, with its answer withheld after the target took the request,
  as a broken connection would. The SDK retries it (no idempotency key is part of the
  Uploads API). It must send the same request again (SDK-RETRY-SAME-REQUEST: a part's
  bytes included, which a stream consumed by the first attempt is not), and what its user
  is then shown must be true of the target:
  SDK-RETRY-NO-DUPLICATE, one upload for a create (not a second one left pending, unseen)
  and a part that completes the upload with its bytes; SDK-RETRY-TRUTHFUL, nothing that
  took effect (a create, a part, even the one that fills the upload, a completion, a
  cancel) reported as refused because its repeat was.


All are SHOULD: what the user sees comes of the SDK and the target together (whether a
repeated completion or cancel is refused is left open), and neither is the target's MUST.
The target is judged on its own everywhere else. The Python adapters withhold an answer
in the suite's process (`sdk_users`); a driver does it in its own when it offers a users'
client (`driver_users`), and the checks are not testable through one that does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import pytest

from conformance import api
from conformance.adapters.driver import DriverAdapter
from conformance.adapters.driver_users import DriverUsers, users_client_problem
from conformance.adapters.sdk_python import OpenAIPythonAdapter, OpenAIPythonAsyncAdapter
from conformance.adapters.sdk_template import SdkCheck, held
from conformance.adapters.sdk_users import (
    SdkCall,
    Unobservable,
    UsersClient,
    repeat_differences,
    users_sdk,
)
from conformance.checks import Answer
from conformance.exerciser import Exerciser, scenario
from conformance.results import Exchange
from conformance.suite.test_probes import VALID_CREATE
from conformance.target import Target
from strategies.payloads import Payload, concat_md5

DEFAULTS: Final = "SDK-DEFAULTS"
NO_DUPLICATE: Final = "SDK-RETRY-NO-DUPLICATE"
TRUTHFUL: Final = "SDK-RETRY-TRUTHFUL"
SAME_REQUEST: Final = "SDK-RETRY-SAME-REQUEST"
RETRIES: Final = (SAME_REQUEST, NO_DUPLICATE, TRUTHFUL)
NO_SDK: Final = "the run has no SDK: its answers cannot be withheld"
PART_BYTES: Final = 8
_CREATE = {**VALID_CREATE, "bytes": PART_BYTES, "filename": "retry-safety.txt"}


def test_the_sdk_as_its_users_run_it(uploads_target: Target) -> None:
    adapter = uploads_target.adapter
    why = NO_SDK if not isinstance(adapter, OpenAIPythonAdapter | DriverAdapter) else \
        users_client_problem(adapter) if isinstance(adapter, DriverAdapter) else None
    if why is not None:
        for requirement in (DEFAULTS, *RETRIES):
            uploads_target.recorder.cannot_test(requirement, why)
        pytest.skip(why)
    assert isinstance(adapter, OpenAIPythonAdapter | DriverAdapter)
    label = adapter.capabilities.label
    users = DriverUsers(adapter) if isinstance(adapter, DriverAdapter) else \
        _build(uploads_target, adapter, label)
    if users is None:
        return
    try:
        with scenario(uploads_target, "an upload through the SDK built with its defaults",
                      (DEFAULTS,)) as ex:
            _upload_with_defaults(ex, users, label)
        for name, judges, case in _CASES:
            with scenario(uploads_target, f"{name} through the SDK, its answer lost",
                          judges) as ex:
                one = _Case(ex, users, label, name)
                try:
                    case(one)
                finally:
                    one.cleanup()
    finally:
        users.close()


def _build(target: Target, adapter: OpenAIPythonAdapter, label: str) -> UsersClient | None:
    try:
        return users_sdk(adapter.openai, adapter.base_url, adapter.api_key,
                         asynchronous=isinstance(adapter, OpenAIPythonAsyncAdapter),
                         identity=adapter.identity, timeout=adapter.timeout,
                         sink=adapter.sink)
    except Unobservable as why:
        for requirement in (DEFAULTS, *RETRIES):
            target.recorder.cannot_test(requirement, f"{label}: {why}")
        return None
    except Exception as raised:  # the SDK's own: what its users meet at `OpenAI()`
        text = adapter.redactor.text(" ".join(f"{type(raised).__name__}: {raised}".split()))
        with scenario(target, "the SDK built with its defaults", (DEFAULTS,)) as ex:
            ex.step(f"OpenAI(api_key=..., base_url=...) raised {text[:300]}")
            ex.check.fail(DEFAULTS, f"{label}, built as its users build it (OpenAI(api_key="
                          f"..., base_url=...), nothing else), raised {text[:300]}")
        for requirement in RETRIES:
            target.recorder.cannot_test(requirement,
                                        f"{label} cannot be built with its defaults")
        return None


def _upload_with_defaults(ex: Exerciser, users: UsersClient, label: str) -> None:
    payload = Payload(ex.target.seed, PART_BYTES)
    data, md5 = payload.read(), payload.md5()
    upload: dict[str, Any] = {}
    steps: list[tuple[str, Callable[[], SdkCall]]] = [
        ("create", lambda: users.create(_CREATE)),
        ("add a part", lambda: users.add_part(upload["id"], data)),
        ("complete", lambda: users.complete(upload["id"], {"part_ids": [upload["part"]],
                                                          "md5": md5}))]
    for what, send in steps:
        call = send()
        ex.step(f"{what} with the SDK's defaults -> {call.shown}")
        if call.error is not None:
            status = call.records[-1].status if call.records else None
            if status is not None and not 200 <= status < 300:
                return  # the target refused: its own requirements say whether it should
            ex.check.fail(DEFAULTS, f"{label}, built with its defaults: {what} raised "
                          f"{call.error_text}")
        if what == "create":
            upload["id"] = call.result_field("id")
            ex.alias[upload["id"]] = "u1"
        elif what == "add a part":
            upload["part"] = call.result_field("id")
    ex.check.ok(DEFAULTS)


class _Case:
    """One operation sent through the user's SDK with its answer withheld, and its judge."""

    def __init__(self, ex: Exerciser, users: UsersClient, label: str, name: str) -> None:
        self.ex, self.users, self.label, self.name = ex, users, label, name
        self.exchanges: list[Exchange] = []
        self.payload = Payload(ex.target.seed + 1, PART_BYTES)
        self.data = self.payload.read()
        self.md5 = self.payload.md5()
        self.pending: set[str] = set()  # what the case made and may have left pending

    def raw(self, operation: api.Operation, upload: str = "", **kwargs: Any) -> Answer:
        answer = self.ex.send_raw(operation, upload, **kwargs)
        self.exchanges.append(answer.exchange)
        return answer

    def upload(self, parts: int = 1) -> str | None:
        answer = self.raw(api.CREATE, json={**_CREATE, "bytes": parts * PART_BYTES})
        self.ex.step(f"u1 = {api.CREATE.step_word}(...) as plain HTTP", answer)
        body = answer.json if answer.status == 200 and isinstance(answer.json, dict) else {}
        upload = body.get("id")
        if not isinstance(upload, str):
            return None
        self.ex.alias[upload] = "u1"
        self.pending.add(upload)
        return upload

    def part(self, upload: str) -> str | None:
        answer = self.raw(api.ADD_PART, upload, payload=self.payload)
        self.ex.step(f"add a part of {PART_BYTES} bytes to u1 as plain HTTP", answer)
        body = answer.json if answer.status == 200 and isinstance(answer.json, dict) else {}
        part = body.get("id")
        return part if isinstance(part, str) else None

    def lose(self, what: str, send: Callable[[UsersClient], SdkCall]) -> SdkCall | None:
        """The call, its first answer withheld; None when nothing was withheld or the
        target refused the request (then there is nothing to be truthful about)."""
        call = send(self.users)
        self.exchanges += call.exchanges
        lost = call.records[call.withheld] if call.withheld is not None else None
        attempts = len(call.records)
        self.ex.step(f"{what} through the SDK's defaults, the answer "
                     f"({lost.status if lost else 'none'}) withheld; {attempts} request(s) "
                     f"sent in all -> {call.shown}")
        for record in call.records:  # what it made, whatever it was shown: left to cancel
            body = record.json if record.status == 200 else None
            if isinstance(body, dict) and body.get("object") == "upload" \
                    and body.get("status") == "pending" and isinstance(body.get("id"), str):
                self.pending.add(body["id"])
        if lost is None:
            return None
        self._same_request_again(call)
        if lost.status != 200 or not isinstance(lost.json, dict):
            return None
        return call

    def _same_request_again(self, call: SdkCall) -> None:
        """SDK-RETRY-SAME-REQUEST: what the SDK sent again is the request it sent."""
        first = call.records[0].sent
        for attempt, record in enumerate(call.records[1:], start=2):
            differences = repeat_differences(first, record.sent)
            if differences:
                self.fail(SAME_REQUEST, f"{self.name} whose answer was lost was sent again, "
                          f"but attempt {attempt} is another request: "
                          f"{'; '.join(differences)}"
                          + (f"; its answer: {record.exchange.error}" if record.status is None
                             and record.exchange.error else ""))
        if len(call.records) > 1:
            self.ok(SAME_REQUEST)

    def cleanup(self) -> None:
        for upload in sorted(self.pending):  # a completed one refuses: no matter
            self.ex.target.client.request("POST", api.CANCEL.path(upload))

    def fail(self, requirement: str, problem: str) -> None:
        held(self.ex.check, SdkCheck(requirement, f"{self.label}: {problem}",
                                     tuple(self.exchanges)))

    def ok(self, requirement: str, outcome: str = "") -> None:
        """Held; what happened is kept as an observation (a pass has no message)."""
        if outcome:
            self.ex.target.recorder.observe(requirement, f"{self.label}: {self.name} whose "
                                            f"answer was lost: {outcome}")
        self.ex.check.ok(requirement)


def _lost_create(case: _Case) -> None:
    call = case.lose("create", lambda users: users.create(_CREATE, lose_first=True))
    if call is None:
        return
    made = {r.json["id"] for r in call.records
            if r.status == 200 and isinstance(r.json, dict) and isinstance(r.json.get("id"), str)}
    sent = f"sent {len(call.records)} time(s), {len(made)} upload(s) made"
    if _told_refused(case, call, sent):
        return
    if len(made) > 1:
        keys = {_header(r.sent.headers, "idempotency-key") for r in call.records}
        why = ("it sent no Idempotency-Key" if keys == {None} else
               "the target ignored the Idempotency-Key it sent" if len(keys) == 1 else
               "each attempt had another Idempotency-Key")
        case.fail(NO_DUPLICATE, f"a create whose answer was lost was {sent} ({why}): its "
                  f"user holds {call.shown}; {len(made) - 1} more stay pending, unseen, "
                  "until they expire")
        return
    case.ok(NO_DUPLICATE, f"{sent}; its user is shown {call.shown}")


def _lost_first_part(case: _Case) -> None:
    """The first of two parts: a repeat fits, so the user ends up holding one of two parts
    with the same bytes; the upload must complete with it and the second part."""
    upload = case.upload(parts=2)
    if upload is None:
        return
    call = case.lose("the first of two parts",
                     lambda users: users.add_part(upload, case.data, lose_first=True))
    if call is None:
        return
    parts = {r.json.get("id") for r in call.records
             if r.status == 200 and isinstance(r.json, dict)}
    sent = f"sent {len(call.records)} time(s), {len(parts)} part(s) made"
    if _told_refused(case, call, sent):
        return
    second = case.part(upload)
    if second is None:
        if len(parts) > 1:
            case.fail(NO_DUPLICATE, f"a part whose answer was lost was {sent}: the repeat took "
                      f"the room left in the upload, and its next part was refused "
                      f"({case.exchanges[-1].status})")
        return
    answer = case.raw(api.COMPLETE, upload, json={"part_ids": [call.result_field("id"), second],
                                                  "md5": concat_md5([case.payload, case.payload])})
    case.ex.step("complete u1 with the part the SDK returned and the second, as plain HTTP",
                 answer)
    body: dict[str, Any] = answer.json if isinstance(answer.json, dict) else {}
    file: dict[str, Any] = body["file"] if isinstance(body.get("file"), dict) else {}
    if answer.status == 200 and body.get("status") == "completed" \
            and file.get("bytes") == 2 * PART_BYTES:
        case.pending.discard(upload)
        case.ok(NO_DUPLICATE, f"{sent}; the part its user holds completes the upload")
        return
    subset = " (the upload also holds the repeated part: whether completing with a subset " \
             "of the parts is allowed is left open)" if len(parts) > 1 else ""
    case.fail(NO_DUPLICATE, f"the part the SDK returned after a lost answer ({sent}) does "
              f"not complete the upload: the completion listing it and the second part was "
              f"answered {answer.status}, status {body.get('status')!r}, a file of "
              f"{file.get('bytes')!r} bytes, not {2 * PART_BYTES}{subset}")


def _lost_last_part(case: _Case) -> None:
    """The part that fills the upload: a repeat does not fit, and may be refused at once
    (left open), which its user must not be told as the part's own failure."""
    upload = case.upload()
    if upload is None:
        return
    call = case.lose("the part that fills the upload",
                     lambda users: users.add_part(upload, case.data, lose_first=True))
    if call is None:
        return
    sent = f"sent {len(call.records)} time(s)"
    _told_refused(case, call, sent, f"{sent}; its user is shown {call.shown}")


def _lost_completion(case: _Case) -> None:
    upload = case.upload()
    part = case.part(upload) if upload is not None else None
    if upload is None or part is None:
        return
    call = case.lose("the completion", lambda users: users.complete(
        upload, {"part_ids": [part], "md5": case.md5}, lose_first=True))
    _took_effect(case, call, upload, "completed")


def _lost_cancel(case: _Case) -> None:
    upload = case.upload()
    if upload is None:
        return
    call = case.lose("the cancel", lambda users: users.cancel(upload, lose_first=True))
    _took_effect(case, call, upload, "cancelled")


def _took_effect(case: _Case, call: SdkCall | None, upload: str, status: str) -> None:
    if call is None or call.records[call.withheld or 0].json.get("status") != status:
        return  # the withheld answer was wrong: the target's own requirements judge it
    case.pending.discard(upload)
    sent = f"sent {len(call.records)} time(s)"
    _told_refused(case, call, sent, f"{sent}; its user is shown {call.shown}")


def _told_refused(case: _Case, call: SdkCall, sent: str, outcome: str = "") -> bool:
    """SDK-RETRY-TRUTHFUL, judged on every case: what took effect (its withheld answer was
    a 200) must not be shown to the user as refused, by the answer to the SDK's repeat. A
    connection error is no lie: it tells the user the outcome is not known. True when it
    was so shown (the failure is recorded); `outcome` is observed when it was not."""
    last = call.records[-1]
    if call.error is None or last.status is None or 200 <= last.status < 300:
        case.ok(TRUTHFUL, outcome)
        return False
    case.fail(TRUTHFUL, f"{case.name} took effect (its answer, withheld, was 200), but the "
              f"SDK {sent} and its user is told {call.error_text}: the repeat was answered "
              f"{last.status} (whether a repeat is refused is left open; sent again without "
              "an idempotency key, the user cannot tell it succeeded)")
    return True


_CASES: Final[tuple[tuple[str, tuple[str, ...], Callable[[_Case], None]], ...]] = (
    ("a create", RETRIES, _lost_create),
    ("the first of two parts", RETRIES, _lost_first_part),
    ("the part that fills the upload", (SAME_REQUEST, TRUTHFUL), _lost_last_part),
    ("a completion", (SAME_REQUEST, TRUTHFUL), _lost_completion),
    ("a cancel", (SAME_REQUEST, TRUTHFUL), _lost_cancel))


def _header(headers: dict[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name), None)
