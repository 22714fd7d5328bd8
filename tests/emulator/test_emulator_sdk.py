"""The official `openai` SDK against the emulator: chunked uploads, the four calls, files."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from conformance.emulator import EmulatorServer
from tests.support.emulator_helpers import API_KEY, MIB


@pytest.fixture
def client(shared_emulator: EmulatorServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=shared_emulator.base_url, api_key=API_KEY,
                       max_retries=0) as sdk:
        yield sdk


def _read_back(client: openai.OpenAI, file_id: str) -> bytes:
    return client.files.content(file_id).content


def test_chunked_upload_with_small_parts(client: openai.OpenAI) -> None:
    data = os.urandom(100_003)
    upload = client.uploads.upload_file_chunked(
        file=data, filename="train.jsonl", bytes=len(data), mime_type="application/jsonl",
        purpose="fine-tune", part_size=7_000, md5=hashlib.md5(data).hexdigest())
    assert upload.status == "completed"
    assert upload.file is not None
    assert upload.file.bytes == len(data)
    assert upload.file.filename == "train.jsonl"
    assert upload.file.purpose == "fine-tune"
    assert _read_back(client, upload.file.id) == data


@pytest.mark.slow
def test_chunked_upload_from_a_path_with_the_default_part_size(client: openai.OpenAI,
                                                               tmp_path: Path) -> None:
    data = os.urandom(64 * MIB + 4321)  # two parts: 64 MiB, then the rest
    path = tmp_path / "paper.pdf"
    path.write_bytes(data)
    upload = client.uploads.upload_file_chunked(file=path, mime_type="application/pdf",
                                                purpose="assistants")
    assert upload.status == "completed"
    assert upload.filename == "paper.pdf"
    assert upload.file is not None and upload.file.bytes == len(data)
    assert _read_back(client, upload.file.id) == data


def test_chunked_upload_of_an_empty_file(client: openai.OpenAI, tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    upload = client.uploads.upload_file_chunked(file=path, mime_type="text/plain",
                                                purpose="user_data")
    assert upload.status == "completed"
    assert upload.file is not None and upload.file.bytes == 0
    assert _read_back(client, upload.file.id) == b""


def test_async_chunked_uploads(shared_emulator: EmulatorServer, tmp_path: Path) -> None:
    data = os.urandom(50_000)
    path = tmp_path / "image.png"
    path.write_bytes(data)

    async def run() -> tuple[bytes, bytes, int]:
        async with openai.AsyncOpenAI(base_url=shared_emulator.base_url, api_key=API_KEY,
                                      max_retries=0) as sdk:
            from_bytes = await sdk.uploads.upload_file_chunked(
                file=data, filename="a.bin", bytes=len(data),
                mime_type="application/octet-stream", purpose="assistants", part_size=4096)
            from_path = await sdk.uploads.upload_file_chunked(
                file=path, mime_type="image/png", purpose="vision")
            empty = await sdk.uploads.upload_file_chunked(
                file=b"", filename="e.txt", bytes=0, mime_type="text/plain",
                purpose="assistants")
            assert from_bytes.file and from_path.file and empty.file
            first = (await sdk.files.content(from_bytes.file.id)).content
            second = (await sdk.files.content(from_path.file.id)).content
            return first, second, empty.file.bytes

    first, second, empty_size = asyncio.run(run())
    assert first == data and second == data and empty_size == 0


def test_the_four_low_level_calls(client: openai.OpenAI) -> None:
    upload = client.uploads.create(bytes=9, filename="notes.txt", mime_type="text/plain",
                                   purpose="assistants")
    assert upload.status == "pending" and upload.expires_at == upload.created_at + 3600
    parts = [client.uploads.parts.create(upload.id, data=chunk)
             for chunk in (b"abc", b"def", b"ghi")]
    assert all(part.upload_id == upload.id for part in parts)
    done = client.uploads.complete(upload.id, part_ids=[parts[2].id, parts[0].id, parts[1].id],
                                   md5=hashlib.md5(b"ghiabcdef").hexdigest())
    assert done.status == "completed" and done.file is not None
    assert _read_back(client, done.file.id) == b"ghiabcdef"
    assert client.files.retrieve(done.file.id).bytes == 9

    other = client.uploads.create(bytes=3, filename="x", mime_type="text/plain",
                                  purpose="user_data")
    cancelled = client.uploads.cancel(other.id)
    assert cancelled.status == "cancelled"
    assert client.files.delete(done.file.id).deleted is True


def test_sdk_sees_refusals_as_its_error_types(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        client.uploads.cancel("upload_doesnotexist")
    assert missing.value.code == "upload_not_found"
    upload = client.uploads.create(bytes=3, filename="x", mime_type="text/plain",
                                   purpose="assistants")
    part = client.uploads.parts.create(upload.id, data=b"abc")
    with pytest.raises(openai.BadRequestError) as wrong_md5:
        client.uploads.complete(upload.id, part_ids=[part.id], md5="0" * 32)
    assert wrong_md5.value.code == "md5_mismatch"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=str(client.base_url), api_key="sk-wrong",
                      max_retries=0).uploads.cancel(upload.id)
