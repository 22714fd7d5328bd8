"""End to end: TENANT-ISOLATION against targets that keep tenants apart and one that does not.

The targets are the reference emulator behind a small key gateway, as multi-tenant
deployments put one in front of a server: it takes its tenants' keys and forwards each
request with an upstream key. The isolating gateway gives each tenant its own upstream key
(the emulator keeps them apart); the leaking one forwards every tenant with the same one,
the bug of a gateway that pools its tenants on one upstream account. A run without a
second key reports the requirement untested, with its reason, never passed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from conformance import RunSettings, run
from conformance.credentials import SECOND_KEY_VARIABLE
from conformance.emulator import EmulatorConfig, create_app
from conformance.results import Outcome, RequirementResult, RunReport
from tests.support.cli import assert_secret_kept, new_api_key, run_cli
from tests.support.serving import serve_app

TENANTS_TEST = ("test_tenants.py::test_an_upload_is_unknown_to_another_tenant",)
_UPSTREAM = ("sk-upstream-first-0123456789abcdef", "sk-upstream-second-0123456789abcdef")


class KeyGateway:
    """ASGI: the emulator behind a gateway taking `keys`; an unknown key goes up as none."""

    def __init__(self, keys: tuple[str, str], *, isolating: bool) -> None:
        self._emulator = create_app(EmulatorConfig(
            api_key=_UPSTREAM[0], other_api_keys=(_UPSTREAM[1],), test_controls=True))
        upstream = _UPSTREAM if isolating else (_UPSTREAM[0], _UPSTREAM[0])
        self._upstream = {f"Bearer {key}".encode(): f"Bearer {up}".encode()
                          for key, up in zip(keys, upstream, strict=True)}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = [(name, self._upstream.get(value, b"Bearer unknown")
                        if name == b"authorization" else value)
                       for name, value in scope["headers"]]
            scope = {**scope, "headers": headers}
        await self._emulator(scope, receive, send)


@pytest.fixture
def keys() -> tuple[str, str]:
    return new_api_key(), new_api_key()


def _isolation(report: RunReport) -> RequirementResult:
    return next(r for r in report.requirements if r.id == "TENANT-ISOLATION")


def _run(tmp_path: Path, base_url: str | None, keys: tuple[str, str] | None,
         second: bool = True) -> RunReport:
    return run(RunSettings(base_url=base_url, api_key=keys[0] if keys else None,
                           second_api_key=keys[1] if keys and second else None,
                           report_dir=tmp_path, seed=1, tests=TENANTS_TEST))


def test_a_gateway_that_pools_its_tenants_fails_tenant_isolation_and_keeps_both_keys(
        tmp_path: Path, keys: tuple[str, str]) -> None:
    with serve_app(KeyGateway(keys, isolating=False)) as base_url:
        done = run_cli("run", "--base-url", base_url, "--api-key", keys[0],
                       "--second-api-key", keys[1], "--seed", "1", "--fail-fast",
                       "--max-examples", "5", report_dir=tmp_path, timeout=300)
    assert done.returncode == 1, done.explain()
    assert done.requirement("TENANT-ISOLATION")["status"] == "fail", done.explain()
    finding = done.requirement("TENANT-ISOLATION")["failures"][0]
    assert "another tenant's" in finding["message"]
    leaked = finding["exchanges"][-1]  # the other key's request, answered 200
    assert leaked["status"] == 200 and f"${SECOND_KEY_VARIABLE}" in leaked["curl"]
    assert leaked["request_headers"]["Authorization"] == "Bearer [REDACTED]"
    for key in keys:
        assert_secret_kept(done, key)


def test_a_gateway_that_keeps_its_tenants_apart_passes(tmp_path: Path,
                                                      keys: tuple[str, str]) -> None:
    with serve_app(KeyGateway(keys, isolating=True)) as base_url:
        report = _run(tmp_path, base_url, keys)
    result = _isolation(report)
    assert (result.status, result.failures) == (Outcome.PASS, []), result
    assert result.passed >= 6  # part, completion, cancel, file, content, and theirs
    written = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert all(key.encode() not in written for key in keys)


def test_without_a_second_key_it_is_untested_saying_why(tmp_path: Path,
                                                        keys: tuple[str, str]) -> None:
    with serve_app(KeyGateway(keys, isolating=False)) as base_url:  # a leak nobody looks for
        report = _run(tmp_path, base_url, keys, second=False)
    result = _isolation(report)
    assert result.status is Outcome.NOT_TESTABLE and result.passed == 0
    assert (result.not_testable_reason, result.untested_cause) == (
        "needs --second-api-key", "settings")


def test_a_second_key_the_target_refuses_leaves_it_untested_saying_so(
        tmp_path: Path, keys: tuple[str, str]) -> None:
    with serve_app(KeyGateway(keys, isolating=True)) as base_url:
        report = _run(tmp_path, base_url, (keys[0], new_api_key()))
    result = _isolation(report)
    assert result.status is Outcome.NOT_TESTABLE and result.passed == 0
    assert result.not_testable_reason == "the target refused --second-api-key (401)"


def test_the_embedded_emulators_run_tests_isolation_with_two_keys(tmp_path: Path) -> None:
    report = _run(tmp_path, None, None)
    assert _isolation(report).status is Outcome.PASS
    written = "".join(p.read_text(errors="replace") for p in tmp_path.rglob("*")
                      if p.is_file())
    assert not re.search(r"sk-conformance-[0-9a-f]{16}", written), "an emulator key leaked"
