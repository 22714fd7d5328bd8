"""`EmulatorConfig`: everything that chooses how an emulator instance behaves."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .body_stream import DEFAULT_BODY_TIMEOUT_S
from .clock import Clock
from .mutants import MUTANTS

DEFAULT_API_KEY = "sk-emulator"
DEFAULT_SWEEP_INTERVAL_S = 60.0


@dataclass(frozen=True)
class EmulatorConfig:
    """How to run the emulator.

    api_key        the Bearer key every request must carry; None turns authentication off
    test_controls  serve the test-control extension under /v1/_conformance
    data_dir       where everything is kept, across restarts (metadata in SQLite, part data
                   in `parts/`); None means memory and a temporary directory, gone at exit
    mutant         the name of one fault to switch on (see `MUTANTS`), or None for none
    clock          the time source; None means the system clock
    body_timeout   seconds a request body may go without a byte before it is abandoned
                   (408, connection closed); None waits for ever
    sweep_interval seconds between background sweeps that delete the data of expired
                   uploads and files
    """

    api_key: str | None = DEFAULT_API_KEY
    test_controls: bool = False
    data_dir: Path | None = None
    mutant: str | None = None
    clock: Clock | None = None
    body_timeout: float | None = DEFAULT_BODY_TIMEOUT_S
    sweep_interval: float = DEFAULT_SWEEP_INTERVAL_S

    def __post_init__(self) -> None:
        if self.mutant is not None and self.mutant not in MUTANTS:
            names = ", ".join(sorted(MUTANTS))
            raise ValueError(f"unknown mutant {self.mutant!r}; known mutants: {names}")
        if self.data_dir is not None and not isinstance(self.data_dir, Path):
            object.__setattr__(self, "data_dir", Path(self.data_dir))
        if self.body_timeout is not None and not self.body_timeout > 0:
            raise ValueError(f"body_timeout must be positive, not {self.body_timeout}")
        if not self.sweep_interval > 0:
            raise ValueError(f"sweep_interval must be positive, not {self.sweep_interval}")
