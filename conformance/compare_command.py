"""`uploads-conformance compare A.json B.json ...`: runs side by side, and what changed.

Markdown goes to stdout; `--out DIR` writes compare.md and a self-contained compare.html
instead. A cell links to its run's report.html (beside the report.json), at the
requirement's anchor, relative to where the matrix is written. Exit 0 when the matrix was
written; 1 with `--fail-on-new` when a requirement fails in the head run that did not fail in
the base run (for CI comparing this week with last week); 2, with one line, when a report
cannot be read or fewer than two are given.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import jinja2

from conformance.compare import Cell, Change, Comparison, Row
from conformance.report.json_report import ReportError, load_report
from conformance.report.markdown import md_text
from conformance.report.writer import write_text_atomically

__all__ = ["add_compare_arguments", "compare_command", "render_compare_html",
           "render_compare_markdown"]

EXIT_WRITTEN, EXIT_NEWLY_FAILING = 0, 1  # an error is the command line's exit 2
DIFF_SECTIONS = (  # the diff view's sections, in the order a reader wants them
    (Change.NEWLY_FAILING, "Newly failing"),
    (Change.FIXED, "Fixed"),
    (Change.STILL_FAILING, "Still failing"),
    (Change.CHANGED, "Changed otherwise"),
)

# A cell's link: (column index, requirement ID) -> href, or None where there is no page.
Href = Callable[[int, str], "str | None"]


def add_compare_arguments(parser: argparse.ArgumentParser) -> None:
    # nargs="*": fewer than two reports is this command's one-line error, not argparse's.
    parser.add_argument("reports", type=Path, nargs="*", metavar="REPORT",
                        help="report.json files written by runs, one column each, in order")
    parser.add_argument("--base", type=Path, default=None, metavar="REPORT",
                        help="the run the diff starts from (default: the first given; one "
                             "not among REPORT becomes the first column)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="write compare.md and compare.html here instead of Markdown "
                             "to stdout")
    parser.add_argument("--only-differences", action="store_true",
                        help="show only the requirements on which the runs disagree")
    parser.add_argument("--fail-on-new", action="store_true",
                        help="exit 1 when a requirement fails in the last run that did not "
                             "fail in the base run")


def compare_command(args: argparse.Namespace) -> int:
    from conformance.cli import user_error

    paths: list[Path] = list(args.reports)
    base = 0
    if args.base is not None:
        matching = [i for i, p in enumerate(paths) if _same_file(p, args.base)]
        if matching:
            base = matching[0]
        else:
            paths.insert(0, args.base)
    if len(paths) < 2:
        return user_error(f"give at least two report.json files to compare ({len(paths)} given)",
                          "compare")
    try:
        reports = [load_report(path) for path in paths]
    except ReportError as exc:
        return user_error(str(exc), "compare")
    head = max(i for i in range(len(paths)) if i != base)
    comparison = Comparison.build(reports, base=base, head=head)
    where = args.out if args.out is not None else Path.cwd()
    href = _links(paths, where)
    markdown = render_compare_markdown(comparison, paths, href,
                                       only_differences=args.only_differences)
    if args.out is None:
        sys.stdout.write(markdown)
    else:
        html = render_compare_html(comparison, paths, href,
                                   only_differences=args.only_differences)
        try:
            args.out.mkdir(parents=True, exist_ok=True)
            write_text_atomically(args.out / "compare.md", markdown)
            write_text_atomically(args.out / "compare.html", html)
        except OSError as exc:
            return user_error(f"cannot write the comparison: {exc}", "compare")
        print(comparison.count_line())
        print(comparison.diff_line())
        print(args.out / "compare.md")
        print(args.out / "compare.html")
    if args.fail_on_new and comparison.newly_failing():
        return EXIT_NEWLY_FAILING
    return EXIT_WRITTEN


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return a == b


def _links(paths: list[Path], where: Path) -> Href:
    """Links to each run's report.html, relative to the folder the matrix is written to;
    none for a run whose report.html is not beside its report.json."""
    pages: list[str | None] = []
    for path in paths:
        page = path.parent / "report.html"
        if not page.is_file():
            pages.append(None)
            continue
        try:
            relative = Path(os.path.relpath(page.resolve(), where.resolve())).as_posix()
            pages.append(quote(relative, safe="/"))
        except ValueError:  # another drive (Windows): no relative path exists
            pages.append(page.resolve().as_uri())

    def href(column: int, requirement_id: str) -> str | None:
        page = pages[column]
        return None if page is None else f"{page}#req-{quote(requirement_id, safe='')}"

    return href


# --- Markdown -------------------------------------------------------------------------------


def render_compare_markdown(comparison: Comparison, paths: list[Path], href: Href, *,
                            only_differences: bool = False) -> str:
    """The comparison as Markdown: the count line, the diff, the runs, then the matrix."""
    columns = comparison.columns
    lines = [f"# Comparing {len(columns)} runs", "", f"**{md_text(comparison.count_line())}**",
             "", f"## Diff: {md_text(comparison.diff_line())}", ""]
    for change, title in DIFF_SECTIONS:
        rows = comparison.changed(change)
        lines.append(f"- **{title} ({len(rows)})**" + ("" if rows else ": none"))
        lines += [f"  - {_md_diff_row(comparison, row)}" for row in rows]
    lines += ["", "## Runs", "", "| run | target | adapter | profile | started | verdict | "
              "report |", "|---|---|---|---|---|---|---|"]
    for column, path in zip(columns, paths, strict=True):
        cells = [column.label, column.target, column.adapter, column.profile, column.started,
                 f"{column.verdict}: {column.counts}", str(path)]
        lines.append("| " + " | ".join(md_text(cell) for cell in cells) + " |")
    rows = comparison.ordered(only_differences=only_differences)
    which = "where the runs differ" if only_differences else "where the runs differ first (≠)"
    lines += ["", f"## Requirements, {which}", ""]
    if not rows:
        lines.append("The runs agree on every requirement.")
    else:
        lines += ["| requirement | level | " + " | ".join(c.label for c in columns) + " |",
                  "|---|---|" + "---|" * len(columns)]
        for row in rows:
            mark = "≠ " if row.differs else ""
            # Links only where a reader looks (a difference, a failure): a terminal shows
            # the raw text, and 49 rows of links drown the statuses.
            cells = [_md_cell(cell, href(i, row.id) if row.differs or cell.failing else None)
                     for i, cell in enumerate(row.cells)]
            lines.append(f"| {mark}{md_text(row.id)} | {md_text(row.level)} | "
                         + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _md_diff_row(comparison: Comparison, row: Row) -> str:
    base, head = row.cells[comparison.base], row.cells[comparison.head]
    # What the head run says of it: its failure, why it was not tested; a pass says nothing.
    tail = f": {md_text(head.message)}" if head.message and head.status != "pass" else ""
    return (f"{md_text(row.id)} ({md_text(row.level)}): {md_text(base.status)} → "
            f"{md_text(head.status)}{tail}")


def _md_cell(cell: Cell, link: str | None) -> str:
    label = md_text(cell.label)
    if link is not None and cell.present:
        label = f"[{label}]({link})"
    return f"**{label}**" if cell.failing else label


# --- HTML -----------------------------------------------------------------------------------

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("conformance.report", "templates"),
    autoescape=True,  # report content is untrusted: every value reaches the page as text
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_compare_html(comparison: Comparison, paths: list[Path], href: Href, *,
                        only_differences: bool = False) -> str:
    """compare.html: one self-contained page (inline CSS, no script, nothing fetched)."""
    template = _ENV.get_template("compare.html.j2")
    return template.render(
        comparison=comparison, paths=[str(p) for p in paths], href=href,
        rows=comparison.ordered(only_differences=only_differences),
        only_differences=only_differences,
        sections=[(title, comparison.changed(change)) for change, title in DIFF_SECTIONS],
        fixed=Change.FIXED)
