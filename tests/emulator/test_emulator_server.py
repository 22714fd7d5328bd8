"""Running the emulator: `EmulatorServer`, `create_app`, and the command line
(`python -m conformance.emulator`, the `serve` arguments)."""

from __future__ import annotations

import argparse
import re
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from conformance.emulator import MUTANTS, EmulatorConfig, EmulatorServer, create_app
from conformance.emulator.cli import add_serve_arguments, serve_command
from tests.support.cli import start_cli
from tests.support.emulator_helpers import Api, ok, refused

LISTENING = re.compile(r"Uploads emulator listening: base URL (http://127\.0\.0\.1:\d+/v1)")


def test_server_serves_on_a_free_loopback_port_and_cleans_up() -> None:
    with EmulatorServer() as first, EmulatorServer() as second:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", first.base_url)
        assert first.base_url != second.base_url
        api = Api(first.base_url)
        api.uploaded([b"abc"])
        spool = first.app.state.storage.root
        assert spool.is_dir() and any(spool.iterdir())
    assert not spool.exists()
    with pytest.raises(httpx.TransportError):
        httpx.get(first.base_url, timeout=2)


def test_a_stopped_server_can_start_again_afresh() -> None:
    server = EmulatorServer()
    with server:
        upload = Api(server.base_url).new_upload()
    with server:
        api = Api(server.base_url)
        refused(api.cancel(upload["id"]), 404)  # a new run knows nothing of the old one
        api.completed([b"abc"])


def test_data_dir_holds_the_spool_and_keeps_it(tmp_path: Path) -> None:
    with EmulatorServer(EmulatorConfig(data_dir=tmp_path / "spool")) as server:
        done = Api(server.base_url).completed([b"abc", b"def"])
        root = server.app.state.storage.root
        assert root == tmp_path / "spool" / "parts"
        assert len(list(root.iterdir())) == 2
    assert len(list(root.iterdir())) == 2  # kept: the data dir is durable
    with EmulatorServer(EmulatorConfig(data_dir=tmp_path / "spool")) as server:
        assert Api(server.base_url).content(done["file"]["id"]).content == b"abcdef"


def test_create_app_is_a_starlette_app_with_its_config() -> None:
    config = EmulatorConfig(mutant="md5-unchecked", test_controls=True)
    app = create_app(config)
    assert isinstance(app, Starlette)
    assert app.state.config is config
    app.state.storage.close()


def test_config_accepts_a_string_data_dir(tmp_path: Path) -> None:
    config = EmulatorConfig(data_dir=str(tmp_path))  # type: ignore[arg-type]
    assert config.data_dir == tmp_path


# --- the command line -------------------------------------------------------------------------
def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    return parser.parse_args(argv)


def test_serve_arguments_defaults() -> None:
    args = _parse()
    assert (args.host, args.port, args.api_key, args.no_auth) == ("127.0.0.1", 8000, None, False)
    assert (args.data_dir, args.test_controls, args.mutant) == (None, False, None)


def test_serve_arguments_refuse_a_key_with_no_auth_and_unknown_mutants() -> None:
    with pytest.raises(SystemExit):
        _parse("--api-key", "k", "--no-auth")
    with pytest.raises(SystemExit):
        _parse("--mutant", "md5-ignored")


def test_list_mutants_prints_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    assert serve_command(_parse("--list-mutants")) == 0
    out = capsys.readouterr().out
    for name, description in MUTANTS.items():
        assert re.search(rf"^{re.escape(name)}\s+{re.escape(description)}$", out, re.M)


def test_serve_reports_a_taken_port(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert serve_command(_parse("--port", str(port))) == 2
    assert "cannot serve" in capsys.readouterr().err


@pytest.fixture
def served(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`python -m conformance.emulator` on a free port, as a user would start it."""
    process = start_cli("--port", "0", "--test-controls", "--data-dir", str(tmp_path),
                        module="conformance.emulator", cwd=tmp_path_factory.mktemp("cwd"),
                        OPENAI_API_KEY="sk-from-the-environment-1234")
    assert process.stdout is not None
    match = LISTENING.search(process.stdout.readline())
    assert match, "the server did not announce its base URL"
    try:
        yield process, match.group(1)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)


def test_module_serves_until_ctrl_c_and_exits_cleanly(
        served: tuple[subprocess.Popen[str], str], tmp_path: Path) -> None:
    process, base_url = served
    assert process.stdout is not None
    hint = process.stdout.readline()
    assert "sk-from-the-environment" not in hint, "the key itself must not be printed"
    assert "sk-...1234" in hint
    refused(Api(base_url).create(), 401)  # the default key is not the one in force
    api = Api(base_url, api_key="sk-from-the-environment-1234")
    api.uploaded([b"abc"])
    ok(api.http.get("/_conformance"))
    assert len(list((tmp_path / "parts").iterdir())) == 1  # the part's spool file
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert "stopped" in err
    assert len(list((tmp_path / "parts").iterdir())) == 1  # kept for the next run


def test_repeated_api_keys_are_tenants_each_printed_masked(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    keys = ("sk-first-tenant-of-the-cli-1111", "sk-second-tenant-of-the-cli-2222")
    assert _parse("--api-key", keys[0], "--api-key", keys[1]).api_key == list(keys)
    process = start_cli("--port", "0", "--api-key", keys[0], "--api-key", keys[1],
                        module="conformance.emulator", cwd=tmp_path_factory.mktemp("cwd"))
    assert process.stdout is not None
    try:
        match = LISTENING.search(process.stdout.readline())
        assert match, "the server did not announce its base URL"
        hint = process.stdout.readline()
        assert "each its own tenant" in hint and "sk-...1111" in hint and "sk-...2222" in hint
        assert not any(key in hint for key in keys), "a key itself must not be printed"
        first, second = (Api(match.group(1), api_key=key) for key in keys)
        upload = first.new_upload(3)
        refused(second.add_part(upload["id"], b"abc"), 404, "upload_not_found")
        ok(second.create())
        first.close()
        second.close()
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)
