"""Before a run against an external target: can it be tested at all?

A run whose every request is refused tests nothing, and its failures would blame the
target for a mistake of the user's (a rotated CI secret, a base URL without `/v1`). Three
cheap requests tell, and each answer that shows such a mistake ends the run before it
starts, exit 2, with the likely cause:

- the target answers at all (`TargetClient.check_reachable`);
- it takes the key: cancelling an upload that was never issued is refused for the ID by
  a target that takes the key, and only one that refuses the key answers 401;
- the base URL is the API's: a create with an empty body is refused for its body (a 4xx,
  400 as documented) where the route exists; 404 or 405 means there is no such route.
"""

from __future__ import annotations

from conformance.api import CANCEL, CREATE
from conformance.client import TargetClient, TargetUnreachable
from conformance.client.connection import Connection
from conformance.halt import RunHalted

__all__ = ["NotTestable", "check_target"]

_NEVER_ISSUED = "upload_uploads_conformance_key_check"


class NotTestable(ValueError):
    """The target cannot be tested with these settings; the message says why, in one line."""


def check_target(base_url: str, api_key: str | None, *, timeout: float,
                 connection: Connection) -> None:
    """NotTestable with the likely cause when a run against `base_url` would test nothing."""
    try:
        with TargetClient(base_url, api_key, max_retries=1, timeout=timeout,
                          connection=connection) as client:
            client.check_reachable()
            if api_key is not None:
                _check_key_accepted(client)
            _check_base_path(client)
    except TargetUnreachable as error:
        raise NotTestable(str(error)) from None
    except RunHalted as stopped:  # it wasted the budget before any test, or a signal
        raise NotTestable(f"the target could not be tested: {stopped}") from None


def _check_key_accepted(client: TargetClient) -> None:
    answer = client.request("POST", CANCEL.path(_NEVER_ISSUED))
    if answer.status == 401:
        raise NotTestable(
            "the target refused the API key with 401 (a request with it to "
            f"{CANCEL.path('upload_…')}): check --api-key or OPENAI_API_KEY; nothing was tested")


def _check_base_path(client: TargetClient) -> None:
    answer = client.request("POST", CREATE.path(), json={})
    if answer.status in (401, 403):  # a create with any key, well formed or not, is a 400
        why = "asks for an API key" if answer.status == 401 else \
            "refuses the key (forbidden: a key without the permission, or in the wrong header)"
        raise NotTestable(
            f"the target answered {answer.status} to POST {client.display_url}"
            f"{CREATE.path()}: it {why}; check --api-key or OPENAI_API_KEY and "
            "--auth-header; nothing was tested")
    if answer.status in (404, 405):
        raise NotTestable(
            f"the target answered {answer.status} to POST {client.display_url}"
            f"{CREATE.path()}: there is no Uploads API at this base URL; check --base-url "
            "(it ends where the API's paths begin, usually in /v1); nothing was tested")
