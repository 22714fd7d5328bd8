"""The keys a run sends besides the user's: another tenant's (`--second-api-key`) and the key
one character off the user's. Both are secrets, scrubbed as the key is, and the second key
is read as the key is (option, else its environment variable)."""

from __future__ import annotations

import json
import string

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance import RunSettings, run
from conformance.client import TargetClient
from conformance.credentials import SECOND_KEY_VARIABLE, near_miss, other_keys, secrets_of
from conformance.options import settings_from_options
from tests.support.fake_targets import envelope

KEY = "sk-proj-SECRET-first-tenant-0123456789"
SECOND = "sk-proj-SECRET-second-tenant-abcdefXYZ"


@given(st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=60))
def test_a_near_miss_differs_from_the_key_in_its_last_character_only(key: str) -> None:
    near = near_miss(key)
    assert near != key and len(near) == len(key) and near[:-1] == key[:-1]
    for alphabet in (string.digits, string.ascii_lowercase, string.ascii_uppercase):
        if key[-1] in alphabet:  # a format check of the key cannot tell them apart
            assert near[-1] in alphabet


def test_every_key_and_the_near_miss_are_secrets() -> None:
    assert set(secrets_of(KEY, SECOND)) == {KEY, near_miss(KEY), SECOND}
    assert secrets_of(None) == ()
    assert other_keys(KEY, SECOND) == {near_miss(KEY): None, SECOND: SECOND_KEY_VARIABLE}
    settings = RunSettings(api_key=KEY, second_api_key=SECOND)
    assert {KEY, near_miss(KEY), SECOND} <= set(settings.secrets())
    assert SECOND not in repr(settings) and KEY not in repr(settings)


def test_the_second_key_is_an_option_else_its_environment_variable() -> None:
    from conformance.cli import build_parser

    given_args = vars(build_parser().parse_args(["run", "--second-api-key", SECOND]))
    assert settings_from_options(given_args, {}).second_api_key == SECOND
    bare = vars(build_parser().parse_args(["run"]))
    assert settings_from_options(bare, {SECOND_KEY_VARIABLE: SECOND}).second_api_key == SECOND
    assert settings_from_options(bare, {}).second_api_key is None


def test_a_second_key_equal_to_the_first_is_a_settings_error() -> None:
    report = run(RunSettings(base_url="http://127.0.0.1:9/v1", api_key=KEY,
                             second_api_key=KEY, report_dir=None))
    assert report.exit_status == 2
    assert "--second-api-key must be another tenant's key" in report.errors[0]
    assert KEY not in json.dumps(report.to_dict())


def _echoing(request: httpx.Request) -> httpx.Response:
    """A target that plants the credentials it was sent in its answer."""
    auth = request.headers.get("authorization", "")
    return httpx.Response(404, headers={"X-Echo": auth},
                          json=envelope(f"No such upload for {auth}", code=auth))


@pytest.mark.parametrize("sent", [SECOND, near_miss(KEY)])
def test_the_other_keys_are_scrubbed_from_every_exchange(sent: str) -> None:
    client = TargetClient("http://target.test/v1", KEY, other_keys=other_keys(KEY, SECOND),
                          transport=httpx.MockTransport(_echoing))
    answers = [client.request("POST", "/uploads/upload_1/cancel", auth=sent),
               client.add_part("upload_1", [b"abc"], 3, auth=sent)]
    said = "\n".join(json.dumps(e.to_dict()) for e in client.recent())
    assert sent not in said and "[REDACTED]" in said
    for answer in answers:
        assert sent not in json.dumps(answer.json) and sent not in answer.exchange.curl


def test_a_curl_line_reads_the_second_key_from_its_variable() -> None:
    client = TargetClient("http://target.test/v1", KEY, other_keys=other_keys(KEY, SECOND),
                          transport=httpx.MockTransport(_echoing))
    second = client.request("POST", "/uploads/upload_1/cancel", auth=SECOND).exchange.curl
    assert f'"Authorization: Bearer ${SECOND_KEY_VARIABLE}"' in second
    near = client.request("POST", "/uploads/upload_1/cancel", auth=near_miss(KEY)).exchange.curl
    assert "Bearer [REDACTED]" in near and "$" not in near  # no variable holds a near miss
    own = client.request("POST", "/uploads/upload_1/cancel").exchange.curl
    assert '"Authorization: Bearer $OPENAI_API_KEY"' in own
