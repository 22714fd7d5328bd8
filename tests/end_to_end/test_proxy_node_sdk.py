"""A Node.js script using the official Node SDK (`openai` on npm), with no driver, through the
proxy to the embedded emulator: a clean report.

The SDK is installed with npm into a folder of the test session's own (never the project's
drivers/node); without node, npm or the registry the test is skipped.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.proxy_session import ProxySession, assert_key_kept, failed, statuses

NODE_SDK = "openai@6"
SCRIPT = r"""
import OpenAI, { toFile } from "openai";
import { createHash } from "node:crypto";

const client = new OpenAI({ maxRetries: 0 });  // OPENAI_BASE_URL and OPENAI_API_KEY
const chunks = [Buffer.from("node, "), Buffer.from("through "), Buffer.from("the proxy")];
const whole = Buffer.concat(chunks);
const upload = await client.uploads.create({
  bytes: whole.length, filename: "node.txt", purpose: "assistants", mime_type: "text/plain" });
const partIds = [];
for (const [i, chunk] of chunks.entries()) {
  const part = await client.uploads.parts.create(upload.id,
    { data: await toFile(chunk, `part-${i}.bin`) });
  partIds.push(part.id);
}
const md5 = createHash("md5").update(whole).digest("hex");
const done = await client.uploads.complete(upload.id, { part_ids: partIds, md5 });
const content = Buffer.from(await (await client.files.content(done.file.id)).arrayBuffer());
if (!content.equals(whole)) throw new Error("the file read back differs");
console.log("done", done.status);
"""


@pytest.fixture(scope="session")
def node_sdk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not on this machine")
    folder = tmp_path_factory.mktemp("node-sdk")
    (folder / "package.json").write_text('{"private": true, "type": "module"}\n')
    installed = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent",
                                NODE_SDK], cwd=folder, capture_output=True, text=True,
                               timeout=300)
    if installed.returncode != 0:
        pytest.skip(f"npm could not install {NODE_SDK}: {installed.stderr[-300:]}")
    return folder


def test_a_node_sdk_script_is_clean(tmp_path: Path, node_sdk: Path) -> None:
    key = "sk-node-" + secrets.token_hex(12)
    script = node_sdk / "upload.mjs"
    script.write_text(SCRIPT)
    with ProxySession(tmp_path) as proxy:
        ran = subprocess.run(["node", str(script)], cwd=node_sdk, capture_output=True,
                             text=True, timeout=120, env={
                                 "PATH": os.environ.get("PATH", ""),
                                 "OPENAI_BASE_URL": proxy.base_url, "OPENAI_API_KEY": key})
        assert ran.returncode == 0 and "done completed" in ran.stdout, ran.stderr
        report = proxy.report()
        assert proxy.stop() == 0
    assert not failed(report), report["verdict"]
    found = statuses(report)
    for requirement in ("CLIENT-REQUEST-CONFORMS", "CLIENT-MD5-MATCHES", "CLIENT-PART-IDS",
                        "COMPLETE-MD5", "CONTENT-BYTES"):
        assert found[requirement] == "pass", (requirement, found[requirement])
    assert_key_kept(proxy, key)
