import { createHmac } from 'node:crypto';
import net from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import type { AppProcess, TestDatabase } from '@orchestron/testing';
import { FUZZ_WEBHOOK_SECRET, WRONG_SHAPES, rssBytes, startHostileTarget, type HostileTarget } from './harness';

// Issue #12, "Deliver" 7: a fixed corpus of hostile requests, each written byte for byte to a
// raw socket of a real ingest process on a real database (prototype keys, deep nesting,
// invalid and overlong UTF-8, lone surrogates, NUL, oversize and compressed bodies, zip bombs,
// broken encodings, odd content types and charsets, header floods, path tricks, pipelining,
// HTTP/1.0, malformed framing). None may get a 5xx or go unanswered; a rejected request writes
// no row; ingest stays alive and its memory flat over repeated rounds. ingest-fuzz beside it
// throws random variations; this one names every case.

const WEBHOOK_SECRET = FUZZ_WEBHOOK_SECRET;
const MAX_PAYLOAD = 64 * 1024;
const ROUNDS = 3;
const CONCURRENCY = 6;
const CASE_TIMEOUT_MS = 10_000;

let target: HostileTarget;
let database: TestDatabase;
let ingest: AppProcess;
let apiKey: string;

interface Case {
  name: string;
  /** The bytes written to the socket (a whole HTTP exchange, or several pipelined). */
  bytes: Buffer;
  /** `reject`: every answer 4xx; `any`: 2xx or 4xx (odd but valid requests). */
  expect: 'reject' | 'any';
  /** Node may close such a connection without an answer (framing it cannot parse). */
  mayCloseUnanswered?: boolean;
}

const CRLF = '\r\n';
const valid = (note = 'ok') =>
  JSON.stringify({
    type: 'payment.succeeded',
    data: { payment_id: 'p1', amount: 5, currency: 'EUR', metadata: { note } },
  });

/** A complete HTTP/1.1 request with Content-Length and Connection: close unless given. */
function request(
  options: {
    method?: string;
    path?: string;
    version?: string;
    headers?: Array<[string, string]>;
    body?: Buffer | string;
    auth?: boolean;
    contentType?: string | null;
    close?: boolean;
    length?: boolean;
  } = {},
): Buffer {
  const body = Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body ?? '', 'utf8');
  const headers: Array<[string, string]> = [['Host', 'ingest.test']];
  if (options.contentType !== null) headers.push(['Content-Type', options.contentType ?? 'application/json']);
  if (options.auth !== false) headers.push(['Authorization', `Bearer ${apiKey}`]);
  if (options.length !== false) headers.push(['Content-Length', String(body.length)]);
  if (options.close !== false) headers.push(['Connection', 'close']);
  headers.push(...(options.headers ?? []));
  const head = `${options.method ?? 'POST'} ${options.path ?? '/events'} ${options.version ?? 'HTTP/1.1'}${CRLF}${headers
    .map(([n, v]) => `${n}: ${v}`)
    .join(CRLF)}${CRLF}${CRLF}`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

const withData = (data: string, type = 'payment.succeeded') => `{"type":"${type}","data":${data}}`;
const paymentWith = (extra: string) =>
  withData(`{"payment_id":"p1","amount":5,"currency":"EUR","metadata":{"note":"x"${extra}}}`);
const bytes = (...parts: Array<string | number[]>) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
const signature = (body: Buffer | string) =>
  `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}`;
const github = (body: Buffer | string, headers: Array<[string, string]> = [], path = '/webhooks/github') =>
  request({
    path,
    body,
    auth: false,
    headers: [['X-GitHub-Event', 'issues'], ['X-GitHub-Delivery', 'd-1'], ...headers],
  });

