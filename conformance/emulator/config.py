"""`EmulatorConfig`: everything that chooses how an emulator instance behaves."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .clock import Clock
from .mutants import MUTANTS

DEFAULT_API_KEY = "sk-emulator"


@dataclass(frozen=True)
class EmulatorConfig:
    """How to run the emulator.

    api_key        the Bearer key every request must carry; None turns authentication off
    test_controls  serve the test-control extension under /v1/_conformance
    data_dir       where part data is spooled; None means a temporary directory
    mutant         the name of one fault to switch on (see `MUTANTS`), or None for none
    clock          the time source; None means the system clock
    """

    api_key: str | None = DEFAULT_API_KEY
    test_controls: bool = False
    data_dir: Path | None = None
    mutant: str | None = None
    clock: Clock | None = None

    def __post_init__(self) -> None:
        if self.mutant is not None and self.mutant not in MUTANTS:
            names = ", ".join(sorted(MUTANTS))
            raise ValueError(f"unknown mutant {self.mutant!r}; known mutants: {names}")
        if self.data_dir is not None and not isinstance(self.data_dir, Path):
            object.__setattr__(self, "data_dir", Path(self.data_dir))
