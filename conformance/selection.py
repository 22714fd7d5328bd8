"""Which requirements a run judges: `--requirements` and `--skip`.

    --requirements 'COMPLETE-*,PART-SIZE-LIMIT'   judge only these
    --skip SCHEMA-NEGATIVE                        judge everything but this

Each item is a requirement ID or a shell-style pattern over IDs, matched without regard to
case; an item that names nothing in the catalog is an error (a typo must not quietly judge
nothing). The suite still sends what it always sends: the selection decides what is judged
and reported, so a left-out requirement neither fails the run nor stops an example. A run
with a selection is partial: it can pass its requirements, never call a target conformant.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass

from conformance import requirements

__all__ = ["EVERYTHING", "Selection", "describe"]


@dataclass(frozen=True, slots=True)
class Selection:
    """The requirements a run leaves out, each with the reason a report gives."""

    left_out: dict[str, str]
    described: str  # e.g. "--requirements COMPLETE-*", for the verdict; "" when everything

    @classmethod
    def parse(cls, only: str | None, skip: str | None) -> Selection:
        """The selection the two options make; ValueError (one line) for an item that
        matches no requirement."""
        catalog = list(requirements.CATALOG)
        left_out: dict[str, str] = {}
        if only:
            chosen = _matching(only, "--requirements", catalog)
            left_out.update((r, "not among --requirements") for r in catalog
                            if r not in chosen)
        if skip:
            for requirement in _matching(skip, "--skip", catalog):
                left_out[requirement] = "left out by --skip"
        if len(left_out) == len(catalog):
            raise ValueError("the selection leaves out every requirement")
        return cls(left_out, describe(only, skip))

    @property
    def partial(self) -> bool:
        return bool(self.left_out)


EVERYTHING = Selection({}, "")


def describe(only: str | None, skip: str | None) -> str:
    """The options as a report names them: "--requirements X --skip Y", or ""."""
    return " ".join(f"{flag} {value}" for flag, value in
                    (("--requirements", only), ("--skip", skip)) if value)


def _matching(items: str, option: str, catalog: Iterable[str]) -> set[str]:
    ids = list(catalog)
    found: set[str] = set()
    for item in filter(None, (part.strip() for part in items.split(","))):
        matched = fnmatch.filter(ids, item.upper())
        if not matched:
            close = difflib.get_close_matches(item.upper(), ids, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else \
                "; `uploads-conformance requirements` lists them"
            raise ValueError(f"{option}: {item!r} names no requirement{hint}")
        found.update(matched)
    if not found:
        raise ValueError(f"{option} names no requirement")
    return found
