"""`uploads-conformance driver-check`: the good fake driver passes, each broken one fails
exactly the check its fault breaks, and a command that cannot start is exit status 2."""

from __future__ import annotations

import shlex

import pytest

from conformance.driver_check import driver_check
from tests.support.cli import run_cli

PART_CHECKS = {"add_part: every byte value, 256 bytes", "add_part: 1 MiB, inline",
               "add_part: 1 MiB + 1 byte, as a file"}


CHECKS = ("ready message", "create", *sorted(PART_CHECKS), "add_part: an empty part",
          "complete", "cancel", "error answer", "unknown operation", "concurrent requests",
          "shutdown: bye", "shutdown: end of stdin")


def _check_lines(output: str) -> dict[str, str]:
    """Each check's verdict (PASS or FAIL), from the lines the command printed."""
    lines = output.splitlines()
    return {name: line[:4] for name in CHECKS for line in lines
            if line[:4] in ("PASS", "FAIL") and line[6:].startswith(f"{name}: ")}


@pytest.mark.parametrize("options", [[], ["--report-http"]])
def test_the_fake_driver_passes_every_check(fake_driver: list[str], options: list[str]) -> None:
    done = run_cli("driver-check", shlex.join([*fake_driver, "--mode", "good", *options]),
                   timeout=60)
    verdicts = _check_lines(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(verdicts) == 13 and set(verdicts.values()) == {"PASS"}, done.stdout
    assert "sk-check-" not in done.stdout + done.stderr  # the fresh key is never shown


@pytest.mark.parametrize(("mode", "failing"), [
    ("garbles-binary", PART_CHECKS),
    ("dies-on-unknown", {"unknown operation"}),
    ("no-exit", {"shutdown: bye", "shutdown: end of stdin"}),
])
def test_a_broken_driver_fails_exactly_its_check(fake_driver: list[str], mode: str,
                                                  failing: set[str]) -> None:
    lines: list[str] = []
    status = driver_check(shlex.join([*fake_driver, "--mode", mode]), 20.0, lines.append,
                          exit_seconds=1.0)
    verdicts = _check_lines("\n".join(lines))
    assert status == 1
    assert len(verdicts) == 13
    assert {name for name, verdict in verdicts.items() if verdict == "FAIL"} == failing, lines


def test_a_driver_that_does_not_exist_is_exit_status_2() -> None:
    done = run_cli("driver-check", "no-such-driver-program --flag", timeout=30)
    assert done.returncode == 2
    assert "could not be started" in done.stderr
    assert "no-such-driver-program" in done.stderr and "No such file" in done.stderr


@pytest.mark.parametrize(("options", "verdict", "says"), [
    (["--report-http"], "PASS", "the first answer withheld; 2 request(s) sent in all"),
    ([], "FAIL", "the reply reports no HTTP exchanges"),
])
def test_a_users_client_is_checked_when_offered(fake_driver: list[str], options: list[str],
                                                verdict: str, says: str) -> None:
    lines: list[str] = []
    driver_check(shlex.join([*fake_driver, "--users-client", *options]), 20.0, lines.append,
                 exit_seconds=1.0)
    line = next(x for x in lines if x[6:].startswith("users' client: a lost answer: "))
    assert line.startswith(verdict) and says in line, lines
