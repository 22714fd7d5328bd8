"""The judge of what went through the proxy: the client's requests and the server's answers.

Exchanges arrive from the proxy's event loop (`started`, `ended`), grouped into bursts of
overlapping operations on one upload (`bursts.Bursts`), and are judged on a thread of the
judge's own, one burst after another, so forwarding never waits for a judgement and two
judgements never interleave (the oracle and the recorder are not shared between threads;
reports read them under `lock`). Each exchange is judged on both sides: the client's
requests (`client_rules`, CLIENT-*) and the server's answers (`server_rules`, the suite's
oracle and checker). A broken requirement becomes a finding with the upload's steps, its
exchanges (each with a curl line) and goes to the `Recorder`; the judge goes on. A fault
of the judge's own is logged, and the traffic never hears of it.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any, Final

from conformance import api
from conformance.checks import Checker
from conformance.model import Model
from conformance.openapi.judge import Judgement, default_judge
from conformance.proxy.bursts import Bursts, judge_history
from conformance.proxy.client_rules import ClientRules
from conformance.proxy.observe import Observed
from conformance.proxy.server_rules import ServerRules
from conformance.proxy.spool import Spool
from conformance.recorder import ConformanceFailure, Recorder
from conformance.results import Exchange

__all__ = ["ProxyJudge"]

logger = logging.getLogger("conformance.proxy")

EVIDENCE_EXCHANGES: Final = 8  # a finding carries its upload's last exchanges
SOURCE: Final = "uploads-conformance proxy"
_PART_FREE = object()  # the fingerprint of a request with no part in it


class _Story:
    """One upload's steps and exchanges (or one lone request's), a finding's evidence."""

    def __init__(self) -> None:
        self.steps: list[str] = []
        self.exchanges: list[Exchange] = []


