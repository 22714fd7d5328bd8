"""Overlapping operations on one upload: grouped as they go through, judged as a history.

A client may send several requests about one upload at once (parts in parallel, or a
completion while a part is under way). `Bursts` groups each upload's exchanges whose
times overlap (a burst closes when none of them is under way any more) and hands each
group on whole, so the judge sees every answer of it together. A burst of parts alone is
judged part by part under the oracle's rule for parallel parts (PART-PARALLEL); one with a
completion or a cancel in it is judged by the linearizability check (`judge_history`,
RACE-LINEARIZABLE): some order of its operations, consistent with real time, must explain
every answer. The model does not follow such an upload afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from conformance import api
from conformance.checks import Checker
from conformance.concurrency import judge_operations
from conformance.linearizability import Operation
from conformance.model import Model
from conformance.proxy.observe import Observed
from conformance.upload_spec import AddPart, Cancel, Complete, UploadSpecification
from conformance.upload_spec import Answer as SpecAnswer

__all__ = ["Bursts", "judge_history"]

REQUIREMENT: Final = "RACE-LINEARIZABLE"
CHECK_BUDGET_S: Final = 5.0

Submit = Callable[[list[Observed]], None]


class Bursts:
    """Groups each upload's overlapping exchanges (called on the proxy's event loop only,
    so it needs no lock); anything not about an existing upload goes on alone."""

    def __init__(self, submit: Submit) -> None:
        self._submit = submit
        self._open: dict[str, list[Observed]] = {}  # upload ID -> the burst under way
        self._under_way: dict[str, int] = {}

    def started(self, observed: Observed) -> None:
        upload = observed.route.upload_id
        if upload is not None:
            self._under_way[upload] = self._under_way.get(upload, 0) + 1
            self._open.setdefault(upload, [])

    def ended(self, observed: Observed) -> None:
        upload = observed.route.upload_id
        if upload is None or upload not in self._open:
            self._submit([observed])
            return
        self._open[upload].append(observed)
        self._under_way[upload] -= 1
        if self._under_way[upload] == 0:
            del self._under_way[upload]
            self._submit(sorted(self._open.pop(upload), key=lambda o: o.called))


def judge_history(checker: Checker, model: Model, upload_id: str, burst: Sequence[Observed],
                  name: Callable[[str], str]) -> None:
    """RACE-LINEARIZABLE for overlapping operations on an upload the model follows."""
    upload = model.uploads[upload_id]
    status = upload.status.value if upload.status.value != "expired" else "pending"
    spec = UploadSpecification(upload.declared_bytes,
                               tuple((p.id, p.size) for p in upload.parts.values()),
                               status=status)  # type: ignore[arg-type]
    operations = [_operation(index, observed, model, upload_id)
                  for index, observed in enumerate(burst)]
    judge_operations(checker, operations, spec, name,
                     f"the {len(operations)} overlapping operations on {name(upload_id)}")


def _operation(index: int, observed: Observed, model: Model,
               upload_id: str) -> Operation[Any, SpecAnswer]:
    body = observed.json
    output = None
    if observed.status is not None and observed.returned is not None:
        part_id = body.get("id") if observed.ok and isinstance(body, dict) and \
            observed.route.operation is api.ADD_PART else None
        output = SpecAnswer(observed.status, part_id if isinstance(part_id, str) else None)
    returned = observed.returned if output is not None else None
    return Operation(index, _input(observed, model, upload_id), output, observed.called,
                     returned)


def _input(observed: Observed, model: Model, upload_id: str) -> Any:
    operation = observed.route.operation
    if operation is api.ADD_PART:
        return AddPart(observed.part.size if observed.part is not None else 0)
    if operation is api.COMPLETE:
        sent = observed.sent.json
        part_ids = tuple(sent.get("part_ids") or ()) if isinstance(sent, dict) else ()
        md5 = sent.get("md5") if isinstance(sent, dict) else None
        right = None
        if isinstance(md5, str):
            try:
                right = model.right_md5(upload_id, list(part_ids))
            except LookupError:
                right = None
        return Complete(part_ids, md5 if isinstance(md5, str) else None, right)
    return Cancel()
