"""Several runs side by side: one column per run, one row per requirement, and what changed.

`Comparison.build(reports)` lays the runs out as a matrix (the way wpt.fyi lays out browsers)
and diffs two of them, the base and the head (by default the first and the last): each
requirement is newly failing, fixed, still failing, changed otherwise, or unchanged. It reads
no files and renders nothing: `conformance.compare_command` does both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from conformance.report.view import clip, printable, status_label, verdict_status
from conformance.results import Outcome, RequirementResult, RunReport

__all__ = ["ABSENT", "Cell", "Change", "Column", "Comparison", "Row", "adapter_description"]

ABSENT = "absent"  # the status of a requirement a run does not list (an older catalog)
MESSAGE_CHARS = 300  # of a cell's message: a tooltip or a diff line, not the evidence
LISTED_IN_COUNT_LINE = 10  # requirements named in the count line before "and N more"


class Change(StrEnum):
    """What happened to a requirement between the base run and the head run."""

    NEWLY_FAILING = "newly failing"  # fails in the head, did not fail in the base
    FIXED = "fixed"  # failed in the base, passes in the head
    STILL_FAILING = "still failing"
    CHANGED = "changed"  # any other difference, e.g. pass -> not testable, fail -> accepted
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class Column:
    """One run, as the header of its column says it."""

    label: str  # "run 1": short, the details below
    target: str  # the base URL and its kind
    adapter: str  # "http (httpx 0.29.0)", "openai-python (openai (Python) 1.54.0)"
    profile: str
    started: str  # "2026-12-03 11:34 UTC"
    verdict: str  # CONFORMANT, NOT CONFORMANT, RUN FAILED, ...
    counts: str  # "33 pass, 1 fail, 9 info, 6 not testable"
    report: RunReport


@dataclass(frozen=True, slots=True)
class Cell:
    """One requirement in one run."""

    status: str  # pass, fail, fail (accepted), info, not testable, absent
    label: str  # as report.html says it: PASS, FAIL, FAIL (accepted), ..., and "—" if absent
    css: str  # pass, fail, accepted, info, not-testable, absent
    message: str  # the first failure, the reason it was not tested, or an observation

    @property
    def present(self) -> bool:
        return self.status != ABSENT

    @property
    def failing(self) -> bool:
        """A failure that counts: one accepted by a baseline does not."""
        return self.status == Outcome.FAIL.value


@dataclass(frozen=True, slots=True)
class Row:
    """One requirement across every run, and its change from the base to the head."""

    id: str
    level: str
    title: str
    cells: tuple[Cell, ...]
    change: Change

    @property
    def differs(self) -> bool:
        """The runs disagree on it (any two of them, not just the base and the head)."""
        return len({cell.status for cell in self.cells}) > 1

    @property
    def transition(self) -> str:
        """The statuses in column order: "pass → fail → pass"."""
        return " → ".join(cell.status for cell in self.cells)


@dataclass(frozen=True, slots=True)
class Comparison:
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]  # in catalog order: the first run's, then any the others add
    base: int  # index of the base column in the diff
    head: int

    @classmethod
    def build(cls, reports: Sequence[RunReport], *, base: int = 0,
              head: int = -1) -> Comparison:
        """The matrix of `reports` (at least two), diffing reports[base] with reports[head]."""
        if len(reports) < 2:
            raise ValueError("a comparison needs at least two runs")
        base, head = base % len(reports), head % len(reports)
        if base == head:
            raise ValueError("the base and the head of a comparison must be different runs")
        columns = tuple(_column(f"run {n}", report) for n, report in enumerate(reports, 1))
        indexed = [{r.id: r for r in report.requirements} for report in reports]
        order = list(dict.fromkeys(r.id for report in reports for r in report.requirements))
        rows = []
        for requirement_id in order:
            results = [by_id.get(requirement_id) for by_id in indexed]
            first = next(r for r in results if r is not None)
            cells = tuple(_cell(r) for r in results)
            rows.append(Row(requirement_id, first.level, first.title, cells,
                            _change(cells[base], cells[head])))
        return cls(columns, tuple(rows), base, head)

    def differing(self) -> list[Row]:
        return [row for row in self.rows if row.differs]

    def ordered(self, *, only_differences: bool = False) -> list[Row]:
        """The matrix's rows: those where the runs disagree first, each group in catalog
        order; only those with `only_differences`."""
        agreeing = [] if only_differences else [row for row in self.rows if not row.differs]
        return self.differing() + agreeing

    def changed(self, change: Change) -> list[Row]:
        return [row for row in self.rows if row.change is change]

    def newly_failing(self) -> list[Row]:
        return self.changed(Change.NEWLY_FAILING)

    def count_line(self) -> str:
        """ "2 requirements differ: COMPLETE-MD5 (pass → fail), ..." or that none does."""
        rows = self.differing()
        if not rows:
            return f"No requirement differs across the {len(self.columns)} runs."
        named = ", ".join(f"{row.id} ({row.transition})" for row in rows[:LISTED_IN_COUNT_LINE])
        more = len(rows) - LISTED_IN_COUNT_LINE
        tail = f", and {more} more" if more > 0 else ""
        noun = "requirement differs" if len(rows) == 1 else "requirements differ"
        return f"{len(rows)} {noun}: {named}{tail}"

    def diff_line(self) -> str:
        """ "run 1 → run 3: 1 newly failing, 0 fixed, 0 still failing, 2 changed otherwise" """
        counts = ", ".join(f"{len(self.changed(change))} {change.value}"
                           for change in (Change.NEWLY_FAILING, Change.FIXED,
                                          Change.STILL_FAILING, Change.CHANGED))
        return (f"{self.columns[self.base].label} → {self.columns[self.head].label}: "
                f"{counts} otherwise")


def _change(base: Cell, head: Cell) -> Change:
    if head.failing and not base.failing:
        return Change.NEWLY_FAILING
    if base.failing and head.failing:
        return Change.STILL_FAILING
    if base.failing and head.status == Outcome.PASS.value:
        return Change.FIXED
    # fail -> not testable is no fix: nothing showed that the target does it right now.
    return Change.CHANGED if base.status != head.status else Change.UNCHANGED


def _cell(result: RequirementResult | None) -> Cell:
    if result is None:
        return Cell(ABSENT, "—", "absent", "not in this run's catalog")
    label = status_label(result)
    accepted = result.status is Outcome.FAIL and result.baseline
    css = "accepted" if accepted else result.status.value.replace("_", "-")
    if result.failures:
        message = result.failures[0].message
    elif result.status is Outcome.NOT_TESTABLE:
        message = result.not_testable_reason
    else:
        message = "; ".join(result.observations)
    return Cell(label.lower(), label, css, printable(clip(" ".join(message.split()),
                                                          MESSAGE_CHARS)))


def _column(label: str, report: RunReport) -> Column:
    summary = report.summary()
    counts = ", ".join(f"{summary[o.value]} {o.value.replace('_', ' ')}" for o in Outcome)
    # "embedded emulator (mutant X)" says it all; "http://host/v1 (external)" needs both.
    kind = report.target_kind
    target = kind if report.target in kind else \
        report.target if not kind else f"{report.target} ({kind})"
    return Column(label=label, target=target, adapter=adapter_description(report),
                  profile=report.profile, started=_started(report.started_at),
                  verdict=verdict_status(report), counts=counts, report=report)


def adapter_description(report: RunReport) -> str:
    """The adapter and the version of what it drives: the SDK's, or httpx's for plain HTTP."""
    versions = report.versions
    if "sdk" in versions or "sdk_version" in versions:
        sdk = " ".join(filter(None, (versions.get("sdk"), versions.get("sdk_version"))))
        return f"{report.adapter} ({sdk})"
    if "httpx" in versions:
        return f"{report.adapter} (httpx {versions['httpx']})"
    return report.adapter


def _started(started_at: str) -> str:
    try:
        moment = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
    except ValueError:
        return started_at  # shown as written: a date nobody can parse still tells something
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M") + (" UTC" if moment.tzinfo else "")
