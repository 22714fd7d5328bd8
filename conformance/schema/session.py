"""The schema checks' conversation with a target: send a case, evaluate the answer.

A `Session` holds what every pass shares: the HTTP session, the deadline, a pending upload
that path operations can aim at (so their requests reach body validation), the uploads the
checks created (cancelled at the end, so nothing is left pending on the target) and the
findings. `send` records an answer that never came as NO-SERVER-ERROR; the HTTP session's
transport (`bounded.py`) ends an answer that is endless or drips, so such answers count too.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter
from typing import Any
from urllib.parse import quote

import requests
from schemathesis import Case, Response

from conformance import halt
from conformance.client.connection import DIRECT, Connection
from conformance.client.liveness import address_of, gone_after, target_gone
from conformance.evidence import Redactor
from conformance.openapi.judge import default_judge
from conformance.schema.bounded import NO_ANSWER, mount_bounded
from conformance.schema.cases import (
    LIVE_UPLOAD,
    PATH_OPERATIONS,
    live_step,
    operation_id,
    operation_id_of,
)
from conformance.schema.evaluate import Evaluator
from conformance.schema.exchanges import SchemaEvidence
from conformance.schema.findings import Findings

log = logging.getLogger(__name__)


class SchemaRunError(RuntimeError):
    """The schema-driven run could not be done (document unreadable, target unreachable)."""


class NoAnswer(Exception):
    """The target gave no usable answer (recorded); ends a stateful scenario."""


class OutOfTime(Exception):
    """The time budget is spent; ends a stateful scenario."""


class Session:
    def __init__(self, schema: Any, base_url: str, api_key: str | None, timeout_s: float,
                 deadline: float, connection: Connection = DIRECT):
        self.schema = schema
        self.base_url = base_url
        self.api_key = api_key
        self.connection = connection
        self.timeout_s = timeout_s
        self.deadline = deadline
        self.http = _http_session(connection)
        redactor = Redactor(api_key, *connection.secrets())
        self.findings = Findings(redactor)
        self.evidence = SchemaEvidence(base_url, api_key, redactor, connection.auth_name)
        self.evaluator = Evaluator(self.findings, self.evidence, default_judge())
        self.operations = {operation_id_of(op): op for op in _operations(schema)}
        # Where to ask, after a request without an answer, whether the target died of it;
        # not through a proxy, whose port would answer for it.
        self._address = address_of(base_url) if connection.proxy is None else None
        self._live: str | None = None
        self._live_failures = 0
        self.sent: Counter[str] = Counter()  # requests per pass, for the log
        self.created: set[str] = set()  # uploads the target created for these checks

    def out_of_time(self) -> bool:
        return time.monotonic() > self.deadline

    def auth(self) -> dict[str, str]:
        return self.auth_with(self.api_key) if self.api_key else {}

    def auth_with(self, key: str) -> dict[str, str]:
        """The header that carries `key` (the run's, or a wrong one on purpose)."""
        return dict([self.connection.auth(key)])

    def preflight(self) -> None:
        try:
            self.http.post(f"{self.base_url}/uploads", json={}, headers=self.auth(),
                           timeout=self.timeout_s)
        except NO_ANSWER as exc:
            raise SchemaRunError(f"the target at {self.base_url} gave no usable answer: "
                                 f"{type(exc).__name__}") from exc

    # -- the pending upload path operations aim at -----------------------------------------

    def live_upload(self) -> str | None:
        """A pending upload for the path operations, so requests reach body validation."""
        if self._live is None and self._live_failures < 3 and not self.out_of_time():
            try:
                answer = self.http.post(f"{self.base_url}/uploads", json=LIVE_UPLOAD,
                                        headers=self.auth(), timeout=self.timeout_s)
                upload_id = answer.json().get("id") if answer.status_code == 200 else None
            except (requests.RequestException, ValueError, AttributeError):
                upload_id = None
            if isinstance(upload_id, str):
                self._live = upload_id
            else:
                self._live_failures += 1
        return self._live

    def aim_at_live_upload(self, case: Case, operation: str) -> list[str]:
        """Point a path operation at a pending upload; returns the step that made it."""
        if operation in PATH_OPERATIONS and "upload_id" in case.path_parameters:
            upload_id = self.live_upload()
            if upload_id is not None:
                case.path_parameters = {**case.path_parameters, "upload_id": upload_id}
                return [live_step(upload_id)]
        return []

    def _retire_if_spent(self, case: Case, status: int) -> None:
        if case.path_parameters.get("upload_id") != self._live:
            return
        ended = operation_id(case) in ("completeUpload", "cancelUpload") and status < 300
        if ended or status in (404, 409, 410):
            self._live = None

    def _remember_created(self, response: Response) -> None:
        try:
            body = response.json() if response.status_code < 300 else None
        except ValueError:
            return
        if isinstance(body, dict) and body.get("object") == "upload" and \
                body.get("status") == "pending" and isinstance(body.get("id"), str):
            self.created.add(body["id"])

    def close(self) -> None:
        """Leaves nothing pending on the target: cancels every upload these checks made."""
        try:
            for upload_id in sorted(self.created | ({self._live} if self._live else set())):
                with contextlib.suppress(requests.RequestException):
                    self.http.post(f"{self.base_url}/uploads/{quote(upload_id, safe='')}/cancel",
                                   headers=self.auth(), timeout=self.timeout_s)
        finally:
            self.http.close()  # a stopped run (RunHalted) cancels nothing, but closes

    # -- sending -----------------------------------------------------------------------------

    def send(self, case: Case, source: str, steps: list[str],
             headers: dict[str, str] | None = None) -> Response:
        """Send a case and evaluate the answer; raises `NoAnswer` when there is none."""
        halt.check()  # before schemathesis prepares anything: a stopped run sends nothing
        headers = self.auth() if headers is None else headers
        try:
            # A redirect is an answer to evaluate, as the suite's own client takes it;
            # schemathesis would verify TLS its own way, not as the session says.
            response = case.call(base_url=self.base_url, headers=dict(headers),
                                 session=self.http, timeout=self.timeout_s,
                                 allow_redirects=False, verify=self.http.verify)
        except NO_ANSWER as exc:
            error = f"{type(exc).__name__}: {str(exc)[:300]}"
            self.findings.failed(
                "NO-SERVER-ERROR", operation_id(case), f"no answer: {type(exc).__name__}",
                f"no usable answer ({error})",
                lambda: self.evidence.exchange(case, None, headers, error=error), steps, source)
            if self._address is not None and self.sent.total() \
                    and target_gone(self._address):  # it answered before: it died of this
                halt.halt(gone_after(self.evidence.exchange(case, None, headers, error=error)))
            raise NoAnswer(error) from exc
        self.sent[source] += 1
        self._remember_created(response)
        self._retire_if_spent(case, response.status_code)
        self.evaluator.evaluate(case, response, source, steps, headers)
        return response

    def try_send(self, case: Case, source: str, steps: list[str]) -> None:
        try:
            self.send(case, source, steps)
        except NoAnswer:
            pass  # recorded as NO-SERVER-ERROR
        except (requests.RequestException, ValueError) as exc:
            # A request the client itself cannot build (e.g. an unencodable URL): not the
            # target's fault, so nothing to report about it.
            log.debug("skipped a case schemathesis could not send: %s", exc)


def _http_session(connection: Connection) -> requests.Session:
    http = requests.Session()
    # Nothing from the environment: requests would let $REQUESTS_CA_BUNDLE override
    # --cacert, route through $HTTPS_PROXY, and add ~/.netrc credentials. The suite's own
    # client takes none of them either; --proxy and --cacert say it.
    http.trust_env = False
    mount_bounded(http)  # a deadline per exchange and a cap on every answer body
    http.headers.update(dict(connection.headers))
    http.params = dict(connection.query)
    if connection.insecure:
        http.verify = False
    elif connection.cacert is not None:
        http.verify = str(connection.cacert)
    if connection.proxy is not None:
        http.proxies = {"http": connection.proxy, "https": connection.proxy}
    return http


def _operations(schema: Any) -> list[Any]:
    operations = []
    for result in schema.get_all_operations():
        try:
            operations.append(result.ok())
        except Exception as exc:  # an operation schemathesis cannot read
            raise SchemaRunError(f"the OpenAPI document has an unusable operation: {exc}") from exc
    return operations
