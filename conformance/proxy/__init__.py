"""`uploads-conformance proxy`: any client's real traffic, judged on both sides.

A reverse proxy in front of the API (or the embedded emulator) forwards every request as
it came, streaming, and judges what goes through: the client's requests against the
project's OpenAPI document and the rules a client owes (CLIENT-*), and the server's answers
against the suite's own oracle and checks. Modules, one concept each:

    app.py           the ASGI app: forwarding, streamed both ways, with a tap on each body
    observe.py       what went through: the request as the judge reads it, the answer
    spool.py         each part's bytes on disk, for the md5 of the listed parts in order
    bursts.py        overlapping operations on one upload, judged as a history
    client_rules.py  the client's side (CLIENT-*)
    server_rules.py  the server's side (the oracle following the observed operations)
    judge.py         both sides, per exchange, on a thread of its own, into a Recorder
    report.py        the suite's reports of what was judged
    command.py       the command line
"""

from conformance.proxy.command import add_proxy_arguments, proxy_command

__all__ = ["add_proxy_arguments", "proxy_command"]
