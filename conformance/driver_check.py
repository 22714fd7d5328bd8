"""`uploads-conformance driver-check 'COMMAND'`: a self-test for authors of SDK drivers.

Starts the driver (split as `--sdk-driver` splits it) against the embedded emulator with a
fresh key, and checks the protocol of docs/sdk-drivers.md one point at a time: the ready
message, each operation (part bytes compared with what the emulator stored), an error
answer, an unknown operation, concurrent requests, and shutdown. One line a check, PASS or
FAIL with why and what to fix. Exit 0 all passed, 1 one failed, 2 the driver never started.
The driver is spoken to through `driver_pipe.Connection`, the run's own pipe.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import secrets
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any, Final

import httpx

from conformance.adapters.driver import FOUR_OPERATIONS, INLINE_PART_LIMIT, PROTOCOL_VERSION
from conformance.adapters.driver_pipe import Connection, DriverError, temporary_file
from conformance.adapters.driver_users import lost_answer_problem
from conformance.driver_check_harness import (
    CheckFailed,
    DriverHarness,
    error_of,
    result_of,
    short,
    upload_body,
)
from conformance.emulator.config import EmulatorConfig
from conformance.emulator.server import EmulatorServer

__all__ = ["add_driver_check_arguments", "driver_check_command"]

KNOWN_LACKS: Final = ("uploads", "expires_after")
EXIT_SECONDS: Final = 5.0  # "a few seconds" to exit once asked
_MIB: Final = 1024 * 1024


# -- the checks, in the order they run --

def check_ready(c: DriverHarness, ready: dict[str, Any]) -> str:
    problems = []
    if ready.get("type") != "ready":
        problems.append(f"its type is {ready.get('type')!r}, not 'ready'")
    for field in ("sdk", "version"):
        if not isinstance(ready.get(field), str):
            problems.append(f"{field} is not a string")
    if ready.get("protocol", PROTOCOL_VERSION) != PROTOCOL_VERSION:
        problems.append(f"protocol is {ready.get('protocol')!r}, not {PROTOCOL_VERSION}")
    operations = ready.get("operations")
    if operations is not None and not (isinstance(operations, list)
                                       and all(isinstance(op, str) for op in operations)):
        problems.append("operations is not a list of names")
    elif operations is not None:
        missing = [op for op in FOUR_OPERATIONS if op not in operations]
        if missing:
            problems.append(f"operations lacks {', '.join(missing)} (the four are required)")
    lacks = ready.get("lacks", [])
    if not isinstance(lacks, list) or any(item not in KNOWN_LACKS for item in lacks):
        problems.append(f"lacks is {lacks!r}: a list of {', '.join(KNOWN_LACKS)}")
    elif "uploads" in lacks:
        problems.append("it lacks the Uploads API: a run would stop at once")
    if problems:
        raise CheckFailed(f"{'; '.join(problems)} (fix the ready message: {short(ready)})")
    offered = ", ".join(operations or FOUR_OPERATIONS)
    return f"{ready['sdk']} {ready['version']}, offers {offered}"


def check_create(c: DriverHarness) -> str:
    body = upload_body("created-by-driver.bin", 3)
    result = result_of(c.call("create", {"body": body}), "create")
    if not isinstance(result.get("id"), str) or result.get("bytes") != 3 \
            or result.get("filename") != body["filename"]:
        raise CheckFailed(f"its result is not the upload the emulator made: {short(result)} "
                          "(return the SDK's result as JSON, unchanged)")
    try:  # the emulator holds it: a part added by plain HTTP is accepted
        c.http_part(result["id"], b"abc")
    except httpx.HTTPError:
        raise CheckFailed(f"the emulator has no usable upload {result['id']!r}") from None
    return f"made {result['id']}"


def check_part(c: DriverHarness, data: bytes) -> str:
    """A part through the driver; the emulator then assembles it and checks its md5."""
    upload_id = c.new_upload(len(data))
    args: dict[str, Any] = {"upload_id": upload_id, "size": len(data), "filename": "part.bin"}
    with _part_file(data, args):
        result = result_of(c.call("add_part", args), "add_part")
    if not isinstance(result.get("id"), str):
        raise CheckFailed(f"its result has no part id: {short(result)}")
    answer = c.http_complete(upload_id, [result["id"]], hashlib.md5(data).hexdigest())
    if answer.status_code != 200:
        raise CheckFailed(f"the emulator holds other bytes than were sent (completing with "
                          f"their md5 was refused, {answer.status_code}); send the part's "
                          f"bytes exactly, as read from {_how(args)}")
    return f"{len(data)} bytes arrived intact ({_how(args)})"


@contextmanager
def _part_file(data: bytes, args: dict[str, Any]) -> Iterator[None]:
    """Sets the part's bytes in `args` as the run does: inline up to the limit, else a path."""
    if len(data) <= INLINE_PART_LIMIT:
        args["data_base64"] = base64.b64encode(data).decode("ascii")
        yield
        return
    with temporary_file([data]) as path:
        args["path"] = path
        yield


