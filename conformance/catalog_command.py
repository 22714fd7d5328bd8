"""`uploads-conformance requirements`: the requirement catalog, printed.

Each requirement with its level, area, title and source, what a target must offer for it to
be testable (`Requirement.needs`) and the emulator's mutants that prove the suite catches
it (their `caught_by`), as a Markdown table or as JSON.
"""

from __future__ import annotations

import argparse
import json
import textwrap
from typing import Any

from conformance.requirements import CATALOG, NEEDS, Level, Requirement

FIELDS_HELP = """\
JSON: a list, in catalog order, of objects with these keys:
  id       the requirement's stable ID, e.g. COMPLETE-MD5
  level    MUST (a failure is non-conformance), SHOULD (reported) or INFO (observed)
  area     the part of the API it is about: create, parts, complete, ...
  title    the rule, in one or two sentences
  source   where the rule comes from (api-ref, openapi, sdk, rule N of docs/rules.md)
  needs    what the target or the run must offer for it to be testable (a list of names,
           below); without it the requirement is reported not testable, never failed
  mutants  the emulator's mutants this requirement must catch (a list of names)

needs:
""" + "\n".join(textwrap.fill(text, 88, initial_indent=f"  {name:<16}",
                               subsequent_indent=" " * 18) for name, text in NEEDS.items())


def add_requirements_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = FIELDS_HELP
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown",
                        help="a Markdown table (default) or JSON (keys below)")
    parser.add_argument("--level", choices=[level.value for level in Level], default=None,
                        help="only the requirements of this level")


def requirements_command(args: argparse.Namespace) -> int:
    chosen = [r for r in CATALOG.values() if args.level is None or r.level.value == args.level]
    proving = provers()
    if args.format == "json":
        print(json.dumps([entry(r, proving) for r in chosen], indent=2))
    else:
        print(render_markdown(chosen, proving), end="")
    return 0


def provers() -> dict[str, list[str]]:
    """Each requirement ID and the mutants that name it, in the kill matrix's order."""
    # The suite may read the emulator's mutants; only the reverse is forbidden.
    from conformance.emulator.mutants import CAUGHT_BY

    found: dict[str, list[str]] = {}
    for mutant, caught_by in CAUGHT_BY.items():
        for requirement in caught_by:
            found.setdefault(requirement, []).append(mutant)
    return found


def entry(requirement: Requirement, proving: dict[str, list[str]]) -> dict[str, Any]:
    """One requirement as the JSON object the --help documents."""
    return {"id": requirement.id, "level": requirement.level.value, "area": requirement.area,
            "title": requirement.title, "source": requirement.source,
            "needs": list(requirement.needs), "mutants": proving.get(requirement.id, [])}


def render_markdown(chosen: list[Requirement], proving: dict[str, list[str]]) -> str:
    lines = ["| ID | level | area | title | source | needs | mutants |",
             "|---|---|---|---|---|---|---|"]
    for r in chosen:
        cells = [r.id, r.level.value, r.area, r.title, r.source, ", ".join(r.needs) or "-",
                 ", ".join(proving.get(r.id, [])) or "-"]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    used = [name for name in NEEDS if any(name in r.needs for r in chosen)]
    if used:
        lines += ["", "Needs:", ""] + [f"- `{name}`: {NEEDS[name]}" for name in used]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")  # a pipe in a title would split its cell