function corpus(): Case[] {
  const cases: Case[] = [];
  const reject = (name: string, b: Buffer, extra: Partial<Case> = {}) =>
    cases.push({ name, bytes: b, expect: 'reject', ...extra });
  const any = (name: string, b: Buffer, extra: Partial<Case> = {}) =>
    cases.push({ name, bytes: b, expect: 'any', ...extra });

  // Prototype keys: in the envelope, in the data, nested, as the type; in a batch.
  const proto = ['__proto__', 'constructor', 'prototype', '__defineGetter__', 'hasOwnProperty', 'toString'];
  for (const key of proto) {
    any(`prototype key ${key} in the data`, request({ body: paymentWith(`,"${key}":{"polluted":true}`) }));
    reject(`prototype key ${key} as the event type`, request({ body: withData('{}', key) }));
  }
  any(
    'prototype keys in the envelope',
    request({
      body: `{"type":"payment.succeeded","data":{"payment_id":"p1","amount":5,"currency":"EUR"},"__proto__":{"x":1},"constructor":{"prototype":{"x":1}}}`,
    }),
  );
  reject(
    'prototype key in a batch element',
    request({ body: `[{"__proto__":{"type":"payment.succeeded"},"data":{}}]` }),
  );
  reject(
    'prototype keys with a schema violation',
    request({ body: withData('{"__proto__":{"amount":"x"},"amount":"NaN"}') }),
  );

  // Deep nesting.
  for (const depth of [65, 100, 1_000, 10_000, 30_000]) {
    reject(`data nested ${depth} arrays deep`, request({ body: withData(`${'['.repeat(depth)}${']'.repeat(depth)}`) }));
    reject(
      `data nested ${depth} objects deep`,
      request({ body: withData(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`) }),
    );
  }
  reject('a batch nested 70 arrays deep', request({ body: `${'['.repeat(70)}${']'.repeat(70)}` }));
  reject('unbalanced nesting', request({ body: withData(`${'['.repeat(500)}`) }));

  // Invalid and overlong UTF-8, in the data, a key and the type.
  const badUtf8: Array<[string, number[]]> = [
    ['a lone continuation byte', [0x80]],
    ['an overlong "/" (C0 AF)', [0xc0, 0xaf]],
    ['an overlong NUL (C0 80)', [0xc0, 0x80]],
    ['an overlong 3-byte "/"', [0xe0, 0x80, 0xaf]],
    ['an overlong 4-byte "/"', [0xf0, 0x80, 0x80, 0xaf]],
    ['a UTF-8 encoded surrogate (ED A0 80)', [0xed, 0xa0, 0x80]],
    ['a 5-byte sequence', [0xf8, 0x88, 0x80, 0x80, 0x80]],
    ['an FE byte', [0xfe]],
    ['an FF byte', [0xff]],
    ['a truncated 3-byte sequence', [0xe2, 0x82]],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ];
  for (const [name, seq] of badUtf8) {
    reject(
      `${name} in a data string`,
      request({ body: bytes('{"type":"payment.succeeded","data":{"note":"', seq, '"}}') }),
    );
    reject(`${name} in a key`, request({ body: bytes('{"type":"payment.succeeded","data":{"', seq, '":1}}') }));
  }
  reject('invalid UTF-8 in the type', request({ body: bytes('{"type":"pay', [0xff], '","data":{}}') }));
  reject('a truncated sequence at the end of the body', request({ body: bytes(valid(), [0xe2]) }));

  // Lone surrogate escapes and NUL.
  for (const escape of ['\\ud800', '\\udfff', '\\udc00\\ud800', 'x\\ud83d', '\\ud83d\\u0041']) {
    reject(`lone surrogate ${escape} in the data`, request({ body: paymentWith(`,"s":"${escape}"`) }));
    reject(`lone surrogate ${escape} in a key`, request({ body: paymentWith(`,"${escape}":1`) }));
  }
  reject('lone surrogate in the event id', request({ body: `{"type":"payment.succeeded","id":"\\ud800","data":{}}` }));
  reject('NUL escape in the data', request({ body: paymentWith(',"s":"a\\u0000b"') }));
  reject('NUL escape in a key', request({ body: paymentWith(',"a\\u0000":1') }));
  reject('NUL escape in the type', request({ body: withData('{}', 'pay\\u0000ment') }));
  reject('NUL escape in the id', request({ body: `{"type":"payment.succeeded","id":"a\\u0000","data":{}}` }));
  reject('NUL escape in the source', request({ body: `{"type":"payment.succeeded","source":"\\u0000","data":{}}` }));
  reject(
    'a raw NUL byte in the body',
    request({ body: bytes('{"type":"payment.succeeded","data":{"s":"', [0], '"}}') }),
  );
  reject('a raw NUL byte in a header value', request({ headers: [['X-Note', 'a\u0000b']], body: valid() }), {
    mayCloseUnanswered: true,
  });
  reject(
    'NUL escape in a webhook body',
    github(`{"action":"\\u0000"}`, [['X-Hub-Signature-256', signature(`{"action":"\\u0000"}`)]]),
  );

  // Numbers.
  for (const n of [
    '1e131072',
    '1e-16384',
    '1e131071',
    '-1e400000',
    '1e401',
    `${'9'.repeat(1_100)}`,
    '1.5e-999999999',
    '0e99999',
  ]) {
    reject(
      `the number ${n.length > 20 ? `${n.slice(0, 8)}... (${n.length} chars)` : n}`,
      request({ body: paymentWith(`,"n":${n}`) }),
    );
  }
  reject(
    'ten copies of 1e131071 (141 bytes)',
    request({ body: withData(`[${Array(10).fill('1e131071').join(',')}]`) }),
  );
  reject(
    'numbers growing past max_payload_size when written out',
    request({ body: withData(`[${Array(400).fill('1e300').join(',')}]`) }),
  );

  // Oversize bodies and broken framing.
  const oversize = paymentWith(`,"pad":"${'x'.repeat(MAX_PAYLOAD)}"`);
  reject('a body over max_payload_size', request({ body: oversize }));
  reject(
    'a declared Content-Length of 10 MB with 10 bytes sent',
    bytes(
      `POST /events HTTP/1.1${CRLF}Host: x${CRLF}Content-Type: application/json${CRLF}Content-Length: 10485760${CRLF}${CRLF}0123456789`,
    ),
  );
  reject(
    'a declared Content-Length of 2^53',
    bytes(
      `POST /events HTTP/1.1${CRLF}Host: x${CRLF}Content-Type: application/json${CRLF}Content-Length: 9007199254740993${CRLF}${CRLF}{}`,
    ),
  );
  reject(
    'an oversize chunked body',
    bytes(
      `POST /events HTTP/1.1${CRLF}Host: x${CRLF}Authorization: Bearer ${apiKey}${CRLF}Content-Type: application/json${CRLF}Transfer-Encoding: chunked${CRLF}Connection: close${CRLF}${CRLF}`,
      `${oversize.length.toString(16)}${CRLF}${oversize}${CRLF}0${CRLF}${CRLF}`,
    ),
  );
  reject('a batch over max_batch_size', request({ body: `[${Array(101).fill(valid()).join(',')}]` }));
  reject(
    'a negative Content-Length',
    bytes(`POST /events HTTP/1.1${CRLF}Host: x${CRLF}Content-Length: -1${CRLF}${CRLF}`),
    { mayCloseUnanswered: true },
  );
  reject(
    'a non-numeric Content-Length',
    bytes(`POST /events HTTP/1.1${CRLF}Host: x${CRLF}Content-Length: ten${CRLF}${CRLF}`),
    { mayCloseUnanswered: true },
  );
  reject(
    'two different Content-Lengths',
    bytes(`POST /events HTTP/1.1${CRLF}Host: x${CRLF}Content-Length: 2${CRLF}Content-Length: 3${CRLF}${CRLF}{}`),
    { mayCloseUnanswered: true },
  );
  reject(
    'Content-Length and Transfer-Encoding together',
    bytes(
      `POST /events HTTP/1.1${CRLF}Host: x${CRLF}Content-Length: 2${CRLF}Transfer-Encoding: chunked${CRLF}${CRLF}0${CRLF}${CRLF}`,
    ),
    { mayCloseUnanswered: true },
  );
  reject(
    'an invalid chunk size',
    bytes(
      `POST /events HTTP/1.1${CRLF}Host: x${CRLF}Content-Type: application/json${CRLF}Transfer-Encoding: chunked${CRLF}${CRLF}zz${CRLF}{}${CRLF}0${CRLF}${CRLF}`,
    ),
    { mayCloseUnanswered: true },
  );
  reject(
    'a body shorter than its Content-Length',
    bytes(
      `POST /events HTTP/1.1${CRLF}Host: x${CRLF}Authorization: Bearer ${apiKey}${CRLF}Content-Type: application/json${CRLF}Content-Length: 500${CRLF}${CRLF}{"type":`,
    ),
  );
  reject('an empty body', request({ body: '' }));
  reject('a body of whitespace', request({ body: '   \r\n\t ' }));

  // Compressed bodies and zip bombs.
  const bomb = Buffer.from(paymentWith(`,"pad":"${'0'.repeat(8 * 1024 * 1024)}"`));
  reject('a gzip bomb (8 MB in a few KB)', request({ body: gzipSync(bomb), headers: [['Content-Encoding', 'gzip']] }));
  reject('a deflate bomb', request({ body: deflateSync(bomb), headers: [['Content-Encoding', 'deflate']] }));
  reject('a brotli bomb', request({ body: brotliCompressSync(bomb), headers: [['Content-Encoding', 'br']] }));
  reject(
    'gzip of gzip declared once',
    request({ body: gzipSync(gzipSync(valid())), headers: [['Content-Encoding', 'gzip']] }),
  );
  reject(
    'gzip declared twice',
    request({ body: gzipSync(gzipSync(valid())), headers: [['Content-Encoding', 'gzip, gzip']] }),
  );
  reject('an unknown encoding', request({ body: valid(), headers: [['Content-Encoding', 'compress']] }));
  reject('a garbage encoding name', request({ body: valid(), headers: [['Content-Encoding', '\u00ff\u00fe']] }));
  reject('gzip declared, plain body', request({ body: valid(), headers: [['Content-Encoding', 'gzip']] }));
  reject(
    'deflate declared, gzip body',
    request({ body: gzipSync(valid()), headers: [['Content-Encoding', 'deflate']] }),
  );
  reject('br declared, plain body', request({ body: valid(), headers: [['Content-Encoding', 'br']] }));
  const gz = gzipSync(valid());
  reject('truncated gzip', request({ body: gz.subarray(0, gz.length - 8), headers: [['Content-Encoding', 'gzip']] }));
  reject(
    'gzip with a wrong CRC',
    request({
      body: Buffer.concat([gz.subarray(0, gz.length - 8), Buffer.alloc(8, 0xab)]),
      headers: [['Content-Encoding', 'gzip']],
    }),
  );
  reject(
    'a corrupt gzip webhook',
    github(Buffer.from('not gzip'), [
      ['Content-Encoding', 'gzip'],
      ['X-Hub-Signature-256', signature('x')],
    ]),
  );
  any('valid gzip', request({ body: gz, headers: [['Content-Encoding', 'GZIP']] }));
  any('identity encoding', request({ body: valid(), headers: [['Content-Encoding', 'identity']] }));
  reject('gzip of invalid JSON', request({ body: gzipSync('{"type":'), headers: [['Content-Encoding', 'gzip']] }));

  // Charsets and content types.
  any('charset (empty)', request({ body: valid(), contentType: 'application/json; charset=' }));
  for (const charset of [
    'utf-16',
    'utf-16le',
    'iso-8859-1',
    'latin1',
    'us-ascii',
    'utf-32',
    'utf-7',
    'koi8-r',
    '"utf-16"',
  ]) {
    reject(`charset ${charset}`, request({ body: valid(), contentType: `application/json; charset=${charset}` }));
  }
  any('charset "utf-8" quoted', request({ body: valid(), contentType: 'application/json; charset="utf-8"' }));
  reject('a UTF-16LE body with a BOM', request({ body: Buffer.from(`\ufeff${valid()}`, 'utf16le') }));
  reject('a UTF-16BE body', request({ body: Buffer.from(valid(), 'utf16le').swap16() }));
  // A UTF-8 byte order mark is dropped by the decoder (RFC 8259 8.1 allows ignoring it).
  any('a UTF-8 BOM before the JSON', request({ body: bytes([0xef, 0xbb, 0xbf], valid()) }));
  for (const type of [
    'text/plain',
    'application/xml',
    'multipart/form-data; boundary=x',
    'application/x-www-form-urlencoded',
    'application/json-patch+json',
    'application/octet-stream',
    '*/*',
    'application/json, text/plain',
    'json',
    `application/${'x'.repeat(2_000)}`,
  ]) {
    reject(`Content-Type ${type.slice(0, 40)}`, request({ body: valid(), contentType: type }));
  }
  reject('no Content-Type', request({ body: valid(), contentType: null }));
  reject(
    'structured CloudEvent that is not JSON',
    request({ body: '<event/>', contentType: 'application/cloudevents+json' }),
  );
  reject(
    'CloudEvents batch that is an object',
    request({ body: '{"specversion":"1.0"}', contentType: 'application/cloudevents-batch+json' }),
  );
  reject(
    'structured CloudEvent of spec 0.3',
    request({
      body: '{"specversion":"0.3","id":"1","source":"s","type":"payment.succeeded"}',
      contentType: 'application/cloudevents+json',
    }),
  );
  // Binary-mode CloudEvents: attributes in ce-* headers (an empty value leaves the header out).
  const binary = (attributes: Record<string, string>) =>
    request({
      body: '{}',
      headers: Object.entries({ 'ce-specversion': '1.0', 'ce-id': '1', 'ce-source': 's', ...attributes }).filter(
        ([, value]) => value !== '',
      ),
    });
  reject('binary CloudEvent without ce-type', binary({}));
  reject('binary CloudEvent with a percent-encoded NUL', binary({ 'ce-id': '%00', 'ce-type': 'payment.succeeded' }));
  reject(
    'binary CloudEvent with a malformed percent-escape',
    binary({ 'ce-id': '%zz', 'ce-type': 'payment.succeeded' }),
  );
  reject('binary CloudEvent with an 8 KB type', binary({ 'ce-type': 'a'.repeat(8_000) }));

  // Header floods and odd headers.
  reject('a 20 KB header', request({ body: valid(), headers: [['X-Big', 'a'.repeat(20_000)]] }), {
    mayCloseUnanswered: true,
  });
  reject(
    '3000 headers',
    request({
      body: valid(),
      auth: false,
      headers: Array.from({ length: 3_000 }, (_, i) => [`X-H${i}`, 'v'] as [string, string]),
    }),
    { mayCloseUnanswered: true },
  );
  reject(
    '100 Authorization headers',
    request({
      body: valid(),
      auth: false,
      headers: Array.from({ length: 100 }, () => ['Authorization', 'Bearer orc_wrong'] as [string, string]),
    }),
  );
  reject(
    'an 8 KB bearer token',
    request({ body: valid(), auth: false, headers: [['Authorization', `Bearer ${'A'.repeat(8_000)}`]] }),
  );
  reject(
    'Basic authentication',
    request({ body: valid(), auth: false, headers: [['Authorization', 'Basic Zm9vOmJhcg==']] }),
  );
  reject('an empty X-API-Key', request({ body: valid(), auth: false, headers: [['X-API-Key', '']] }));
  reject('no credentials', request({ body: valid(), auth: false }));
  reject('an invalid header name', request({ body: valid(), headers: [['X Bad', 'v']] }), { mayCloseUnanswered: true });
  reject(
    'an obsolete folded header',
    bytes(`POST /events HTTP/1.1${CRLF}Host: x${CRLF}X-Fold: a${CRLF} b${CRLF}Content-Length: 0${CRLF}${CRLF}`),
    { mayCloseUnanswered: true },
  );
  reject('bare LF line endings', bytes('POST /events HTTP/1.1\nHost: x\nContent-Length: 2\n\n{}'), {
    mayCloseUnanswered: true,
  });
  any('an 8 KB X-Request-Id', request({ body: valid(), headers: [['X-Request-Id', 'r'.repeat(8_000)]] }));
  reject(
    'an Idempotency-Key with control characters',
    request({ body: valid(), headers: [['Idempotency-Key', 'a\tb']] }),
  );
  reject(
    'a 300-character Idempotency-Key',
    request({ body: valid(), headers: [['Idempotency-Key', 'k'.repeat(300)]] }),
  );
  any('a malformed traceparent', request({ body: valid(), headers: [['traceparent', 'zz-not-a-trace']] }));
  reject('a malformed Expect', request({ body: valid(), headers: [['Expect', 'teapot']] }));

  // Path tricks.
  const paths = [
    '/events;x=1',
    '/events%00',
    '/events/..%2f',
    '//events',
    '/./events',
    '/events/../events/x',
    '/%2e%2e/%2e%2e/etc/passwd',
    `/${'a'.repeat(7_000)}`,
    '/webhooks/',
    '/webhooks/%2e%2e',
    '/webhooks/github%2fx',
    '/webhooks/github/extra',
    '/webhooks/__proto__',
    '/webhooks/constructor',
    '/webhooks/%ff',
    '/webhooks/%',
    '/webhooks/%zz',
    '/webhooks/%c0%ae',
    '/webhooks/\u00e9',
    '*',
  ];
  for (const path of paths)
    reject(`path ${path.slice(0, 40)}`, request({ path, body: valid() }), {
      mayCloseUnanswered: /[^\x21-\x7e]/.test(path),
    });

  // Odd but valid targets: express matches paths case-insensitively and without strictness
  // about a trailing slash, ignores the query, and Node takes the absolute form (RFC 9112 3.2.2).
  for (const path of ['/EVENTS', '/events/', '/events?x=%zz', 'http://evil.example/events']) {
    any(`path ${path}`, request({ path, body: valid() }));
  }

  // Webhooks.
  const hook = JSON.stringify({ action: 'opened' });
  reject('a webhook without a signature', github(hook));
  reject(
    'a webhook signed with another secret',
    github(hook, [['X-Hub-Signature-256', `sha256=${createHmac('sha256', 'other').update(hook).digest('hex')}`]]),
  );
  reject(
    'a tampered webhook body',
    github(hook.replace('opened', 'closed'), [['X-Hub-Signature-256', signature(hook)]]),
  );
  reject(
    'a webhook with a 5 KB signature',
    github(hook, [['X-Hub-Signature-256', signature(hook).padEnd(5_000, 'f')]]),
  );
  reject(
    'a sha1 webhook signature',
    github(hook, [['X-Hub-Signature-256', signature(hook).replace('sha256', 'sha1')]]),
  );
  reject('a webhook of an unknown source', github(hook, [['X-Hub-Signature-256', signature(hook)]], '/webhooks/nope'));
  reject('a signed webhook that is not JSON', github('not json', [['X-Hub-Signature-256', signature('not json')]]));
  reject(
    'a signed webhook with invalid UTF-8',
    github(bytes('{"a":"', [0xff], '"}'), [['X-Hub-Signature-256', signature(bytes('{"a":"', [0xff], '"}'))]]),
  );
  reject(
    'a signed webhook with a huge number',
    github('{"n":1e131072}', [['X-Hub-Signature-256', signature('{"n":1e131072}')]]),
  );
  reject(
    'a signed webhook nested 10000 deep',
    github(`${'['.repeat(10_000)}${']'.repeat(10_000)}`, [
      ['X-Hub-Signature-256', signature(`${'['.repeat(10_000)}${']'.repeat(10_000)}`)],
    ]),
  );
  reject(
    'a signed webhook of the wrong type',
    github(hook, [
      ['X-Hub-Signature-256', signature(hook)],
      ['Content-Type', 'text/plain'],
    ]),
  );

  // Methods.
  for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'TRACE', 'FOO', 'get']) {
    reject(`method ${method} on /events`, request({ method, body: valid() }), {
      mayCloseUnanswered: method === 'FOO' || method === 'get',
    });
  }
  any('OPTIONS on /events', request({ method: 'OPTIONS', body: '' }));
  reject('CONNECT', bytes(`CONNECT ingest.test:443 HTTP/1.1${CRLF}Host: ingest.test:443${CRLF}${CRLF}`), {
    mayCloseUnanswered: true,
  });

  // HTTP/1.0, pipelining and garbage on the wire.
  any('HTTP/1.0 with a valid event', request({ version: 'HTTP/1.0', body: valid(), close: false }));
  any(
    'HTTP/1.0 keep-alive with a valid event',
    request({ version: 'HTTP/1.0', body: valid(), close: false, headers: [['Connection', 'keep-alive']] }),
  );
  reject(
    'HTTP/1.0 chunked',
    bytes(
      `POST /events HTTP/1.0${CRLF}Content-Type: application/json${CRLF}Authorization: Bearer ${apiKey}${CRLF}Transfer-Encoding: chunked${CRLF}${CRLF}2${CRLF}{}${CRLF}0${CRLF}${CRLF}`,
    ),
    { mayCloseUnanswered: true },
  );
  reject(
    'HTTP/1.0 without a body length',
    bytes(
      `POST /events HTTP/1.0${CRLF}Content-Type: application/json${CRLF}Authorization: Bearer ${apiKey}${CRLF}${CRLF}`,
    ),
  );
  any('HTTP/2.0 on the request line', request({ version: 'HTTP/2.0', body: valid() }), { mayCloseUnanswered: true });
  reject(
    'HTTP/1.1 without Host',
    bytes(`POST /events HTTP/1.1${CRLF}Content-Length: 2${CRLF}Connection: close${CRLF}${CRLF}{}`),
    { mayCloseUnanswered: true },
  );
  any(
    'three pipelined valid events',
    Buffer.concat([
      request({ close: false, body: valid('p1') }),
      request({ close: false, body: valid('p2') }),
      request({ body: valid('p3') }),
    ]),
  );
  reject(
    'pipelined malformed requests',
    Buffer.concat([
      request({ close: false, body: '{' }),
      request({ close: false, body: '[' }),
      request({ body: 'null' }),
    ]),
  );
  any(
    'a valid event pipelined after a rejected one',
    Buffer.concat([request({ close: false, body: '{' }), request({ body: valid('after') })]),
  );
  reject(
    'a request pipelined after a 413',
    Buffer.concat([request({ close: false, body: oversize }), request({ body: valid('never') })]),
  );
  reject('garbage on the request line', bytes(`\u0016\u0003\u0001\u0002\u0000\u0001\u0000${CRLF}${CRLF}`), {
    mayCloseUnanswered: true,
  });
  reject('a request line without a version', bytes(`POST /events${CRLF}${CRLF}`), { mayCloseUnanswered: true });
  reject('a request line only, then close', bytes(`POST /events HTTP/1.1${CRLF}`), { mayCloseUnanswered: true });
  reject(
    'a TLS ClientHello on the plain port',
    bytes([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03]),
    { mayCloseUnanswered: true },
  );

  // Shapes that parse as JSON.
  for (const body of [...WRONG_SHAPES, '[]', '{}', '{"type":"payment.succeeded","data":{},"schema_version":1e400}']) {
    reject(`the body ${body.slice(0, 40)}`, request({ body }));
  }
  return cases;
}

/** Writes a case's bytes and collects the statuses of every answer until the server closes. */
function run(testCase: Case): Promise<number[]> {
  const { port } = new URL(ingest.url);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(Number(port), '127.0.0.1', () => {
      socket.write(testCase.bytes);
      // Half-close after writing, so a server waiting for more than was sent sees the end.
      if (/HTTP\/1\.1\r\n$/.test(testCase.bytes.toString('latin1'))) socket.end();
    });
    const timer = setTimeout(() => socket.destroy(), CASE_TIMEOUT_MS);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      // Pipelined answers follow each other without a separator (a body ends without CRLF).
      resolve([...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1])));
    });
  });
}

async function eventCount(): Promise<number> {
  const [row] = (await database.db('events').count({ n: '*' })) as Array<{ n: number }>;
  return Number(row?.n);
}

beforeAll(async () => {
  target = await startHostileTarget('hostile_corpus', {
    ORCHESTRON_API_AUTH_FAILURE_LIMIT: '0',
    ORCHESTRON_API_HEADERS_TIMEOUT: '2s',
    ORCHESTRON_API_REQUEST_TIMEOUT: '3s',
  });
  ({ database, ingest, apiKey } = target);
});

afterAll(async () => {
  await target?.stop();
});

describe('ingest against the hostile-input corpus', () => {
  it('answers every case with a 4xx (or a 2xx for odd but valid ones), never a 5xx, stores only what it accepted, stays alive with flat memory', async () => {
    const cases = corpus();
    expect(cases.length).toBeGreaterThanOrEqual(150);
    const failures: string[] = [];
    let accepted = 0;
    let rssAfterFirstRound = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < cases.length) {
          const testCase = cases[next++] as Case;
          const statuses = await run(testCase);
          if (round === 1) {
            const bad = statuses.filter((s) => s >= 500 || (testCase.expect === 'reject' && s < 400));
            if (bad.length > 0 || (statuses.length === 0 && !testCase.mayCloseUnanswered)) {
              failures.push(`${testCase.name}: ${statuses.length ? statuses.join(', ') : 'no answer'}`);
            }
            // Every request of the corpus holds at most one event.
            accepted += statuses.filter((s) => s === 202).length;
          }
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      if (round === 1) {
        expect(failures).toEqual([]);
        // Only what was accepted with a 202 is stored (each such request holds one event).
        expect(await eventCount()).toBe(accepted);
        rssAfterFirstRound = await rssBytes(ingest.url);
      }
    }
    process.stdout.write(
      `hostile corpus: ${cases.length} cases x ${ROUNDS} rounds, ${accepted} events accepted in round 1\n`,
    );
    expect((await fetch(`${ingest.url}/health`)).status).toBe(200);
    expect(await rssBytes(ingest.url)).toBeLessThan(rssAfterFirstRound * 1.5 + 32 * 1024 * 1024);
    expect(ingest.output()).not.toContain(WEBHOOK_SECRET);
    expect(ingest.output()).not.toContain(apiKey);
  });
});
