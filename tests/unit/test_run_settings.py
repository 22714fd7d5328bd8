"""Settings: one table of options for the command line and the plugin, read into the same
`RunSettings`, which cross to xdist workers as plain values."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance import RunSettings
from conformance.options import OPTIONS, settings_from_options

KEY = "sk-api-secret-5b1f0e7c"



def test_the_command_line_reads_its_options_and_the_sdk_environment_into_settings() -> None:
    from conformance.cli import build_parser

    args = build_parser().parse_args([
        "run", "--report-dir", "out", "--profile", "standard", "--seed", "5", "-n", "3",
        "--fail-fast", "--sdk", "openai-python", "--baseline", "b.json"])
    environ = {"OPENAI_BASE_URL": "http://127.0.0.1:8000/v1", "OPENAI_API_KEY": KEY}
    settings = settings_from_options(vars(args), environ)
    assert settings == RunSettings(
        base_url="http://127.0.0.1:8000/v1", api_key=KEY, report_dir=Path("out"),
        profile="standard", seed=5, workers=3, fail_fast=True, sdk="openai-python",
        baseline=Path("b.json"))
    bare = settings_from_options(vars(build_parser().parse_args(["run"])), {})
    assert bare == RunSettings()
    assert KEY not in repr(settings), "the key shown in the settings' repr"


class _Options:
    """What pytest's config answers to `getoption`, for the plugin's options."""

    def __init__(self, **given: object) -> None:
        self.given = given

    def getoption(self, dest: str) -> object:
        return self.given.get(dest.removeprefix("uploads_"), False if dest.endswith(
            "fail_fast") else None)


def test_the_plugin_offers_the_same_options_and_reads_the_sdk_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance import plugin

    offered = {o.plugin_flag for o in OPTIONS if o.in_plugin}
    assert {"--uploads-base-url", "--uploads-api-key", "--uploads-report-dir",
            "--uploads-profile", "--uploads-seed", "--uploads-fail-fast"} <= offered
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    settings = plugin.settings_from_config(_Options(profile="thorough"))  # type: ignore[arg-type]
    assert (settings.profile, settings.api_key, settings.base_url) == ("thorough", KEY, None)
    assert settings.seed is not None, "the controller picks the seed its workers share"
    assert settings.report_dir is None, "under pytest, report files only when asked for"


def test_settings_cross_to_xdist_workers_as_plain_values() -> None:
    import execnet

    settings = RunSettings(base_url="http://h/v1", api_key=KEY, openapi=Path("o.yaml"),
                           seed=9, hypothesis_home=Path("/tmp/h"))
    wire = execnet.loads(execnet.dumps(settings.to_wire()))  # what xdist's channel carries
    assert RunSettings.from_wire(wire) == settings


def test_max_examples_overrides_only_the_profiles_examples() -> None:
    from conformance.profiles import PROFILES

    profile = RunSettings(profile="standard", max_examples=3).run_profile()
    assert profile.max_examples == 3
    assert profile.steps == PROFILES["standard"].steps
    assert RunSettings(profile="standard").run_profile() == PROFILES["standard"]
