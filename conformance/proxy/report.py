"""The proxy's reports: what the judge recorded, in the suite's reports (and HAR).

The report is the suite's own (`reporting.build_report`, written by `report.writer`), from
a copy of the judge's recorder taken under its lock, so it can be written while traffic
goes on. The traffic decides what is judged: a requirement it never exercised is not
testable for that reason (the run's settings, not the suite's fault), and the verdict is
that of a partial run, never "conformant" on the strength of one client's requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from conformance import requirements
from conformance.evidence import redact_url
from conformance.proxy.judge import ProxyJudge
from conformance.recorder import Recorder
from conformance.report.writer import write_reports
from conformance.reporting import RunFacts, build_report, now_iso, redacted
from conformance.results import RunReport, Untested

__all__ = ["ProxyFacts", "proxy_report", "write_proxy_reports"]

SELECTION: Final = "the requirements the client's traffic through the proxy exercised"
UNEXERCISED: Final = "the traffic through the proxy did not exercise it"
_REASONS: Final = {
    "CONTENT-BYTES": "the client downloaded no completed file's content "
                     "(GET /files/{id}/content) through the proxy",
    "EXPIRY-ENFORCED": "an upload's hour would have to pass: the proxy waits for nothing",
    "RACE-LINEARIZABLE": "no completion or cancel overlapped another operation on its upload "
                         "(parts that overlap only each other are judged one by one, under "
                         "PART-PARALLEL)",
    "CLIENT-PART-IDS": "no completion of an upload the proxy saw created went through",
    "CLIENT-MD5-MATCHES": "no completion with an md5, of an upload the proxy saw created, "
                          "went through",
    "CLIENT-NO-FINAL-RETRY": "no refusal marked final (x-should-retry: false) was followed "
                             "by another request to the same place",
    "SCHEMA-RESPONSE": "the proxy holds answers to the oracle and the object shapes; the "
                       "document's answer schemas are checked by uploads-conformance run",
}
_SDK_REASON: Final = ("an SDK's results are judged by uploads-conformance run --sdk; the "
                      "proxy judges the requests of any client under CLIENT-*")


@dataclass(frozen=True, slots=True)
class ProxyFacts:
    upstream: str
    embedded: bool
    started_at: str
    started: float  # time.monotonic() at the start


def proxy_report(judge: ProxyJudge, facts: ProxyFacts, now: float,
                 secrets: tuple[str, ...]) -> RunReport:
    """The report of the traffic judged so far (call `judge.drain()` first)."""
    snapshot = Recorder()
    with judge.lock:
        snapshot.merge(judge.recorder.to_dict())
        errors = []
        if judge.internal_errors:
            errors.append(f"{judge.internal_errors} exchange(s) could not be judged: an "
                          "internal error of the proxy's judge (its log says which)")
    for requirement in requirements.CATALOG.values():
        if requirement.level is not requirements.Level.INFO:
            reason = _SDK_REASON if requirements.SDK in requirement.needs else \
                _REASONS.get(requirement.id, UNEXERCISED)
            snapshot.cannot_test(requirement.id, reason, Untested.SETTINGS)
    kind = "the embedded emulator" if facts.embedded else "external"
    report = build_report(snapshot, errors, RunFacts(
        target=redact_url(facts.upstream), target_kind=f"{kind}, behind the proxy",
        profile="proxy", seed=0, adapter="proxy (a client's own traffic)",
        started_at=facts.started_at or now_iso(), duration_s=round(now - facts.started, 1),
        selection=SELECTION))
    return redacted(report, *secrets)


def write_proxy_reports(report: RunReport, out_dir: Path,
                        secrets: tuple[str, ...]) -> dict[str, Path]:
    """The four reports and the HAR of the findings' exchanges, into `out_dir`."""
    return write_reports(report, out_dir, redact=secrets)
