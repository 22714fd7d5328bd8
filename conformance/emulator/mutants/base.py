"""`Mutant`: the clean rules with one named fault."""

from __future__ import annotations

from typing import ClassVar

from ..rules import Rules


class Mutant(Rules):
    """The rules with one fault: `name` and `description` say which."""

    name: ClassVar[str]
    description: ClassVar[str]
