"""What the state machine's steps meant to do, read from their draws alone.

The machine's preconditions ask this plan, never the model: the model moves with what the
target answered, and a precondition that read it would let a target that answers a replay
differently change which rules Hypothesis may draw, and so the shape of the draws
("Inconsistent data generation"). The plan moves with the draws only: an upload is planned
when a create rule runs, full when its parts were meant to add up, ended when a cancel or a
completion of it was sent. Against a conformant target it matches the model; where the
target broke something, a step the plan allows finds nothing to act on and does nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from conformance.choices import pick


@dataclass(slots=True)
class Planned:
    """One upload as the steps planned it."""

    declared: int
    added: int = 0
    ended: bool = False  # a completion or cancel of it was sent, or its hour passed

    @property
    def pending(self) -> bool:
        return not self.ended

    @property
    def full(self) -> bool:
        return self.added == self.declared

    @property
    def remaining(self) -> int:
        return self.declared - self.added


@dataclass(slots=True)
class Plan:
    uploads: list[Planned] = field(default_factory=list)  # in the order of the create rules

    def create(self, declared: int, added: int = 0) -> None:
        self.uploads.append(Planned(declared, added))

    def at(self, index: int) -> Planned | None:
        """The planned upload a step's index stands for (as `choices.pick` reads it)."""
        return pick(self.uploads, index)

    def ready(self) -> list[Planned]:
        return self._where(lambda u: u.pending and u.full)

    def partly_filled(self) -> list[Planned]:
        return self._where(lambda u: u.pending and not u.full)

    def finished(self) -> list[Planned]:
        return self._where(lambda u: u.ended)

    def pending(self) -> list[Planned]:
        return self._where(lambda u: u.pending)

    def with_parts(self) -> list[Planned]:
        return self._where(lambda u: u.added > 0)

    def end(self, planned: Planned | None) -> None:
        if planned is not None:
            planned.ended = True

    def let_an_hour_pass(self) -> None:
        for planned in self.uploads:
            planned.ended = True

    def _where(self, keep: Callable[[Planned], bool]) -> list[Planned]:
        return [u for u in self.uploads if keep(u)]
