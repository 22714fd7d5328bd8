"""Report writers (work in progress: full writers land shortly)."""

from __future__ import annotations

import json
from pathlib import Path

from conformance.results import RunReport

__all__ = ["write_reports"]


def write_reports(report: RunReport, out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.json"
    path.write_text(json.dumps(report.to_dict(), indent=2), encoding="utf-8")
    return {"json": path}
