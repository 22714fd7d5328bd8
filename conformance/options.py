"""The one table of a run's options, from which both the command line (`--base-url`) and
the pytest plugin (`--uploads-base-url`) are built, so that a setting has one name, one
type and one help text; `settings_from_options` turns parsed values into `RunSettings`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.client.health import LOST_BUDGET_S
from conformance.credentials import SECOND_KEY_VARIABLE
from conformance.run import RunSettings, profile_names, sdk_names

__all__ = ["CONNECTION_OPTIONS", "OPTIONS", "Option", "add_options", "settings_for_a_report",
           "settings_from_options"]

# The options that say how requests reach a target, for every command that sends some.
CONNECTION_OPTIONS = ("base_url", "api_key", "request_timeout", "header", "query",
                      "auth_header", "cacert", "insecure", "proxy", "organization", "project")


@dataclass(frozen=True, slots=True)
class Option:
    """A setting as `uploads-conformance run --NAME` and the plugin's `--uploads-NAME` take it."""

    name: str  # the RunSettings field it sets
    help: str
    type: Callable[[str], Any] | None = str  # None: a switch that takes no value
    choices: Callable[[], Sequence[str]] | None = None
    metavar: str | None = None
    short: str | None = None  # the command line's short flag
    env: str | None = None  # read when the option is not given, as the official SDKs do
    in_plugin: bool = True  # offered by the pytest plugin too
    repeat: bool = False  # may be given more than once; the values make a tuple

    @property
    def flags(self) -> list[str]:
        long = "--" + self.name.replace("_", "-")
        return [self.short, long] if self.short else [long]

    @property
    def plugin_flag(self) -> str:
        return "--uploads-" + self.name.replace("_", "-")

    @property
    def plugin_dest(self) -> str:
        return "uploads_" + self.name

    def parser_arguments(self) -> dict[str, Any]:
        """Keyword arguments for argparse's or pytest's `add_argument` / `addoption`.

        Every default is None (False for a switch): RunSettings holds the defaults.
        """
        if self.type is None:
            return {"action": "store_true", "help": self.help}
        arguments: dict[str, Any] = {"type": self.type, "default": None, "help": self.help}
        if self.repeat:
            arguments["action"] = "append"
        if self.choices is not None:
            arguments["choices"] = list(self.choices())
        if self.metavar is not None:
            arguments["metavar"] = self.metavar
        return arguments


