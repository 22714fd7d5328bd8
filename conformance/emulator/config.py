"""`EmulatorConfig`: everything that chooses how an emulator instance behaves."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .body_stream import DEFAULT_BODY_TIMEOUT_S
from .clock import Clock
from .mutants import MUTANTS

DEFAULT_API_KEY = "sk-emulator"
DEFAULT_SWEEP_INTERVAL_S = 60.0
# An ended upload is still answered for (as completed, cancelled or expired) for this long
# after it ended; after it, it is forgotten, as an upload that never existed.
DEFAULT_RETENTION_S = 3600.0


@dataclass(frozen=True)
class EmulatorConfig:
    """How to run the emulator.

    api_key        the Bearer key every request must carry; None turns authentication off
    other_api_keys further keys it accepts, each its own tenant: what one key makes (uploads,
                   parts, files) is unknown to every other key, as another project's objects
                   are to an OpenAI key; `api_key`'s tenant also holds what was made before
                   there were several
    test_controls  serve the test-control extension under /v1/_conformance
    data_dir       where everything is kept, across restarts (metadata in SQLite, part data
                   in `parts/`); None means memory and a temporary directory, gone at exit
    mutant         the name of one fault to switch on (see `MUTANTS`), or None for none
    clock          the time source; None means the system clock
    body_timeout   seconds a request body may go without a byte before it is abandoned
                   (408, connection closed); None waits for ever
    sweep_interval seconds between background sweeps that delete the data of expired
                   uploads and files, and forget what is past `retention`
    retention      seconds an ended upload (completed, cancelled, expired) is still known
                   after it ended; then its records go (a completed upload's file stays
                   until it is deleted or expires)
    max_pending_uploads  at most this many pending uploads at once; a create beyond it is
                   refused 429 (None: no limit)
    max_connections      at most this many open connections (or requests in progress);
                   beyond it uvicorn answers 503 at once (None: no limit)
    max_disk_bytes       at most this many bytes of part data spooled; a part that would
                   pass it fails as on a full disk: 503 with Retry-After (None: no limit)
    """

    api_key: str | None = DEFAULT_API_KEY
    other_api_keys: tuple[str, ...] = ()
    test_controls: bool = False
    data_dir: Path | None = None
    mutant: str | None = None
    clock: Clock | None = None
    body_timeout: float | None = DEFAULT_BODY_TIMEOUT_S
    sweep_interval: float = DEFAULT_SWEEP_INTERVAL_S
    retention: float = DEFAULT_RETENTION_S
    max_pending_uploads: int | None = None
    max_connections: int | None = None
    max_disk_bytes: int | None = None

    @property
    def api_keys(self) -> tuple[str, ...]:
        """Every key accepted, `api_key` first (none when authentication is off)."""
        return () if self.api_key is None else (self.api_key, *self.other_api_keys)

    def __post_init__(self) -> None:
        object.__setattr__(self, "other_api_keys", tuple(self.other_api_keys))
        if self.other_api_keys and self.api_key is None:
            raise ValueError("other_api_keys need an api_key: authentication is off without")
        if not all(isinstance(key, str) and key.strip() == key and key
                   for key in self.api_keys):
            raise ValueError("an API key must be a non-empty string without spaces around it")
        if len(set(self.api_keys)) != len(self.api_keys):
            raise ValueError("the API keys must differ: each is its own tenant")
        if self.mutant is not None and self.mutant not in MUTANTS:
            names = ", ".join(sorted(MUTANTS))
            raise ValueError(f"unknown mutant {self.mutant!r}; known mutants: {names}")
        if self.data_dir is not None and not isinstance(self.data_dir, Path):
            object.__setattr__(self, "data_dir", Path(self.data_dir))
        if self.body_timeout is not None and not self.body_timeout > 0:
            raise ValueError(f"body_timeout must be positive, not {self.body_timeout}")
        if not self.sweep_interval > 0:
            raise ValueError(f"sweep_interval must be positive, not {self.sweep_interval}")
        if not self.retention >= 0:
            raise ValueError(f"retention must be 0 or more, not {self.retention}")
        for name in ("max_pending_uploads", "max_connections", "max_disk_bytes"):
            limit = getattr(self, name)
            if limit is not None and not limit > 0:
                raise ValueError(f"{name} must be positive, not {limit}")
