"""Fixed scenarios: short scripted sequences checked with the same oracle and checks.

Some checks need no generation (the 64 MiB boundary with real bytes, the 8 GiB declared
size): a `Scenario` runs such a script, records its steps, and turns a broken requirement
into a finding without stopping the other scenarios.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from conformance.checks import Answer
from conformance.model import Expectation, Model, Part
from conformance.recorder import ConformanceFailure
from conformance.target import Target
from strategies.payloads import Payload, matches


class Scenario:
    def __init__(self, target: Target, name: str):
        self.target = target
        self.name = name
        self.model = Model()
        self.steps: list[str] = []
        self.check = target.checker
        self.created: list[str] = []

    def step(self, text: str, *answers: Answer) -> None:
        codes = ", ".join(str(a.status or "no answer") for a in answers)
        self.steps.append(f"{text} -> {codes}" if answers else text)
        self.target.adapter.report_checks(self.check, answers)  # the SDK's, once stepped

    def create(self, body: dict[str, Any], expectation: Expectation | None = None) -> str | None:
        """Creates an upload; its ID when the target accepted it and it is well formed."""
        expectation = expectation or self.model.expect_create(body)
        answer = self.target.adapter.create(body)
        self.step(f"create({body})", answer)
        if not self.check.answer(expectation, answer, "create"):
            return None
        if not self.check.upload_object(answer.json, "the created upload"):
            return None
        upload_id: str = answer.json["id"]
        self.created.append(upload_id)
        self.model.record_create(body, upload_id, answer.json["created_at"])
        return upload_id

    def add_part(self, upload_id: str, payload: Payload,
                 expectation: Expectation | None = None) -> str | None:
        expectation = expectation or self.model.expect_add_part(
            upload_id, len(payload), self.target.now())
        answer = self.target.adapter.add_part(upload_id, payload)
        self.step(f"add a part of {len(payload)} bytes", answer)
        return self.record_part(upload_id, payload, expectation, answer)

    def record_part(self, upload_id: str, payload: Payload, expectation: Expectation,
                    answer: Answer) -> str | None:
        """Checks a part's answer; its ID when the target took it and it is well formed."""
        if not self.check.answer(expectation, answer, f"a part of {len(payload)} bytes"):
            return None
        if not self.check.part_object(answer.json, upload_id, "the added part"):
            return None
        part_id: str = answer.json["id"]
        self.model.record_part(upload_id, Part(part_id, len(payload), payload))
        return part_id

    def complete(self, upload_id: str, part_ids: list[str], md5: str | None,
                 expectation: Expectation | None = None) -> Answer:
        body: dict[str, Any] = {"part_ids": part_ids}
        if md5 is not None:
            body["md5"] = md5
        expectation = expectation or self.model.expect_complete(
            upload_id, part_ids, md5, self.target.now(), md5)
        answer = self.target.adapter.complete(upload_id, body)
        self.step(f"complete with {len(part_ids)} part(s), md5={md5}", answer)
        if self.check.answer(expectation, answer, "completion"):
            self.model.record_complete(upload_id, part_ids, None)
        return answer

    def completed_file(self, upload_id: str, answer: Answer) -> str | None:
        """The ID of the file a completion made, once its Upload object is checked."""
        if answer.status is None or not 200 <= answer.status < 300:
            return None
        if not self.check.upload_object(answer.json, "the completed upload"):
            return None
        upload = self.model.uploads[upload_id]
        file = self.check.nested_file(answer.json, upload.declared_bytes, upload.filename,
                                      upload.purpose, "the completed upload")
        return file["id"] if file else None

    def check_content(self, file_id: str, payloads: list[Payload]) -> None:
        """Where the target serves files, its content is the listed parts' bytes in order."""
        if not self.target.files_served(file_id):
            return
        with self.target.client.stream_get(f"/files/{file_id}/content") as stream:
            if stream.status is None or not 200 <= stream.status < 300:
                # An error page is not content: the answer itself is what is wrong.
                ok, difference = False, f"reading it was answered {stream.status or 'nothing'}"
            else:
                ok, difference = matches(payloads, stream)
        self.step(f"read the file {file_id!r} back")
        self.check.expect(ok, "CONTENT-BYTES", f"the file's content differs: {difference}")

    def cleanup(self) -> None:
        for upload_id in self.created:
            if self.model.uploads[upload_id].status.value == "pending":
                self.target.adapter.cancel(upload_id)


@contextmanager
def scenario(target: Target, name: str) -> Iterator[Scenario]:
    """Runs one scenario; a broken requirement becomes a finding with the scenario's steps."""
    script = Scenario(target, name)
    target.checker.current_steps = script.steps
    try:
        yield script
    except ConformanceFailure as failure:
        failure.steps = list(script.steps)
        target.recorder.failed(failure.to_finding(f"scenario: {name}"), at_s=target.elapsed())
    finally:
        script.cleanup()
