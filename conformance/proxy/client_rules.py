"""The client's side of an exchange: what its requests owe the document and the rules.

The proxy has no say in what a client sends, only a judgement of it, charged to the
client's own requirements (CLIENT-*), never to the server's: each request against the
project's OpenAPI document through the one request judge (`RequestJudge.problems`, which
holds a client, like an SDK, to every word of it); a part within 64 MiB; a completion
listing only parts of its upload, with the md5 of the listed parts' bytes as they went
through, in the listed order; and no request sent again after a refusal the server
marked final (`x-should-retry: false`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from conformance.api import ADD_PART, PART_LIMIT
from conformance.checks import Checker
from conformance.model import Model
from conformance.openapi.judge import Intended, default_judge
from conformance.proxy.observe import Observed

__all__ = ["ClientRules"]

CONFORMS: Final = "CLIENT-REQUEST-CONFORMS"
PART_SIZE: Final = "CLIENT-PART-SIZE"
PART_IDS: Final = "CLIENT-PART-IDS"
MD5: Final = "CLIENT-MD5-MATCHES"
NO_FINAL_RETRY: Final = "CLIENT-NO-FINAL-RETRY"

Name = Callable[[str], str]


class ClientRules:
    """Judges the client's requests (`base_url`: the proxy's, as the client uses it)."""

    def __init__(self, check: Checker, model: Model, base_url: Callable[[], str],
                 name: Name) -> None:
        self.check, self.model, self.base_url, self.name = check, model, base_url, name
        self._judge = default_judge()
        # (tenant, method, path) -> the request the target refused as final, and how
        self._final: dict[tuple[str, str, str], tuple[Any, str]] = {}

    def request(self, observed: Observed, what: str) -> None:
        """The request against the document; a part's size against the limit."""
        operation = observed.route.operation
        assert operation is not None
        problems = self._judge.problems(observed.sent,
                                        Intended(operation.id, observed.route.upload_id),
                                        self.base_url())
        self.check.expect(not problems, CONFORMS, f"{what}: {'; '.join(problems)}")
        if operation is ADD_PART and observed.part is not None:
            size = observed.part.size
            self.check.expect(size <= PART_LIMIT, PART_SIZE,
                              f"{what}: a part of {size} bytes, over the 64 MiB "
                              f"({PART_LIMIT} bytes) a part may hold")

    def completion(self, observed: Observed, upload_id: str) -> None:
        """part_ids name parts of the upload; the md5 is that of their bytes in order.
        Asked before the model records the completion, of an upload it follows."""
        body = observed.sent.json
        if not isinstance(body, dict) or not isinstance(body.get("part_ids"), list) \
                or not all(isinstance(p, str) for p in body["part_ids"]):
            return  # not a completion that can be read: CLIENT-REQUEST-CONFORMS says so
        part_ids: list[str] = body["part_ids"]
        owner = self.model.part_owner
        foreign = [p for p in part_ids if owner.get(p) != upload_id]
        if foreign:
            whose = f"a part of {self.name(owner[foreign[0]])}" if foreign[0] in owner else \
                "no part the target accepted"
            self.check.fail(PART_IDS, f"the completion of {self.name(upload_id)} lists "
                            f"{self.name(foreign[0])}, {whose}")
        self.check.ok(PART_IDS)
        md5 = body.get("md5")
        if not isinstance(md5, str) or len(set(part_ids)) != len(part_ids):
            return  # no md5 to judge (a part listed twice: which bytes it meant is open)
        right = self._md5_of(upload_id, part_ids)
        if right is None:
            return
        if md5.lower() == right:
            self.check.ok(MD5)
            return
        message = (f"the completion of {self.name(upload_id)} sends md5 {md5!r}, but the "
                   f"listed parts' bytes, in part_ids order, have md5 {right!r}")
        sent_order = [p for p in self.model.uploads[upload_id].parts if p in set(part_ids)]
        if sent_order != part_ids and self._md5_of(upload_id, sent_order) == md5.lower():
            message += (f": it is the md5 of the parts in the order they were sent "
                        f"({self._names(sent_order)}), not in the order listed "
                        f"({self._names(part_ids)})")
        self.check.fail(MD5, message)

    def retry(self, observed: Observed, fingerprint: Callable[[], Any], what: str) -> None:
        """A request the target refused as final is not sent again; checked when the
        client's next request to the same place comes. `fingerprint()`: what makes it the
        same request (asked only when it matters: hashing a part costs)."""
        sent = observed.sent
        key = (observed.tenant, sent.method, observed.route.upload_id or sent.url)
        earlier = self._final.pop(key, None)
        if earlier is not None:
            refused, how = earlier
            self.check.expect(fingerprint() != refused, NO_FINAL_RETRY,
                              f"{what} was sent again after the target refused it as "
                              f"final ({how})")
        if observed.status is not None and observed.status >= 400 and \
                (observed.header("x-should-retry") or "").strip().lower() == "false":
            self._final[key] = (fingerprint(), f"{observed.status}, x-should-retry: false")

    def _md5_of(self, upload_id: str, part_ids: list[str]) -> str | None:
        try:
            return self.model.right_md5(upload_id, part_ids)
        except LookupError:  # a part's bytes are gone from the spool: not judged
            return None

    def _names(self, ids: list[str]) -> str:
        return "[" + ", ".join(self.name(i) for i in ids) + "]"
