"""Helpers for the adapter tests: targets built around an adapter, and what a run found."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from conformance.adapters.base import Adapter
from conformance.adapters.registry import close_adapter
from conformance.client import TargetClient
from conformance.engine import explore
from conformance.machine import bind_machine
from conformance.profiles import PROFILES
from conformance.recorder import Recorder
from conformance.target import Target

API_KEY = "sk-adapters-test-0123456789"
EXAMPLES = 15
# Few rounds and little shrinking: these tests ask which requirement fails, not how small.
FAST = dataclasses.replace(PROFILES["quick"], max_rounds=3, shrink_seconds=1)

MakeAdapter = Callable[[str, TargetClient, Recorder], Adapter]


@contextmanager
def target_with(base_url: str, make: MakeAdapter, seed: int = 1) -> Iterator[Target]:
    """A Target whose adapter `make(base_url, client, recorder)` builds; closed afterwards."""
    with TargetClient(base_url, API_KEY) as client:
        recorder = Recorder()
        target = Target(base_url=base_url, client=client, adapter=make(base_url, client, recorder),
                        recorder=recorder, profile=FAST, seed=seed, api_key=API_KEY)
        try:
            yield target
        finally:
            close_adapter(target.adapter)


def run_machine(target: Target, examples: int = EXAMPLES) -> set[str]:
    """Runs the state machine; the requirements that failed."""
    explore(target, bind_machine(target), "adapters", max_examples=examples)
    return {finding.requirement for finding in target.recorder.failures}


def sdk_passes(target: Target) -> dict[str, int]:
    return {k: v for k, v in target.recorder.passes.items() if k.startswith("SDK-")}


def messages(target: Target, requirement: str) -> list[str]:
    return [f.message for f in target.recorder.failures if f.requirement == requirement]


def exchanges_text(client: TargetClient) -> str:
    return "\n".join(str(e.to_dict()) for e in client.recent())
