#!/usr/bin/env node
// The uploads-conformance driver for the official Node.js SDK (`openai` on npm).
//
// It speaks the suite's driver protocol (docs/sdk-drivers.md): one JSON message per line on
// stdin and stdout, a hello first, then operations run through `client.uploads`, several at
// once. Every request the SDK sends goes through a recording `fetch`, so each reply also
// reports the HTTP exchanges behind it. Nothing but protocol messages goes to stdout;
// diagnostics go to stderr. It runs on every SDK release with the Uploads API, 4.53.0 and
// later (4.x hands fetch its forms as streams, 5.x and 6.x as FormData), on Node 20 or newer.

import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import OpenAI, { toFile } from 'openai';
import { VERSION } from 'openai/version';

const PROTOCOL = 1;
const OPERATIONS = ['create', 'add_part', 'complete', 'cancel'];
// The SDK's `upload_file_chunked` has no counterpart in the Node SDK: the driver does not
// offer it rather than imitate one, since a driver's own code is not what is under test.

const exchanges = new AsyncLocalStorage(); // the OperationRecord of the operation running
let client = null;
let usersClient = null; // the SDK as its users build it (docs/sdk-drivers.md), or null

function send(message) {
  process.stdout.write(JSON.stringify(message) + '\n');
}

// --- what a request body looked like, without keeping a part's bytes -----------------------

const EMPTY = Buffer.alloc(0);
const CRLF2 = Buffer.from('\r\n\r\n');
const MAX_HEADERS = 16 * 1024; // a form field's headers; more is not a form an SDK sends

async function hashStream(stream) {
  const hash = createHash('md5');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { size, md5: hash.digest('hex') };
}

async function describeFormData(form) {
  const fields = [];
  for (const [name, value] of form.entries()) {
    const file = typeof value !== 'string';
    // A file is streamed into the hash, so that a 64 MiB part is not copied whole once more.
    const { size, md5 } = await hashStream(file ? value.stream() : [Buffer.from(value)]);
    fields.push({ name, filename: file ? value.name ?? null : null,
                  content_type: file ? value.type || null : null, size, md5 });
  }
  return { kind: 'form', fields };
}

// A multipart/form-data body read as it streams past (the 4.x SDK sends its forms so): of
// each field only its name, filename, content type, size and md5 are kept.
class FormReader {
  constructor(boundary) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
    this.pending = Buffer.from('\r\n'); // so that the first delimiter reads like the others
    this.state = 'preamble'; // then: delimiter, headers, content, ... end (or malformed)
    this.fields = [];
    this.field = null;
    this.size = 0; // the body's bytes
  }

  push(chunk) {
    this.size += chunk.length;
    if (this.state === 'end' || this.state === 'malformed') return;
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.step());
  }

  // One move of the parser; false when it needs more bytes.
  step() {
    const pending = this.pending;
    if (this.state === 'preamble' || this.state === 'content') {
      const at = pending.indexOf(this.delimiter);
      const upTo = at >= 0 ? at : Math.max(0, pending.length - this.delimiter.length + 1);
      this.field?.hash.update(pending.subarray(0, upTo));
      if (this.field) this.field.size += upTo;
      this.pending = pending.subarray(at >= 0 ? at + this.delimiter.length : upTo);
      if (at < 0) return false;
      this.closeField();
      this.state = 'delimiter';
      return true;
    }
    if (this.state === 'delimiter') {
      if (pending.length < 2) return false;
      const next = pending.subarray(0, 2).toString('latin1');
      this.state = next === '--' ? 'end' : next === '\r\n' ? 'headers' : 'malformed';
      if (this.state !== 'headers') this.pending = EMPTY;
      return this.state === 'headers';
    }
    if (this.state === 'headers') {
      const at = pending.indexOf(CRLF2); // the CRLF after the delimiter starts the search
      if (at < 0) {
        if (pending.length > MAX_HEADERS) this.state = 'malformed';
        return false;
      }
      this.field = { ...fieldHeaders(pending.subarray(2, at).toString('utf8')), size: 0,
                     hash: createHash('md5') };
      this.pending = pending.subarray(at + CRLF2.length);
      this.state = 'content';
      return true;
    }
    return false;
  }

  closeField() {
    if (this.field === null) return;
    const { hash, ...field } = this.field;
    this.fields.push({ ...field, md5: hash.digest('hex') });
    this.field = null;
  }

  // A form when the body was one to its closing delimiter, else only its size.
  description() {
    return this.state === 'end' ? { kind: 'form', fields: this.fields }
      : { kind: 'bytes', size: this.size };
  }
}

// A header's `; key=value` or `; key="quoted value"` parameters.
const PARAMETER = /;\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;

// A form field's name, filename and content type, from its headers.
function fieldHeaders(text) {
  const found = { name: null, filename: null, content_type: null };
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    const header = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (header === 'content-type') found.content_type = value || null;
    if (header !== 'content-disposition') continue;
    for (const [, key, quoted, bare] of value.matchAll(PARAMETER)) {
      const param = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : bare.trim();
      if (key.toLowerCase() === 'name') found.name = param;
      if (key.toLowerCase() === 'filename') found.filename = param;
    }
  }
  return found;
}

