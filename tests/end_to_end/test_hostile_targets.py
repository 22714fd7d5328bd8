"""Hostile targets: whatever the target does, the run ends with a verdict or a reason, the
console is the suite's own, and the API key appears in no byte it wrote.

Each case serves the reference emulator behind one fault (`tests.support.hostile_target`),
striking every request or only part requests (the target looks healthy until the suite
adds a part), and runs `uploads-conformance run` against it as a user would. The key is
planted where a leak would show: in the Authorization header the faulty target echoes back
in its bodies, headers and redirect URLs. The runs use short limits (`--request-timeout 3
--give-up-after 10`) so that the matrix stays affordable; bench/hostile_targets.py measures
the same faults with the defaults.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.support.cli import (
    CliRun,
    assert_four_reports,
    assert_no_traceback,
    new_api_key,
    run_suite,
    target_args,
)
from tests.support.hostile_target import hostile_target

CASES = [
    *[(fault, "all") for fault in (
        "garbage-json", "html-error", "wrong-types", "reset", "hang", "drip", "huge-body",
        "redirect-loop", "5xx-storm", "429-storm", "wrong-content-type",
        "echo-authorization")],
    *[(fault, "parts") for fault in (
        "reset", "hang", "drip", "huge-body", "5xx-storm", "429-storm", "garbage-json",
        "echo-authorization")],
]
# Bounded waits; each finding replayed once (its verdict is not what is tested here, and a
# target failing everything would be replayed test by test).
LIMITS = ("--request-timeout", "3", "--give-up-after", "10", "--replays", "1")


def _leaks(run: CliRun, api_key: str) -> list[str]:
    assert run.report_dir is not None
    forms = [api_key.encode(), base64.b64encode(f"Bearer {api_key}".encode())]
    places = {"stdout": run.stdout.encode(), "stderr": run.stderr.encode()}
    places.update({str(p): p.read_bytes() for p in run.report_dir.rglob("*") if p.is_file()})
    return [where for where, data in places.items() if any(form in data for form in forms)]


def _foreign_lines(run: CliRun) -> list[str]:
    """Console lines that are not the suite's own (its lines start with its name, or are
    indented under one that does)."""
    lines = (run.stdout + run.stderr).splitlines()
    return [line for line in lines
            if line.strip() and not line.startswith(("uploads-conformance", " "))]


@pytest.mark.slow
@pytest.mark.parametrize(("fault", "strikes"), CASES, ids=[f"{s}-{f}" for f, s in CASES])
def test_a_hostile_target_gets_a_clean_bounded_run(tmp_path: Path, fault: str,
                                                   strikes: str) -> None:
    api_key = new_api_key()
    with hostile_target(fault, strikes, api_key) as (base_url, target):
        run = run_suite(tmp_path, *target_args(base_url, api_key), *LIMITS, timeout=240)
    assert target.struck > 0, "the fault never struck: the case tests nothing"
    assert run.returncode in (1, 2), run.explain()
    assert_no_traceback(run)
    assert not _foreign_lines(run), _foreign_lines(run)[:20]
    assert not _leaks(run, api_key)
    assert_four_reports(run)
    if run.returncode == 2:  # no verdict: the report must say why
        assert run.report["errors"], run.explain()
    else:  # a verdict: something the target did was named
        assert run.failed(), run.explain()
