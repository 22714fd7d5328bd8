#!/usr/bin/env node
// The uploads-conformance driver for the official Node.js SDK (`openai` on npm).
//
// It speaks the suite's driver protocol (docs/sdk-drivers.md): one JSON message per line on
// stdin and stdout, a hello first, then operations run through `client.uploads`, several at
// once. Every request the SDK sends goes through a recording `fetch`, so each reply also
// reports the HTTP exchanges behind it. Nothing but protocol messages goes to stdout;
// diagnostics go to stderr.

import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import OpenAI, { toFile } from 'openai';
import { VERSION } from 'openai/version';

const PROTOCOL = 1;
const OPERATIONS = ['create', 'add_part', 'complete', 'cancel'];
// The SDK's `upload_file_chunked` has no counterpart in the Node SDK: the driver does not
// offer it rather than imitate one, since a driver's own code is not what is under test.

const exchanges = new AsyncLocalStorage(); // the HTTP log of the operation running
let client = null;

function send(message) {
  process.stdout.write(JSON.stringify(message) + '\n');
}

function md5(bytes) {
  return createHash('md5').update(bytes).digest('hex');
}

// What a request body looked like, without keeping a part's bytes.
async function describeBody(body) {
  if (body === undefined || body === null) return { kind: 'none' };
  if (typeof body === 'string') return { kind: 'text', text: body };
  if (body instanceof FormData) {
    const fields = [];
    for (const [name, value] of body.entries()) {
      if (typeof value === 'string') {
        const bytes = Buffer.from(value);
        fields.push({ name, filename: null, content_type: null, size: bytes.length, md5: md5(bytes) });
      } else {
        const bytes = Buffer.from(await value.arrayBuffer());
        fields.push({
          name,
          filename: value.name ?? null,
          content_type: value.type || null,
          size: bytes.length,
          md5: md5(bytes),
        });
      }
    }
    return { kind: 'form', fields };
  }
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) {
    return { kind: 'bytes', size: body.byteLength };
  }
  return { kind: 'unknown', type: Object.prototype.toString.call(body) };
}

// The SDK's fetch: the real one, with each exchange written into the running operation's log.
// The request is built here, so the headers reported are those sent (a form's content type
// and boundary are fetch's own).
async function recordingFetch(url, init = {}) {
  const request = new Request(url, init);
  // The SDK probes fetch's FormData support with a data: URL once; only HTTP is reported.
  const log = /^https?:/i.test(request.url) ? exchanges.getStore() : undefined;
  const entry = {
    method: request.method,
    url: request.url,
    headers: Object.fromEntries(request.headers.entries()),
    body: await describeBody(init.body),
    status: null,
    response_headers: {},
    response_body: '',
    error: null,
    duration_s: 0,
  };
  const started = performance.now();
  try {
    const response = await fetch(request);
    entry.status = response.status;
    entry.response_headers = Object.fromEntries(response.headers.entries());
    entry.response_body = await response.clone().text();
    return response;
  } catch (error) {
    entry.error = `${error?.name ?? 'Error'}: ${error?.message ?? error}`;
    throw error;
  } finally {
    entry.duration_s = (performance.now() - started) / 1000;
    log?.push(entry);
  }
}

async function partData(args) {
  const bytes = args.path !== undefined
    ? await readFile(args.path) // a large part: the SDK holds it whole anyway (a web File)
    : Buffer.from(args.data_base64 ?? '', 'base64');
  return toFile(bytes, args.filename ?? 'part.bin', { type: 'application/octet-stream' });
}

async function run(op, args) {
  const uploads = client.uploads;
  switch (op) {
    case 'create':
      return uploads.create(args.body);
    case 'add_part':
      return uploads.parts.create(args.upload_id, { data: await partData(args) });
    case 'complete':
      return uploads.complete(args.upload_id, args.body);
    case 'cancel':
      return uploads.cancel(args.upload_id);
    default: {
      const error = new Error(`this driver does not offer the operation ${JSON.stringify(op)}`);
      error.name = 'Unsupported';
      throw error;
    }
  }
}

function describeError(error) {
  const constructor = error?.constructor?.name;
  return {
    class: constructor && constructor !== 'Error' ? constructor : (error?.name ?? 'Error'),
    status: typeof error?.status === 'number' ? error.status : null,
    body: error?.error ?? null, // the SDK exposes the envelope's `error` object
    message: String(error?.message ?? error),
    code: error?.code ?? null,
    type: error?.type ?? null,
    param: error?.param ?? null,
  };
}

let pending = 0; // operations still running
let closing = false; // stdin ended, or the suite said bye: exit once they are done

function finishWhenIdle() {
  // Exit once stdout has flushed (pipes are asynchronous on some systems).
  if (closing && pending === 0) process.stdout.write('', () => process.exit(0));
}

async function operate(message) {
  const log = [];
  pending += 1;
  try {
    if (client === null) throw new Error('an operation before the hello');
    const result = await exchanges.run(log, () => run(message.op, message.args ?? {}));
    send({ id: message.id, ok: true, result: result ?? null, http: log });
  } catch (error) {
    send({ id: message.id, ok: false, error: describeError(error), http: log });
  } finally {
    pending -= 1;
    finishWhenIdle();
  }
}

function hello(message) {
  client = new OpenAI({
    apiKey: message.api_key,
    baseURL: message.base_url,
    maxRetries: 0, // the suite must see every answer
    timeout: Math.round((message.timeout_s ?? 30) * 1000),
    fetch: recordingFetch,
  });
  send({
    type: 'ready',
    protocol: PROTOCOL,
    sdk: 'openai-node',
    version: VERSION,
    runtime: `node ${process.versions.node}`,
    operations: OPERATIONS,
    http: true,
    generic_error: 'APIError', // the SDK's class for a refused status without its own
  });
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  if (!line.trim()) return;
  let message;
  try {
    message = JSON.parse(line);
  } catch {
    process.stderr.write(`driver: not JSON: ${line.slice(0, 200)}\n`);
    return;
  }
  if (message.type === 'hello') hello(message);
  else if (message.type === 'bye') lines.close();
  else operate(message); // not awaited: operations run concurrently
});
lines.on('close', () => {
  closing = true;
  finishWhenIdle();
});
