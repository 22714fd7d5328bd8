"""The generated passes: schemathesis' coverage cases, Hypothesis fuzzing per operation, and
stateful sequences that follow the document's links. Every request goes through
`Session.send`, so each answer is evaluated the same way whichever pass made it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final, cast

import hypothesis
import hypothesis.errors
from hypothesis import HealthCheck, Phase, Verbosity
from schemathesis import Case, GenerationMode, Response
from schemathesis.core.errors import NoLinksFound
from schemathesis.generation.meta import CoverageScenario

from conformance.schema.cases import SOURCE, about, make_realistic, scenario, step
from conformance.schema.session import NoAnswer, OutOfTime, Session

log = logging.getLogger(__name__)

STATEFUL_STEPS: Final = 6


def coverage(session: Session) -> None:
    """Schemathesis' deterministic boundary values, positive and negative."""
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    for operation, op in session.operations.items():
        config = session.schema.config.generation_for(operation=op, phase="coverage")
        cases = session.schema.iter_coverage_cases(op, generation_modes=modes,
                                                   generation_config=config)
        try:
            for case in cases:
                if session.out_of_time():
                    return
                # Methods the document does not list are outside the API's contract.
                if scenario(case) is CoverageScenario.UNSPECIFIED_HTTP_METHOD:
                    continue
                live = session.aim_at_live_upload(case, operation)
                session.try_send(case, f"{SOURCE} coverage", [*live, f"coverage: {about(case)}"])
        except Exception as exc:  # a generator problem must not sink the whole run
            log.warning("coverage of %s stopped: %r", operation, exc)


def fuzz(session: Session, max_examples: int, seed: int | None) -> None:
    """Hypothesis-generated requests per operation, in positive then negative mode."""
    settings = hypothesis.settings(
        max_examples=max_examples, deadline=None, database=None, print_blob=False,
        phases=[Phase.explicit, Phase.generate], verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck))
    for operation, op in session.operations.items():
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if session.out_of_time():
                return
            test = settings(_fuzz_test(session, operation, op, mode))
            if seed is not None:
                test = hypothesis.seed(seed)(test)
            try:
                test()
            except hypothesis.errors.Unsatisfiable:
                # Nothing to negate (cancelUpload has no body; its ID is any string).
                log.debug("no %s requests can be generated for %s", mode.value, operation)
            except Exception as exc:  # a generator problem must not sink the whole run
                log.warning("fuzzing %s (%s) stopped: %r", operation, mode.value, exc)


def _fuzz_test(session: Session, operation: str, op: Any,
               mode: GenerationMode) -> Callable[[], None]:
    sent = 0
    source = f"{SOURCE} fuzzing ({mode.value})"

    @hypothesis.given(case=op.as_strategy(generation_mode=mode))
    def test(case: Case) -> None:
        nonlocal sent
        if session.out_of_time():
            return
        sent += 1
        # Every other request aims at a live upload, the rest at made-up IDs.
        live = session.aim_at_live_upload(case, operation) if sent % 2 else []
        if sent % 2:
            make_realistic(case)
        session.try_send(case, source, [*live, f"fuzzing: {about(case)}"])

    return cast(Callable[[], None], test)


def stateful(session: Session, max_examples: int, seed: int | None) -> None:
    """Sequences that follow the document's links (create -> part -> complete ...)."""
    # Documents without links (the public one) get links inferred by schemathesis.
    if session.out_of_time():
        return
    base: Any = session.schema.as_state_machine()

    class Workflow(base):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            self.trail: list[str] = []
            self.calls = 0

        def call(self, case: Case, **kwargs: Any) -> Response:
            if session.out_of_time():
                raise OutOfTime
            steps = list(self.trail)
            self.calls += 1
            if self.calls % 2:
                make_realistic(case)
            response = session.send(case, f"{SOURCE} stateful", steps)
            self.trail.append(step(case, response.status_code))
            return response

        def validate_response(self, response: Response, case: Case,
                              additional_checks: Any = None, **kwargs: Any) -> None:
            """Evaluated in `call`, where every answer is mapped to requirements."""

    settings = hypothesis.settings(
        max_examples=max(2, max_examples // 2), stateful_step_count=STATEFUL_STEPS,
        deadline=None, database=None, print_blob=False, phases=[Phase.generate],
        verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck))
    machine: Any = hypothesis.seed(seed)(Workflow) if seed is not None else Workflow
    try:
        machine.run(settings=settings)
    except (OutOfTime, NoAnswer, NoLinksFound) as exc:
        log.debug("stateful pass ended early: %r", exc)
    except Exception as exc:  # e.g. a request the client could not build
        log.warning("stateful pass stopped: %r", exc)