function boundaryOf(contentType) {
  const match = /^multipart\/form-data\s*;.*?boundary=(?:"([^"]+)"|([^;\s]+))/i
    .exec(contentType ?? '');
  return match ? (match[1] ?? match[2]) : null;
}

// A stream body that is not a form: only its size is kept.
class ByteCounter {
  constructor() {
    this.size = 0;
  }

  push(chunk) {
    this.size += chunk.length;
  }

  description() {
    return { kind: 'bytes', size: this.size };
  }
}

// A chunk as a Buffer over the same memory (fetch takes Uint8Arrays; a string is encoded).
function asBuffer(chunk) {
  return typeof chunk === 'string' ? Buffer.from(chunk)
    : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

// A stream body (an async iterable: the 4.x SDK's multipart form is a Node `Readable`) handed
// on to fetch chunk by chunk, each chunk read into the description on its way.
function tapStream(source, contentType) {
  const boundary = boundaryOf(contentType);
  const reader = boundary ? new FormReader(boundary) : new ByteCounter();
  const iterator = source[Symbol.asyncIterator]();
  let ended = false;
  async function pull() {
    try {
      const step = await iterator.next();
      if (step.done) {
        ended = true;
        return null;
      }
      const chunk = asBuffer(step.value);
      reader.push(chunk);
      return chunk;
    } catch (error) {
      ended = true; // fetch reports the error; the description holds what came before it
      throw error;
    }
  }
  async function* passOn() {
    // Not `for await`: fetch giving up on the body must not end the source, which
    // `describe` reads to its end.
    for (let chunk = await pull(); chunk !== null; chunk = await pull()) yield chunk;
  }
  async function describe() {
    // What fetch did not send (no connection, an early answer) is still what the SDK sent.
    while (!ended) await pull().catch(() => {});
    return reader.description();
  }
  return { body: passOn(), describe };
}

// The request's init as fetch gets it, and how to describe its body once the call is done.
function observeBody(init) {
  const body = init.body;
  const as = (description) => ({ init, describe: async () => description });
  if (body === undefined || body === null) return as({ kind: 'none' });
  if (typeof body === 'string') return as({ kind: 'text', text: body });
  if (body instanceof FormData) return { init, describe: () => describeFormData(body) };
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) {
    return as({ kind: 'bytes', size: body.byteLength });
  }
  if (typeof body[Symbol.asyncIterator] === 'function') {
    const tapped = tapStream(body, new Headers(init.headers ?? {}).get('content-type'));
    // A stream body needs `duplex: 'half'`: without it Node's fetch throws a TypeError, which
    // the SDK reports as a connection error (every 4.x part did so).
    const streaming = { ...init, body: tapped.body, duplex: init.duplex ?? 'half' };
    return { init: streaming, describe: tapped.describe };
  }
  return as({ kind: 'unknown', type: Object.prototype.toString.call(body) });
}

// --- the SDK's fetch -------------------------------------------------------------------------

// One request sent by `send()`, written into the running operation's record (if any) as
// an exchange: what was sent (`method`, `url`, `headers`; the body described once the
// operation is over, by `describe`), the answer, or why there was none.
async function recorded(record, sent, describe, send) {
  const entry = { ...sent, body: { kind: 'none' }, status: null, response_headers: {},
                  response_body: '', error: null, duration_s: 0 };
  record?.add(entry, describe);
  const started = performance.now();
  try {
    const response = await send();
    entry.status = response.status;
    entry.response_headers = Object.fromEntries(response.headers.entries());
    entry.response_body = await response.clone().text();
    return { response, entry };
  } catch (error) {
    entry.error = `${error?.name ?? 'Error'}: ${messageOf(error)}`;
    throw error;
  } finally {
    entry.duration_s = (performance.now() - started) / 1000;
  }
}

// The real fetch, with each exchange recorded. The request is built here, so the headers
// reported are those sent (a form's content type and boundary are fetch's own).
async function recordingFetch(url, init = {}) {
  const observed = observeBody(init);
  const request = new Request(url, observed.init);
  // The SDK probes fetch's FormData support with a data: URL once; only HTTP is reported.
  const record = /^https?:/i.test(request.url) ? exchanges.getStore() : undefined;
  const sent = { method: request.method, url: request.url,
                 headers: Object.fromEntries(request.headers.entries()) };
  const { response } = await recorded(record, sent, observed.describe, () => fetch(request));
  return response;
}