class ProxyJudge:
    def __init__(self, spool: Spool, base_url: Callable[[], str],
                 say: Callable[[str], None]) -> None:
        self.recorder = Recorder()
        self.lock = threading.Lock()
        self.spool, self.say = spool, say
        self.model = Model(digest=spool.md5)
        self._evidence: list[Exchange] = []
        self.check = Checker(self.recorder, lambda: list(self._evidence))
        self.alias: dict[str, str] = {}
        self.seen_ids: set[str] = set()
        self.client = ClientRules(self.check, self.model, base_url, self.name)
        self.server = ServerRules(self.check, self.model, spool, self._new_id, self.name)
        self.stories: dict[str, _Story] = {}
        self.judged = self.unfollowed = self.internal_errors = 0
        self._bursts = Bursts(self._queue_burst)
        self._queue: queue.Queue[list[Observed] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="proxy-judge", daemon=True)
        self._thread.start()

    # --- from the event loop -----------------------------------------------------------------

    def started(self, observed: Observed) -> None:
        self._bursts.started(observed)

    def ended(self, observed: Observed) -> None:
        self._bursts.ended(observed)

    def _queue_burst(self, burst: list[Observed]) -> None:
        self._queue.put(burst)

    # --- the judge's thread ---------------------------------------------------------------

    def drain(self) -> None:
        """Returns once every burst handed over so far is judged."""
        self._queue.join()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(30)

    def _work(self) -> None:
        while (burst := self._queue.get()) is not None:
            try:
                with self.lock:
                    self._judge(burst)
            except Exception:  # the judge's own fault: logged, the proxy goes on
                self.internal_errors += 1
                logger.exception("judging an exchange failed")
            finally:
                for observed in burst:  # a part the model did not keep leaves the spool
                    if observed.part is not None and not self._kept(observed):
                        self.spool.discard([observed.part])
                self._queue.task_done()
        self._queue.task_done()

    def _judge(self, burst: Sequence[Observed]) -> None:
        operations = {o.route.operation for o in burst}
        upload_id = burst[0].route.upload_id
        followed = upload_id is not None and self.server.followed(burst[0]) is not None
        if len(burst) > 1 and operations != {api.ADD_PART} and followed:
            assert upload_id is not None
            for observed in burst:
                self._client_side(observed)
            self._guarded(upload_id, lambda: judge_history(self.check, self.model, upload_id,
                                                            burst, self.name))
            self._lose(upload_id)  # which order won is not followed further
            return
        for observed in burst:
            self._one(observed, parallel=len(burst) > 1)

    def _one(self, observed: Observed, parallel: bool) -> None:
        operation, route = observed.route.operation, observed.route
        if route.file_id is not None:
            made = self.server.files.get(route.file_id)
            upload = self.name(made.upload_id) if made is not None else repr(route.file_id)
            self._story(observed, f"download the file of {upload}",
                        made.upload_id if made is not None else None)
            self._guarded(None, lambda: self.server.download(observed))
            return
        if operation is None or observed.client_left:
            return  # not an Uploads operation (or not a whole one): forwarded, not judged
        self.judged += 1
        reading = self._reading(observed)
        upload_id = route.upload_id
        if operation is api.CREATE:
            story = self._story(observed, f"create({_short(observed.sent.json)})")
            self._client_side(observed)
            created = self._guarded(None, lambda: self.server.create(observed, reading))
            if isinstance(created, str):
                self.stories[created] = story
                story.steps[-1] = f"{self.name(created)} = {story.steps[-1]}"
            return
        assert upload_id is not None
        followed = self.server.followed(observed) is not None
        if not followed:
            self.unfollowed += 1
        self._story(observed, self._step(observed))
        self._client_side(observed, upload_id if followed else None)
        if not followed:
            return
        if operation is api.ADD_PART:
            self._guarded(upload_id, lambda: self.server.add_part(observed, reading, parallel))
        elif operation is api.COMPLETE:
            self._guarded(upload_id, lambda: self.server.complete(observed, reading))
        else:
            self._guarded(upload_id, lambda: self.server.cancel(observed, reading))

    def _client_side(self, observed: Observed, followed: str | None = None) -> None:
        what = f"{observed.sent.method} {_path(observed.sent.url)}"
        self._guarded(None, lambda: self.client.request(observed, what))
        if observed.route.operation is api.COMPLETE and followed is not None:
            self._guarded(None, lambda: self.client.completion(observed, followed))
        self._guarded(None, lambda: self.client.retry(
            observed, lambda: self._fingerprint(observed), what))

    # --- findings ---------------------------------------------------------------------------

    def _guarded(self, upload_id: str | None, judge: Callable[[], Any]) -> Any:
        """Runs one judgement; a broken requirement becomes a finding (and the model stops
        following an upload whose server broke a rule: what it holds is no longer known)."""
        try:
            return judge()
        except ConformanceFailure as failure:
            for finding in failure.to_findings(SOURCE):
                self.recorder.failed(finding)
                self.say(f"        ! {finding.requirement}: {finding.message}")
            if upload_id is not None and not failure.requirement.startswith("CLIENT-"):
                self._lose(upload_id)
            return None

    def _lose(self, upload_id: str) -> None:
        """The model stops following the upload; its parts' bytes leave the spool."""
        self.model.lose_track(upload_id)
        upload = self.model.uploads.get(upload_id)
        if upload is not None:
            self.server.ended(upload)

    def _story(self, observed: Observed, step: str, upload_id: str | None = None) -> _Story:
        story = self.stories.get(upload_id or observed.route.upload_id or "") or _Story()
        status = "no answer" if observed.status is None else str(observed.status)
        story.steps.append(f"{step} -> {status}")
        story.exchanges.append(observed.exchange)
        self._evidence = story.exchanges[-EVIDENCE_EXCHANGES:]
        self.check.current_steps = story.steps
        return story

    def _step(self, observed: Observed) -> str:
        operation, upload = observed.route.operation, self.name(observed.route.upload_id or "")
        body = observed.sent.json
        if operation is api.ADD_PART and observed.part is not None:
            return f"{api.ADD_PART.step_word} of {observed.part.size} bytes to {upload}"
        if operation is api.ADD_PART:
            return f"send a part request with no 'data' file ({observed.sent.body_size} " \
                   f"bytes of body) to {upload}"
        if operation is api.COMPLETE and isinstance(body, dict):
            ids = body.get("part_ids")
            listed = "[" + ", ".join(self.name(str(i)) for i in ids) + "]" \
                if isinstance(ids, list) else repr(ids)
            md5 = f", md5={body['md5']!r}" if "md5" in body else ""
            return f"{api.COMPLETE.step_word} {upload} with part_ids {listed}{md5}"
        word = operation.step_word if operation is not None else observed.sent.method
        return f"{word} {upload}"

    # --- names and IDs ----------------------------------------------------------------------

    def name(self, target_id: str) -> str:
        return self.alias.get(target_id, repr(target_id))

    def _new_id(self, issued: str, kind: str) -> None:
        self.check.expect(issued not in self.seen_ids, "IDS-UNIQUE",
                          f"the new {kind}'s ID {issued!r} was issued before")
        self.seen_ids.add(issued)
        prefix = kind[0]
        self.alias[issued] = f"{prefix}{sum(1 for v in self.alias.values() if v[0] == prefix) + 1}"

    def _kept(self, observed: Observed) -> bool:
        upload = self.model.uploads.get(observed.route.upload_id or "")
        return upload is not None and any(p.content is observed.part
                                          for p in upload.parts.values())

    def _fingerprint(self, observed: Observed) -> Any:
        """What makes a request the same request again: its body (a part's by its bytes)."""
        sent = observed.sent
        if observed.part is None:
            return (sent.json_text, sent.body_size, _PART_FREE)
        try:
            return (observed.part.size, self.spool.md5([observed.part]))
        except LookupError:
            return (observed.part.size, observed.number)

    @staticmethod
    def _reading(observed: Observed) -> Judgement:
        operation = observed.route.operation
        assert operation is not None
        return default_judge().judge(operation.id, observed.sent)


def _short(body: Any) -> str:
    text = repr(body)
    return text if len(text) <= 160 else text[:157] + "..."


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[-1].partition("/")[2].split("?")[0]

