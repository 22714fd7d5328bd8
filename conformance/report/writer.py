"""Writing the reports of a run into a folder, each file whole or not at all."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from conformance.evidence import Redactor
from conformance.report.har import render_har
from conformance.report.html import render_html
from conformance.report.json_report import dump_json
from conformance.report.junit import render_junit
from conformance.report.markdown import render_markdown
from conformance.results import RunReport

__all__ = ["FORMATS", "RENDERED", "write_reports", "write_text_atomically"]

# format name -> (file name, renderer)
FORMATS: dict[str, tuple[str, Callable[[RunReport], str]]] = {
    "json": ("report.json", dump_json),
    "junit": ("junit.xml", render_junit),
    "markdown": ("report.md", render_markdown),
    "html": ("report.html", render_html),
    "har": ("exchanges.har", render_har),
}
RENDERED = ("junit", "markdown", "html", "har")  # what `uploads-conformance report` writes again


def write_reports(report: RunReport, out_dir: Path, *, redact: Iterable[str | None] = (),
                  formats: Iterable[str] = tuple(FORMATS)) -> dict[str, Path]:
    """Write the reports into `out_dir` (created if needed); returns format -> path.

    `redact` names secrets (the API key) to scrub from every file as a last line of
    defence: the client already keeps them out of exchanges, but a check's message might
    quote an answer that echoed one.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    redactors = [Redactor(secret) for secret in redact if secret]
    written: dict[str, Path] = {}
    for name in formats:
        filename, render = FORMATS[name]
        text = render(report)
        for redactor in redactors:
            text = redactor.text(text)
        path = out_dir / filename
        write_text_atomically(path, text)
        written[name] = path
    return written


def write_text_atomically(path: Path, text: str) -> None:
    """`text` into `path` whole or not at all: a reader never sees half a file."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; reports are for sharing
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
