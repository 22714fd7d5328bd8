"""Run profiles: how much the suite tries, from a CI smoke run to the paid API.

A profile sets the number of generated examples, the sizes the machine works with, which
expensive or target-specific checks run, how long the whole run may take (`--max-time`
overrides it), how fast it may send (`--rate-limit`) and how often a failure is replayed to
measure whether it comes back (once on the paid API). `quick` is the default.
"""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    max_examples: int  # examples per state machine
    steps: int  # steps per example
    max_upload_bytes: int  # the largest declared size the machine creates
    max_rounds: int  # re-runs after a failure, to find the other broken requirements
    schema_examples: int  # schemathesis examples per operation
    part_limit_bytes: bool  # send real 64 MiB and 64 MiB + 1 parts
    upload_limit_bytes: bool  # send a real 8 GiB upload in 64 MiB parts
    use_test_controls: bool  # advance the target's clock, when it offers test controls
    shrink_seconds: float  # the most time spent shrinking one failure
    max_time_s: float  # past this, the run stops and reports what it has (exit 2)
    byte_budget: int | None = None  # the most payload bytes a run may send (paid APIs)
    rate_limit: float | None = None  # requests a second at most; None: as fast as it answers
    # Replays of each failure in its run, to say whether it comes back (deterministic, flaky).
    replays: int = 3
    # Files the SDK's chunked helper uploads with its own default part size, from disk.
    chunked_default_sizes: tuple[int, ...] = (0,)


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("quick", max_examples=100, steps=20, max_upload_bytes=4096, max_rounds=20,
                schema_examples=10, part_limit_bytes=True, upload_limit_bytes=False,
                use_test_controls=True, shrink_seconds=30, max_time_s=300),
        Profile("standard", max_examples=300, steps=30, max_upload_bytes=256 * 1024,
                max_rounds=30, schema_examples=40, part_limit_bytes=True,
                upload_limit_bytes=False, use_test_controls=True, shrink_seconds=60,
                max_time_s=900),
        Profile("thorough", max_examples=1000, steps=40, max_upload_bytes=4 * MiB,
                max_rounds=40, schema_examples=150, part_limit_bytes=True,
                upload_limit_bytes=True, use_test_controls=True, shrink_seconds=300,
                max_time_s=3600,
                # Around the helper's 64 MiB default, which is exactly the API's part limit.
                chunked_default_sizes=(0, 64 * MiB - 1, 64 * MiB, 64 * MiB + 1)),
        Profile("real-api", max_examples=5, steps=8, max_upload_bytes=1024, max_rounds=3,
                schema_examples=3, part_limit_bytes=False, upload_limit_bytes=False,
                use_test_controls=False, shrink_seconds=60, max_time_s=1800,
                byte_budget=4 * MiB, rate_limit=2.0, replays=1),
    )
}