OPTIONS: tuple[Option, ...] = (
    Option("base_url", "the target, e.g. http://127.0.0.1:8000/v1 (default: $OPENAI_BASE_URL; "
           "without either, an embedded emulator)", metavar="URL", env="OPENAI_BASE_URL"),
    Option("api_key", "the target's API key (default: $OPENAI_API_KEY); never written to a "
           "report", metavar="KEY", env="OPENAI_API_KEY"),
    Option("second_api_key", "a key of another tenant (another project) on the same target, "
           "to test that neither sees the other's uploads (default: "
           f"${SECOND_KEY_VARIABLE}); never written to a report", metavar="KEY",
           env=SECOND_KEY_VARIABLE),
    Option("report_dir", "write report.json, junit.xml, report.md, report.html and "
           "exchanges.har here "
           "(default: reports/; under pytest, only when given)", type=Path, metavar="DIR"),
    Option("profile", "how much to try (default: quick)", choices=profile_names),
    Option("seed", "reproduce an earlier run", type=int, metavar="N"),
    # pytest-xdist has its own -n under pytest.
    Option("workers", "run the suite's tests on this many pytest-xdist workers", type=int,
           metavar="WORKERS", short="-n", in_plugin=False),
    Option("openapi", "OpenAPI document for the schema checks (default: the project's)",
           type=Path, metavar="PATH"),
    Option("baseline", "accepted deviations: their failures do not fail the run", type=Path,
           metavar="FILE", in_plugin=False),
    Option("write_baseline", "write this run's failed requirements as a baseline file",
           type=Path, metavar="FILE", in_plugin=False),
    Option("fail_fast", "stop at the first MUST failure", type=None),
    Option("sdk", "run the operations through this SDK (default: plain HTTP)",
           choices=sdk_names),
    Option("sdk_driver", "run the operations through a driver program for another "
           "language's SDK (docs/sdk-drivers.md)", metavar="COMMAND"),
    Option("mutant", "test the embedded emulator with this mutant switched on",
           metavar="NAME"),
    Option("request_timeout", "seconds one exchange may take, connect to last byte, plus "
           "one for each MiB sent or received (default: 30)", type=float, metavar="SECONDS"),
    Option("give_up_after", "seconds of the run a misbehaving target may waste (requests "
           "without an answer, retry waits on 429/503) before the run stops with exit 2 "
           f"(default: {LOST_BUDGET_S:g})", type=float, metavar="SECONDS"),
    Option("max_time", "seconds the whole run may take; past them it stops, reports what "
           "it has and exits 2 (default: the profile's, 300 for quick)", type=float,
           metavar="SECONDS"),
    Option("rate_limit", "send at most this many requests a second (default: the "
           "profile's, 2 for real-api, else no limit; 0: no limit)", type=float,
           metavar="PER_SECOND"),
    Option("header", "send this header with every request (repeatable; its value is "
           "treated as a secret)", metavar="NAME:VALUE", repeat=True),
    Option("query", "add this parameter to every request's URL, e.g. api-version=2024-10-21 "
           "(repeatable)", metavar="NAME=VALUE", repeat=True),
    Option("organization", "send this OpenAI-Organization header (default: $OPENAI_ORG_ID)",
           metavar="ID", env="OPENAI_ORG_ID"),
    Option("project", "send this OpenAI-Project header (default: $OPENAI_PROJECT_ID)",
           metavar="ID", env="OPENAI_PROJECT_ID"),
    Option("auth_header", "send the key in this header as it is (e.g. api-key), not as "
           "Authorization: Bearer KEY", metavar="NAME"),
    Option("cacert", "verify the target's TLS certificate against this CA bundle (PEM)",
           type=Path, metavar="FILE"),
    Option("insecure", "do not verify the target's TLS certificate", type=None),
    Option("proxy", "send the requests through this http(s) proxy", metavar="URL"),
    Option("requirements", "judge only these requirements: IDs or patterns, comma-separated "
           "(e.g. 'COMPLETE-*,PART-SIZE-LIMIT'); a partial run is never called conformant",
           metavar="IDS"),
    Option("skip", "judge every requirement but these (IDs or patterns, comma-separated)",
           metavar="IDS"),
    Option("max_examples", "examples of the stateful exploration (default: the profile's, "
           "100 for quick)", type=int, metavar="N"),
    Option("replays", "times each failure is replayed in its run to say whether it comes "
           "back (default: the profile's, 3; 1 for real-api; 0: none, and each finding says "
           "it was not replayed)", type=int, metavar="N"),
)


def add_options(parser: argparse.ArgumentParser, names: Iterable[str] | None = None) -> None:
    """The options named (all without `names`) as arguments of a command's parser."""
    chosen = OPTIONS if names is None else [o for o in OPTIONS if o.name in set(names)]
    for option in chosen:
        parser.add_argument(*option.flags, **option.parser_arguments())


def settings_from_options(values: Mapping[str, Any], environ: Mapping[str, str]) -> RunSettings:
    """RunSettings from parsed options, keyed by field name. An option that was not given
    falls back to its environment variable (OPENAI_BASE_URL, OPENAI_API_KEY), then to the
    RunSettings default."""
    given: dict[str, Any] = {}
    for option in OPTIONS:
        value = values.get(option.name)
        if value is None and option.env is not None:
            value = environ.get(option.env) or None
        if value is not None:
            given[option.name] = tuple(value) if option.repeat else value
    return RunSettings(**given)


def settings_for_a_report(values: Mapping[str, Any], environ: Mapping[str, str]) -> RunSettings:
    """As `settings_from_options`, for a command that acts on a report's target (`replay`,
    `cleanup`): $OPENAI_BASE_URL is not read, the report names its target."""
    return settings_from_options(values, {k: v for k, v in environ.items()
                                          if k != "OPENAI_BASE_URL"})
