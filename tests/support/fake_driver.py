"""A stand-in SDK driver for the driver protocol's tests: raw HTTP as its "SDK".

Run as `python fake_driver.py --mode MODE [--report-http] [--pid-file PATH]` (the file gets
its process ID, for tests that look at the process from outside). `good` speaks the protocol
(docs/sdk-drivers.md) correctly; the other modes are the failures the suite must survive:
a driver that exits, prints garbage, stays silent, dies on an operation, answers in the
wrong shape or with an id it was never sent, or an "SDK" that mislabels its exceptions,
sends parts under the wrong form field, or raises an error of its own on create (`raises`:
a TypeError before sending anything, its traceback on stderr). `--lacks FEATURE` says in
the ready message what the "SDK" lacks; `--users-client` offers a users' client whose
"SDK" sends again, once, a request whose answer was lost (`empty-retry`: a part again
with no bytes, as a stream the first attempt consumed). For `driver-check`'s tests:
`garbles-binary` flips a bit of each part's first byte, `dies-on-unknown` exits on an
unknown operation, `no-exit` ignores the bye and the end of stdin.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
import threading
import time
from typing import Any
from urllib.parse import quote

import httpx

CLASSES = {400: "BadRequestError", 401: "AuthenticationError", 403: "PermissionDeniedError",
           404: "NotFoundError", 409: "ConflictError", 422: "UnprocessableEntityError",
           429: "RateLimitError"}
_write = threading.Lock()


def send(message: dict[str, Any]) -> None:
    with _write:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()


def request_for(client: httpx.Client, op: str, args: dict[str, Any], field: str
                ) -> tuple[httpx.Request, dict[str, Any]]:
    upload = quote(str(args.get("upload_id", "")), safe="")
    if op == "create":
        return client.build_request("POST", "uploads", json=args["body"]), {
            "kind": "text", "text": json.dumps(args["body"])}
    if op == "complete":
        return client.build_request("POST", f"uploads/{upload}/complete", json=args["body"]), {
            "kind": "text", "text": json.dumps(args["body"])}
    if op == "cancel":
        return client.build_request("POST", f"uploads/{upload}/cancel"), {"kind": "none"}
    if op == "add_part":
        if "path" in args:
            with open(args["path"], "rb") as file:
                data = file.read()
        else:
            data = base64.b64decode(args["data_base64"])
        if field == "garbled" and data:  # `garbles-binary`: one bit of the part flipped
            data, field = bytes([data[0] ^ 1]) + data[1:], "data"
        files = {field: (args.get("filename", "part.bin"), data, "application/octet-stream")}
        form = {"kind": "form", "fields": [
            {"name": field, "filename": args.get("filename", "part.bin"),
             "content_type": "application/octet-stream", "size": len(data),
             "md5": hashlib.md5(data).hexdigest()}]}
        return client.build_request("POST", f"uploads/{upload}/parts", files=files), form
    raise ValueError(op)


def exchange(client: httpx.Client, request: httpx.Request, body: dict[str, Any]
             ) -> tuple[httpx.Response | None, dict[str, Any]]:
    report: dict[str, Any] = {"method": request.method, "url": str(request.url),
                              "headers": dict(request.headers), "body": body, "status": None,
                              "response_headers": {}, "response_body": "", "error": None}
    started = time.perf_counter()
    try:
        response = client.send(request)
    except httpx.HTTPError as error:
        report["error"] = f"{type(error).__name__}: {error}"
        return None, report
    report.update(status=response.status_code, response_headers=dict(response.headers),
                  response_body=response.text, duration_s=time.perf_counter() - started)
    return response, report


def operate(client: httpx.Client, message: dict[str, Any], options: argparse.Namespace) -> None:
    op, args = message.get("op"), message.get("args") or {}
    if op not in ("create", "add_part", "complete", "cancel", "upload_file_chunked"):
        if options.mode == "dies-on-unknown":
            sys.stderr.write(f"unknown operation {op}\n")
            sys.stderr.flush()
            os._exit(6)
        send({"id": message["id"], "ok": False,
              "error": {"class": "Unsupported", "status": None, "message": f"no {op}"}})
        return
    field = {"wrong-field": "file", "garbles-binary": "garbled"}.get(options.mode, "data")
    if options.mode == "raises" and op == "create":
        # An SDK that fails before sending: its traceback (with the key in it) on stderr.
        sys.stderr.write(f"Traceback: create(api_key={options.api_key}): expires_after?\n")
        sys.stderr.flush()
        raised = {"id": message["id"], "ok": False, "error": {
            "class": "TypeError", "status": None,
            "message": f"create() got an unexpected keyword argument 'expires_after' "
                       f"(client key {options.api_key})"}}
        send(raised | ({"http": []} if options.report_http else {}))
        return
    reply: dict[str, Any] = {"id": message["id"]}
    if op == "upload_file_chunked":
        response, reports = chunked(client, args, field)
    else:
        response, report = exchange(client, *request_for(client, op, args, field))
        reports = [report]
        if (args.get("users_client") or {}).get("lose_first_answer"):
            # The users' client of an "SDK" that retries once what it did not hear back.
            reply["withheld"] = 0
            again = {**args, "data_base64": ""} if options.mode == "empty-retry" else args
            response, report = exchange(client, *request_for(client, op, again, field))
            reports.append(report)
    if options.report_http:
        reply["http"] = reports
    if response is None:
        reply.update(ok=False, error={"class": "APIConnectionError", "status": None,
                                      "message": reports[-1]["error"]})
        send(reply)
        return
    try:
        parsed = response.json()
    except ValueError:
        parsed = None
    if 200 <= response.status_code < 300:
        reply.update(ok=True, result=parsed)
    else:
        status = response.status_code
        name = "NotFoundError" if options.mode == "mislabel" else \
            "InternalServerError" if status >= 500 else CLASSES.get(status, "APIStatusError")
        inner = parsed.get("error", parsed) if isinstance(parsed, dict) else parsed
        reply.update(ok=False, error={"class": name, "status": status, "body": inner,
                                      "message": response.text[:200]})
    send(reply)


def chunked(client: httpx.Client, args: dict[str, Any], field: str
            ) -> tuple[httpx.Response | None, list[dict[str, Any]]]:
    """The "SDK's" chunked upload helper: create, parts in order, complete."""
    with open(args["path"], "rb") as file:
        data = file.read()
    body = {k: args[k] for k in ("filename", "mime_type", "purpose")} | {"bytes": len(data)}
    response, report = exchange(client, *request_for(client, "create", {"body": body}, field))
    reports = [report]
    if response is None or response.status_code != 200:
        return response, reports
    upload, part_ids = response.json()["id"], []
    size = args.get("part_size", 64 * 1024 * 1024)  # none given: the "SDK's" default
    for at in range(0, len(data), size):
        encoded = base64.b64encode(data[at : at + size]).decode()
        response, report = exchange(client, *request_for(
            client, "add_part", {"upload_id": upload, "data_base64": encoded}, field))
        reports.append(report)
        if response is None or response.status_code != 200:
            return response, reports
        part_ids.append(response.json()["id"])
    finish = {"part_ids": part_ids} | ({"md5": args["md5"]} if "md5" in args else {})
    response, report = exchange(client, *request_for(
        client, "complete", {"upload_id": upload, "body": finish}, field))
    return response, [*reports, report]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="good")
    parser.add_argument("--report-http", action="store_true")
    parser.add_argument("--chunked", action="store_true", help="offer upload_file_chunked")
    parser.add_argument("--pid-file", help="write this process's ID to this file")
    parser.add_argument("--lacks", action="append", default=[],
                        help="a feature the ready message says the SDK lacks")
    parser.add_argument("--users-client", action="store_true",
                        help="offer a users' client, which retries a lost answer once")
    options = parser.parse_args()
    if options.pid_file:
        with open(options.pid_file, "w") as file:
            file.write(str(os.getpid()))
    if options.mode == "exit":
        sys.stderr.write("boom: the SDK could not be loaded\n")
        return 3
    if options.mode in ("garbage", "silent"):
        if options.mode == "garbage":
            print("Starting the fake driver, version 1.0 ...", flush=True)
        time.sleep(60)
        return 0
    client: httpx.Client | None = None
    for line in sys.stdin:
        message = json.loads(line)
        if message.get("type") == "hello":
            if options.mode == "not-ready":
                send({"type": "hi there"})
                continue
            if options.mode == "leak":
                sys.stderr.write(f"config: api_key={message['api_key']}\n")
                return 5
            options.api_key = message["api_key"]
            client = httpx.Client(base_url=message["base_url"] + "/",
                                  headers={"Authorization": f"Bearer {message['api_key']}"},
                                  timeout=message["timeout_s"], trust_env=False)
            operations = ["create", "add_part", "complete", "cancel"]
            if options.chunked:
                operations.append("upload_file_chunked")
            send({"type": "ready", "protocol": 1, "sdk": "fake-sdk", "version": "0.1",
                  "operations": operations,
                  "http": options.report_http, "generic_error": "APIStatusError"}
                 | ({"lacks": options.lacks} if options.lacks else {})
                 | ({"users_client": True} if options.users_client else {}))
        elif message.get("type") == "bye":
            if options.mode == "no-exit":
                continue
            return 0
        elif options.mode == "die-on-op":
            sys.stderr.write("segfault while adding the part\n")
            return 4
        elif options.mode == "bad-reply":
            send({"id": message["id"], "weird": True})
        elif options.mode == "wrong-id":
            send({"id": 10_000, "ok": True, "result": {}})
        else:
            assert client is not None
            threading.Thread(target=operate, args=(client, message, options)).start()
    if options.mode == "no-exit":  # ignores the end of stdin too
        time.sleep(60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
