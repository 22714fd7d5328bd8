"""What an SDK, in the version at hand, offers of the Uploads API: its `Capabilities`.

Read from the SDK itself, never from a table of versions (which would rot): the Python
SDK's client object is inspected (`client.uploads`, its `upload_file_chunked`, the
parameters of `uploads.create`), a driver says it in its ready message (`lacks`, and the
operations it lists; docs/sdk-drivers.md). A driver that says nothing offers the full set.

What an SDK lacks is not testable, named with the version ("openai-python 1.40.8 has no
upload_file_chunked"), never a failure; an SDK without the Uploads API at all cannot be
tested, and the run stops before it starts (`NoUploadsApi`, exit status 2).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any, Final

from conformance.adapters.base import Capabilities

__all__ = ["CHUNKED_HELPER", "DRIVER_FEATURES", "EXPIRES_AFTER", "PYTHON_SDK", "UPLOADS_API",
           "NoUploadsApi", "from_driver", "no_uploads_message", "of_python_client",
           "python_sdk_problem", "takes"]

PYTHON_SDK: Final = "openai-python"
# The features a requirement may need, as a driver names them in `lacks`.
UPLOADS_API: Final = "uploads"
CHUNKED_HELPER: Final = "upload_file_chunked"
EXPIRES_AFTER: Final = "expires_after"
DRIVER_FEATURES: Final = (UPLOADS_API, EXPIRES_AFTER)
_UPLOAD_METHODS: Final = ("create", "complete", "cancel")


class NoUploadsApi(ImportError):
    """The SDK has no Uploads API: a run through it can test nothing (exit status 2)."""


def takes(method: Any, parameter: str) -> bool:
    """Whether an SDK method has a parameter of that name."""
    try:
        parameters = inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False
    return parameter in parameters


def of_python_client(client: Any, version: str) -> Capabilities:
    """The capabilities of a built `openai.OpenAI` (or `AsyncOpenAI`) client.

    Older versions set `uploads` on the client in its constructor, newer ones make it a
    cached property: asking the built client covers both.
    """
    label = f"{PYTHON_SDK} {version}"
    uploads: Any = getattr(client, "uploads", None)
    has_api = hasattr(uploads, "parts") and all(
        callable(getattr(uploads, name, None)) for name in _UPLOAD_METHODS)
    if not has_api:
        return Capabilities(uploads=False, sdk=True, label=label, expires_after=False)
    return Capabilities(chunked_upload=callable(getattr(uploads, CHUNKED_HELPER, None)),
                        expires_after=takes(uploads.create, EXPIRES_AFTER), sdk=True,
                        label=label)


def no_uploads_message(capabilities: Capabilities) -> str:
    return (f"{capabilities.label} has no Uploads API (client.uploads): upgrade the SDK "
            "(pip install 'uploads-conformance[sdk]')")


def python_sdk_problem(openai: Any) -> str | None:
    """Why the installed `openai` module cannot run the suite's operations; None if it can.

    A throwaway client, never used to send anything, is built to be inspected.
    """
    http_client = openai.DefaultHttpxClient()
    try:
        client = openai.OpenAI(api_key="inspection-only", base_url="http://127.0.0.1:9/v1",
                               http_client=http_client, max_retries=0)
        capabilities = of_python_client(client, str(openai.__version__))
    finally:
        http_client.close()
    return None if capabilities.uploads else no_uploads_message(capabilities)


def from_driver(sdk: str, version: str, operations: Iterable[str],
                lacks: Iterable[str]) -> Capabilities:
    """A driver's capabilities from its ready message: its operations, what it `lacks`."""
    missing = set(lacks)
    return Capabilities(chunked_upload=CHUNKED_HELPER in set(operations),
                        expires_after=EXPIRES_AFTER not in missing,
                        uploads=UPLOADS_API not in missing, sdk=True, label=f"{sdk} {version}")