def _how(args: dict[str, Any]) -> str:
    return "a temporary file, args.path" if "path" in args else "args.data_base64"


def check_empty_part(c: DriverHarness) -> str:
    upload_id = c.new_upload(1)
    reply = c.call("add_part", {"upload_id": upload_id, "size": 0, "filename": "part.bin",
                                "data_base64": ""})
    if reply.get("ok") is True:
        result_of(reply, "add_part")
        return "the emulator's answer came back as a result"
    error = error_of(reply, "add_part")
    if not isinstance(error.get("status"), int):
        raise CheckFailed(f"the empty part never reached the emulator: {short(error)} "
                          "(send an empty part as any other)")
    return f"the emulator's refusal came back ({error['status']})"


def check_complete(c: DriverHarness) -> str:
    data = b"completed by the driver"
    upload_id = c.new_upload(len(data))
    part_id = c.http_part(upload_id, data)
    result = result_of(c.call("complete", {"upload_id": upload_id, "body": {
        "part_ids": [part_id], "md5": hashlib.md5(data).hexdigest()}}), "complete")
    if result.get("status") != "completed" or not isinstance(result.get("file"), dict):
        raise CheckFailed(f"its result is not the completed upload: {short(result)} (pass "
                          "body, part_ids and md5, to the SDK's complete unchanged)")
    return "completed, with its md5"


def check_cancel(c: DriverHarness) -> str:
    upload_id = c.new_upload(3)
    result = result_of(c.call("cancel", {"upload_id": upload_id}), "cancel")
    if result.get("status") != "cancelled":
        raise CheckFailed(f"its result is not the cancelled upload: {short(result)}")
    after = c.http.post(f"uploads/{upload_id}/parts",
                        files={"data": ("part.bin", b"abc", "application/octet-stream")})
    if after.status_code == 200:
        raise CheckFailed("the emulator still takes parts: the cancel never reached it")
    return "cancelled"


def check_refusal(c: DriverHarness) -> str:
    expected = c.http.post("uploads/upload_none_such/cancel")
    error = error_of(c.call("cancel", {"upload_id": "upload_none_such"}), "a refused cancel")
    problems = []
    if error.get("status") != expected.status_code:
        problems.append(f"status is {error.get('status')!r}, the emulator's "
                        f"{expected.status_code}")
    body = error.get("body")
    inner = body.get("error", body) if isinstance(body, dict) else None
    if not isinstance(inner, dict) or not isinstance(inner.get("message"), str):
        problems.append(f"body is {short(body)}, not the error envelope's error object")
    if problems:
        raise CheckFailed(f"{'; '.join(problems)} (report the SDK's exception: class, "
                          "status, body)")
    return f"{error['class']}, status {error['status']}, with the error body"


def check_lost_answer(c: DriverHarness) -> str:
    reply = c.call("create", {"body": upload_body("lost.bin", 1),
                              "users_client": {"lose_first_answer": True}})
    problem = lost_answer_problem(reply)
    if problem is not None:
        raise CheckFailed(problem)
    return f"the first answer withheld; {len(reply['http'])} request(s) sent in all"


def check_unknown(c: DriverHarness) -> str:
    error = error_of(c.call("no_such_operation", {}), "an unknown operation")
    if error["class"] != "Unsupported":
        raise CheckFailed(f"its class is {error['class']!r}: answer an operation you do not "
                          "run with class Unsupported")
    result_of(c.call("create", {"body": upload_body("after-unknown.bin", 1)}), "create")
    return "answered Unsupported, and went on working"


