"""The reference emulator gets the same verdict whether the suite starts it (embedded) or
finds it at `--base-url` (started separately, with its own keys passed by `--api-key` and
`--second-api-key`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.emulator import EmulatorConfig, EmulatorServer
from tests.support.cli import (
    PROFILE,
    SEED,
    assert_four_reports,
    assert_no_traceback,
    assert_secret_kept,
    new_api_key,
    run_suite,
    target_args,
)


@pytest.mark.slow
def test_an_external_emulator_gets_the_embedded_verdict(tmp_path: Path) -> None:
    api_key, second_key = new_api_key(), new_api_key()  # two tenants, as the embedded run has
    config = EmulatorConfig(api_key=api_key, other_api_keys=(second_key,), test_controls=True)
    with EmulatorServer(config) as server:
        external = run_suite(tmp_path, *target_args(server.base_url, api_key),
                             "--second-api-key", second_key, name="external")
    embedded = run_suite(tmp_path, "--profile", PROFILE, "--seed", SEED, name="embedded")

    for run in (external, embedded):
        assert_no_traceback(run)
        assert run.returncode == 0, run.explain()
        assert run.failed() == set(), run.explain()
        assert_four_reports(run)
    assert_secret_kept(external, api_key)
    assert_secret_kept(external, second_key)
    assert external.report["target_kind"] == "external"
    assert embedded.report["target_kind"] == "embedded emulator"
    # Same target, same seed: the same requirements are reached and pass. (Counts may
    # differ: the embedded run's requests and timings are not the external one's.)
    tested = {"pass", "fail"}
    external_passed = {i for i, s in external.statuses().items() if s in tested}
    embedded_passed = {i for i, s in embedded.statuses().items() if s in tested}
    assert external_passed == embedded_passed, (external_passed ^ embedded_passed)
    for requirement in ("EXPIRY-ENFORCED", "CONTENT-BYTES", "AUTH-REQUIRED", "COMPLETE-MD5",
                        "TENANT-ISOLATION"):
        assert external.statuses()[requirement] == "pass", external.explain()
