"""Whether a run can be done with its settings: `check_settings`, before anything starts.

Every reason a run cannot be done is a `SettingsError` with one line for the user (exit
status 2): an unknown profile or SDK, a number out of range, an SDK without the Uploads
API or a driver that does not start, options that do not go together, a target that does
not answer.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from conformance.client.connection import DIRECT
from conformance.profiles import PROFILES

if TYPE_CHECKING:
    from conformance.run import RunSettings

__all__ = ["SettingsError", "check_settings", "profile_names", "sdk_names"]

_SUITE = Path(__file__).parent / "suite"


class SettingsError(ValueError):
    """Settings with which no run can be done; the message is one line, fit for a user."""


def profile_names() -> Sequence[str]:
    return sorted(PROFILES)


def sdk_names() -> Sequence[str]:
    # Looked up only when a parser is built: the adapters pull in the client and the oracle.
    from conformance.adapters.registry import SDK_CHOICES

    return SDK_CHOICES


def check_settings(settings: RunSettings) -> None:
    """SettingsError with the reason when no run can be done with these settings."""
    if settings.profile not in PROFILES:
        raise SettingsError(f"unknown profile {settings.profile!r}; choose from "
                            + ", ".join(profile_names()))
    if settings.workers < 1:
        raise SettingsError("-n must be at least 1")
    for name, value in (("--request-timeout", settings.request_timeout),
                        ("--give-up-after", settings.give_up_after),
                        ("--max-time", settings.max_time)):
        if value is not None and not value > 0:
            raise SettingsError(f"{name} must be a number of seconds above 0")
    if settings.max_examples is not None and settings.max_examples < 1:
        raise SettingsError("--max-examples must be at least 1")
    if settings.replays is not None and settings.replays < 0:
        raise SettingsError("--replays must be 0 or more")
    try:
        settings.selection()
    except ValueError as error:
        raise SettingsError(str(error)) from None
    if settings.rate_limit is not None and not settings.rate_limit >= 0:
        raise SettingsError("--rate-limit must be 0 (no limit) or a number of requests a "
                            "second above 0")
    if settings.openapi is not None and not settings.openapi.is_file():
        raise SettingsError(f"the OpenAPI document {settings.openapi} does not exist")
    if settings.second_api_key is not None and settings.second_api_key == settings.api_key:
        raise SettingsError("--second-api-key must be another tenant's key, not --api-key's")
    if settings.mutant and settings.base_url:
        raise SettingsError("--mutant applies to the embedded emulator; drop --base-url")
    if settings.mutant:
        from conformance.emulator import MUTANTS

        if settings.mutant not in MUTANTS:
            raise SettingsError(f"unknown mutant {settings.mutant!r}; see "
                                "`uploads-conformance serve --list-mutants`")
    _check_adapter(settings)
    _check_connection(settings)
    for test in settings.tests:
        _check_test(test)
    if settings.base_url and not settings.base_url.startswith(("http://", "https://")):
        raise SettingsError(f"--base-url must be an http(s) URL, not {settings.base_url!r}")
    if settings.report_dir is not None:
        _check_report_dir(settings.report_dir)
    if settings.base_url:
        _check_reachable(settings)


def _check_adapter(settings: RunSettings) -> None:
    if settings.sdk and settings.sdk_driver:
        raise SettingsError("give --sdk or --sdk-driver, not both")
    if settings.sdk and settings.sdk not in sdk_names():
        raise SettingsError(f"unknown SDK {settings.sdk!r}; choose from "
                            + ", ".join(sdk_names()))
    if settings.sdk and settings.sdk != "http":
        try:
            import openai
        except ImportError:
            raise SettingsError("--sdk needs the openai package: pip install "
                                "'uploads-conformance[sdk]'") from None
        from conformance.adapters.sdk_capabilities import python_sdk_problem

        problem = python_sdk_problem(openai)  # an SDK without the Uploads API: exit 2
        if problem is not None:
            raise SettingsError(problem)
    if settings.sdk_driver:
        _check_driver(settings.sdk_driver)


def _check_driver(command: str) -> None:
    """Starts the driver once and says hello, so that one that cannot start (or has no
    Uploads API) stops the run with its reason, not with every test of the run erroring."""
    from conformance.adapters.driver import DriverAdapter, DriverError

    try:
        DriverAdapter(command, "http://127.0.0.1:9/v1", "inspection-only").close()
    except DriverError as error:
        raise SettingsError(str(error)) from None


def _check_connection(settings: RunSettings) -> None:
    try:
        # --organization and --project reach an SDK through its own settings (make_adapter).
        plain = dataclasses.replace(settings, organization=None, project=None).connection()
        settings.connection()
    except ValueError as error:
        raise SettingsError(str(error)) from None
    if plain != DIRECT and (settings.sdk not in (None, "http") or settings.sdk_driver):
        raise SettingsError("--header, --query, --auth-header, --cacert, --insecure and "
                            "--proxy apply to plain HTTP runs; the SDK adapters do not take "
                            "them yet")


# A suite test's node ID: a module of the suite and a test in it, nothing else (a report is
# untrusted input, and a path there must not make pytest import a file of the report's).
_TEST_ID = re.compile(r"(test_[a-z0-9_]+\.py)::[A-Za-z0-9_]+(\[[^\]/\\]*\])?")


def _check_test(test: str) -> None:
    match = _TEST_ID.fullmatch(test)
    if match is None or not (_SUITE / match.group(1)).is_file():
        raise SettingsError(f"{test[:200]!r} is not a test of this version of the suite")


def _check_report_dir(report_dir: Path) -> None:
    # Found out before the run, not after it: writing the reports is its last step.
    report_dir.mkdir(parents=True, exist_ok=True)
    if not os.access(report_dir, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(report_dir))


def _check_reachable(settings: RunSettings) -> None:
    from conformance.preflight import check_target

    assert settings.base_url is not None
    check_target(settings.base_url, settings.api_key,
                 timeout=min(10.0, settings.request_timeout), connection=settings.connection())