def check_concurrent(c: DriverHarness) -> str:
    """Two creates in flight at once: each reply must carry its own request's id."""
    driver = c.live()
    replies: dict[str, Any] = {}

    def send(name: str) -> None:
        try:
            replies[name] = driver.request(
                {"op": "create", "args": {"body": upload_body(name, 1)}}, c.timeout, "create")
        except DriverError as error:
            replies[name] = error

    names = ("first.bin", "second.bin")
    threads = [threading.Thread(target=send, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name in names:
        if isinstance(replies[name], DriverError):
            raise replies[name]
        result = result_of(replies[name], "create")
        if result.get("filename") != name:
            raise CheckFailed(f"the reply to the create of {name} holds "
                              f"{result.get('filename')!r}: repeat each request's id in "
                              "its own reply")
    return "each reply answered its own request"


def check_bye(c: DriverHarness, exit_seconds: float) -> str:
    driver = c.live()
    c.driver = None  # whatever happens, this driver is done
    try:
        driver.notify({"type": "bye"})
        return _exited(driver, "the bye message", exit_seconds)
    finally:
        driver.close()


def check_end_of_stdin(c: DriverHarness, exit_seconds: float) -> str:
    driver, _ = c.start()
    try:
        driver.close_stdin()
        return _exited(driver, "the end of its stdin", exit_seconds)
    finally:
        driver.close()


def _exited(driver: Connection, cause: str, seconds: float) -> str:
    status = driver.exit_status(seconds)
    if status is None:
        raise CheckFailed(f"still running {seconds:g} s after {cause} (finish what is "
                          "running, then exit)")
    if status != 0:
        raise CheckFailed(f"exited with status {status} after {cause}, not 0")
    return f"exited with status 0 after {cause}"


def driver_check(command: str, timeout: float, write: Callable[[str], None], *,
                 exit_seconds: float = EXIT_SECONDS) -> int:
    api_key = "sk-check-" + secrets.token_hex(16)
    with EmulatorServer(EmulatorConfig(api_key=api_key)) as server:
        c = DriverHarness(command, server.base_url, api_key, timeout, write)
        try:
            try:
                c.driver, c.ready = c.start()
            except DriverError as error:
                print(f"uploads-conformance driver-check: error: the driver could not be "
                      f"started: {' '.join(str(error).split())}", file=sys.stderr)
                return 2
            c.check("ready message", lambda: check_ready(c, c.ready))
            offered = c.ready.get("operations") or FOUR_OPERATIONS
            if "create" in offered:
                c.check("create", lambda: check_create(c))
            if "add_part" in offered:
                for name, data in (("every byte value, 256 bytes", bytes(range(256))),
                                   ("1 MiB, inline", bytes(range(256)) * (_MIB // 256)),
                                   ("1 MiB + 1 byte, as a file", b"\xff" + b"\x00" * _MIB)):
                    c.check(f"add_part: {name}", partial(check_part, c, data))
                c.check("add_part: an empty part", lambda: check_empty_part(c))
            if "complete" in offered:
                c.check("complete", lambda: check_complete(c))
            if "cancel" in offered:
                c.check("cancel", lambda: check_cancel(c))
                c.check("error answer", lambda: check_refusal(c))
            if c.ready.get("users_client"):
                c.check("users' client: a lost answer", lambda: check_lost_answer(c))
            c.check("unknown operation", lambda: check_unknown(c))
            c.check("concurrent requests", lambda: check_concurrent(c))
            c.check("shutdown: bye", lambda: check_bye(c, exit_seconds))
            c.check("shutdown: end of stdin", lambda: check_end_of_stdin(c, exit_seconds))
        finally:
            c.close()
    write(f"{c.failed} check(s) failed" if c.failed else "every check passed")
    return 1 if c.failed else 0


def add_driver_check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("driver", metavar="COMMAND",
                        help="the driver's command, split as a shell would (no shell)")
    parser.add_argument("--timeout", type=float, default=20.0, metavar="S",
                        help="seconds to wait for each answer (default 20)")


def driver_check_command(args: argparse.Namespace) -> int:
    return driver_check(args.driver, args.timeout, lambda line: print(line, flush=True))
