"""Generated sequences of uploads, parts, completions and cancels, held to the oracle."""

from __future__ import annotations

from conformance.engine import explore
from conformance.machine import bind_machine
from conformance.suite._verdict import fail_on_broken_musts
from conformance.target import Target


def test_upload_lifecycles(uploads_target: Target) -> None:
    since = len(uploads_target.recorder.failures)
    explore(uploads_target, bind_machine(uploads_target), "stateful")
    fail_on_broken_musts(uploads_target, since)
