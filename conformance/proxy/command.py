"""`uploads-conformance proxy`: a reverse proxy that judges a client's real traffic.

    uploads-conformance proxy [--upstream URL] [--port P] [--report-dir DIR] [--exit-after N]

Listens on 127.0.0.1 and forwards every request to the upstream (default: an embedded
emulator that takes any API key, so `OPENAI_BASE_URL=http://127.0.0.1:P/v1 my-program`
just works), judging the client's requests and the server's answers on the way. A line per
exchange on the console; the reports are written on Ctrl-C, on SIGTERM, after
`--exit-after N` requests, and whenever `POST <base>/_proxy/report` asks (the proxy answers
that itself). Exit status: the report's (0 what was judged passed, 1 a MUST failed, 2
nothing could be judged).
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import uvicorn

from conformance.emulator.config import EmulatorConfig
from conformance.emulator.server import EmulatorServer
from conformance.evidence import redact_url
from conformance.proxy.app import REPORT_PATH, ProxyApp, SeenKeys
from conformance.proxy.judge import ProxyJudge
from conformance.proxy.observe import Observed
from conformance.proxy.report import ProxyFacts, proxy_report, write_proxy_reports
from conformance.proxy.spool import Spool
from conformance.report.console import render_summary
from conformance.reporting import EXIT_RUN_FAILED, now_iso
from conformance.results import RunReport

__all__ = ["add_proxy_arguments", "proxy_command"]

DEFAULT_REPORT_DIR: Final = Path("reports/proxy")
_START_TIMEOUT_S: Final = 15.0
_MIB: Final = 1024 * 1024


def add_proxy_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--upstream", metavar="URL",
                        help="the API's base URL to forward to, e.g. https://api.openai.com/v1 "
                        "(default: an embedded emulator that takes any API key)")
    parser.add_argument("--port", type=int, default=0, metavar="P",
                        help="the port to listen on, on 127.0.0.1 (default: a free one)")
    parser.add_argument("--report-dir", type=Path, default=DEFAULT_REPORT_DIR, metavar="DIR",
                        help=f"where the reports go (default {DEFAULT_REPORT_DIR})")
    parser.add_argument("--exit-after", type=int, metavar="N",
                        help="write the reports and stop after N requests")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no line per exchange, only the summary")


class ProxyRun:
    """One proxy session: the judge, the console lines, the reports (the app's listener)."""

    def __init__(self, upstream: str, embedded: bool, report_dir: Path,
                 exit_after: int | None, quiet: bool) -> None:
        self.keys = SeenKeys()
        self.spool = Spool()
        self.public_base = ""
        self.judge = ProxyJudge(self.spool, lambda: f"{self.public_base}/v1", self.say)
        self.facts = ProxyFacts(upstream, embedded, now_iso(), time.monotonic())
        self.report_dir, self.exit_after, self.quiet = report_dir, exit_after, quiet
        self.stop = threading.Event()
        self.forwarded = 0
        self._print_lock = threading.Lock()
        self._report_lock = threading.Lock()
        self.last: tuple[RunReport, dict[str, Path]] | None = None

    def say(self, line: str) -> None:
        if not self.quiet or line.lstrip().startswith("!"):
            with self._print_lock:
                print(self.keys.redactor.text(line), flush=True)

    # --- the listener ------------------------------------------------------------------------

    def started(self, observed: Observed) -> None:
        self.judge.started(observed)

    def ended(self, observed: Observed) -> None:
        self.judge.ended(observed)
        self.forwarded += 1
        if not self.quiet:
            self.say(_line(observed))
        if self.exit_after is not None and self.forwarded >= self.exit_after:
            self.stop.set()

    def report(self) -> dict[str, Any]:
        """Writes the reports of what was judged so far; what the proxy answers with."""
        with self._report_lock:
            self.judge.drain()
            report = proxy_report(self.judge, self.facts, time.monotonic(), self.keys.secrets)
            written = write_proxy_reports(report, self.report_dir, self.keys.secrets)
        self.last = (report, written)
        return {"verdict": report.verdict, "exit_status": report.exit_status,
                "reports": {name: str(path) for name, path in written.items()}}

    def close(self) -> None:
        self.judge.close()
        self.spool.close()


def proxy_command(args: argparse.Namespace) -> int:
    from conformance.cli import user_error

    problem = _argument_problem(args)
    if problem:
        return user_error(problem, "proxy")
    with ExitStack() as stack:
        upstream: str = args.upstream
        if upstream is None:
            emulator = EmulatorServer(EmulatorConfig(api_key=None))
            emulator.start()
            stack.callback(emulator.stop)
            upstream = emulator.base_url
        try:
            sock = _listen(args.port)
        except OSError as error:
            return user_error(f"cannot listen on 127.0.0.1:{args.port}: "
                              f"{error.strerror or error}", "proxy")
        stack.callback(sock.close)
        run = ProxyRun(upstream, args.upstream is None, args.report_dir, args.exit_after,
                       args.quiet)
        stack.callback(run.close)
        _log_through(run)
        run.public_base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        app = ProxyApp(upstream, run, run.spool, run.keys, public_base=lambda: run.public_base)
        serving = _Serving(app, sock)
        stack.callback(serving.stop)
        if not serving.start():
            return user_error("the proxy did not start", "proxy")
        print(_announcement(run, upstream, args), flush=True)
        try:
            while not run.stop.wait(0.2):
                pass
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (the command line turns both into it)
            run.say("uploads-conformance proxy: stopping; writing the reports")
        serving.stop()  # the exchanges under way end first, then the reports
        try:
            run.report()
        except OSError as error:
            print(f"uploads-conformance proxy: error: cannot write {run.report_dir}: "
                  f"{error.strerror or error}", file=sys.stderr)
            return EXIT_RUN_FAILED
        assert run.last is not None
        report, written = run.last
        print(render_summary(report, written), flush=True)
        return report.exit_status
    return EXIT_RUN_FAILED  # not reached: the block returns


def _argument_problem(args: argparse.Namespace) -> str:
    if args.upstream is not None:
        parts = urlsplit(args.upstream)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return f"--upstream must be an http(s) base URL, not {redact_url(args.upstream)!r}"
    if not 0 <= args.port <= 65535:
        return f"--port must be 0 to 65535, not {args.port}"
    if args.exit_after is not None and args.exit_after < 1:
        return f"--exit-after must be 1 or more, not {args.exit_after}"
    return ""


def _announcement(run: ProxyRun, upstream: str, args: argparse.Namespace) -> str:
    to = "the embedded emulator (any API key is taken)" if args.upstream is None else \
        redact_url(upstream)
    after = f", after {args.exit_after} requests" if args.exit_after else ""
    return (f"uploads-conformance proxy: listening on {run.public_base}/v1, forwarding to "
            f"{to}\n  use it: OPENAI_BASE_URL={run.public_base}/v1 your-program\n"
            f"  reports go to {run.report_dir} on Ctrl-C, SIGTERM{after}, or on "
            f"POST {run.public_base}/v1{REPORT_PATH}")


def _line(observed: Observed) -> str:
    sent = observed.sent
    path = "/" + sent.url.split("://", 1)[-1].partition("/")[2]
    size = observed.part.size if observed.part is not None else sent.body_size
    shown = f"{size / _MIB:.1f} MiB" if size >= _MIB else f"{size} B"
    status = str(observed.status) if observed.status is not None else \
        f"no answer ({observed.error})"
    took = (observed.returned or observed.called) - observed.called
    note = "" if observed.route.operation or observed.route.file_id else \
        "  (not an Uploads operation: not judged)"
    return (f"  [{observed.number:>4}] {sent.method} {path} ({shown}) -> {status}  "
            f"{took * 1000:.0f} ms{note}")


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen(1024)
    except OSError:
        sock.close()
        raise
    return sock


class _Serving:
    """uvicorn on a thread of its own (the main thread waits for a signal), on `sock`."""

    def __init__(self, app: ProxyApp, sock: socket.socket) -> None:
        self.server = uvicorn.Server(uvicorn.Config(
            # httptools and uvloop where installed (the dependencies bring them): with h11
            # a 1 GiB upload took 2.0x as long through the proxy as direct, with them 1.25x.
            app, http="auto", loop="auto", lifespan="on", log_config=None,
            log_level="warning",
            access_log=False, server_header=False, date_header=False,
            timeout_graceful_shutdown=10))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]},
                                       daemon=True, name="uploads-proxy")

    def start(self) -> bool:
        self.thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def stop(self) -> None:
        """Stops taking requests; the exchanges under way end first."""
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(15)


class _Redacting(logging.Formatter):
    def __init__(self, run: ProxyRun) -> None:
        super().__init__("uploads-conformance proxy: %(levelname)s %(name)s: %(message)s")
        self.run = run

    def format(self, record: logging.LogRecord) -> str:
        return self.run.keys.redactor.text(super().format(record))


def _log_through(run: ProxyRun) -> None:
    """The proxy's and uvicorn's log lines to stderr, scrubbed of every key seen."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Redacting(run))
    for name in ("conformance.proxy", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.propagate = False
        logger.setLevel(logging.WARNING)