// The users' client's fetch: the SDK's own default (node-fetch in 4.x, the global fetch
// later), only looked at. Each exchange is recorded; with `lose_first_answer` the first
// answer is read, recorded, and then withheld: the SDK is told the connection failed, as
// fetch tells it (`TypeError: fetch failed`), and does what it does.
function observingFetch(inner) {
  return async (url, init = {}) => {
    const observed = observeBody(init);
    const { body } = observed.init;
    const streamed = body && typeof body[Symbol.asyncIterator] === 'function'
      ? { ...observed.init, body: Readable.from(body) } // what either fetch takes as a stream
      : observed.init;
    const record = exchanges.getStore();
    const sent = { method: String(init.method ?? 'GET').toUpperCase(), url: String(url),
                   headers: Object.fromEntries(new Headers(init.headers ?? {}).entries()) };
    const { response, entry } = await recorded(record, sent, observed.describe,
                                               () => inner(url, streamed));
    if (record?.loseFirst) {
      record.loseFirst = false;
      record.withheld = record.entries.indexOf(entry);
      throw new TypeError('fetch failed');
    }
    return response;
  };
}

// One operation's HTTP log: its exchanges in order, their bodies described at the end.
class OperationRecord {
  constructor(loseFirst = false) {
    this.entries = [];
    this.describers = [];
    this.loseFirst = loseFirst; // withhold the first answer (a users' client's operation)
    this.withheld = null; // the index of the exchange whose answer was withheld
  }

  add(entry, describe) {
    this.entries.push(entry);
    this.describers.push(describe);
  }

  async finish() {
    for (const [index, entry] of this.entries.entries()) {
      try {
        entry.body = await this.describers[index]();
      } catch (error) {
        entry.body = { kind: 'unknown', error: String(error?.message ?? error) };
      }
    }
    return this.entries;
  }
}

async function partData(args) {
  const bytes = args.path !== undefined
    ? await readFile(args.path) // a large part: the SDK holds it whole anyway (in a File)
    : Buffer.from(args.data_base64 ?? '', 'base64');
  return toFile(bytes, args.filename ?? 'part.bin', { type: 'application/octet-stream' });
}

async function run(op, args) {
  const uploads = (args.users_client ? usersClient : client).uploads;
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

// An error's message, with what caused it: a connection error's causes (a TypeError of
// fetch's, the refused connection behind it) are what a finding must show.
function messageOf(error) {
  let text = String(error?.message ?? error);
  let cause = error?.cause;
  for (let depth = 0; depth < 3 && cause !== undefined && cause !== null; depth += 1) {
    text += ` (caused by ${cause?.name ?? 'Error'}: ${cause?.message ?? cause})`;
    cause = cause?.cause;
  }
  return text;
}

function describeError(error) {
  const constructor = error?.constructor?.name;
  return {
    class: constructor && constructor !== 'Error' ? constructor : (error?.name ?? 'Error'),
    status: typeof error?.status === 'number' ? error.status : null,
    body: error?.error ?? null, // the SDK exposes the envelope's `error` object
    message: messageOf(error),
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
  const users = message.args?.users_client;
  const record = new OperationRecord(Boolean(users?.lose_first_answer));
  let reply;
  pending += 1;
  try {
    if (client === null) throw new Error('an operation before the hello');
    if (users && usersClient === null) throw new Error('this SDK has no users\' client');
    const result = await exchanges.run(record, () => run(message.op, message.args ?? {}));
    reply = { id: message.id, ok: true, result: result ?? null };
  } catch (error) {
    reply = { id: message.id, ok: false, error: describeError(error) };
  }
  try {
    const http = await record.finish();
    send({ ...reply, http, ...(record.withheld === null ? {} : { withheld: record.withheld }) });
  } finally {
    pending -= 1;
    finishWhenIdle();
  }
}

// What this SDK version lacks of what the suite tests (docs/sdk-drivers.md), read from the
// client itself: `client.uploads` came in 4.53.0. `expires_after` is never lacking: the SDK
// sends a create's body as it is given, whatever its types say.
function lacksOf(sdk) {
  const uploads = sdk.uploads;
  const offered = [uploads?.create, uploads?.complete, uploads?.cancel, uploads?.parts?.create]
    .every((method) => typeof method === 'function');
  return offered ? [] : ['uploads'];
}

function hello(message) {
  client = new OpenAI({
    apiKey: message.api_key,
    baseURL: message.base_url,
    maxRetries: 0, // the suite must see every answer
    timeout: Math.round((message.timeout_s ?? 30) * 1000),
    fetch: recordingFetch,
  });
  usersClient = buildUsersClient(message);
  send({
    type: 'ready',
    protocol: PROTOCOL,
    sdk: 'openai-node',
    version: VERSION,
    runtime: `node ${process.versions.node}`,
    operations: OPERATIONS,
    http: true,
    generic_error: 'APIError', // the SDK's class for a refused status without its own
    lacks: lacksOf(client),
    users_client: usersClient !== null,
  });
}

// The client a user builds: the SDK's defaults (its own fetch, its retries), only the
// timeout the suite's (`users_timeout_s`), its fetch observed. Null when the SDK keeps no fetch to observe.
function buildUsersClient(message) {
  const users = new OpenAI({
    apiKey: message.api_key,
    baseURL: message.base_url,
    timeout: Math.round((message.users_timeout_s ?? message.timeout_s ?? 30) * 1000),
  });
  if (typeof users.fetch !== 'function') return null;
  users.fetch = observingFetch(users.fetch);
  return users;
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
