#!/usr/bin/env node
'use strict';
// A small in-memory S3 server for deltaglider's end-to-end tests, used next
// to s3rver for what s3rver cannot do: it keeps keys byte for byte, honours
// conditional writes as AWS documents them, and misbehaves on purpose when
// told to. Node.js standard library only. Prints "READY <port>" on stdout
// once it listens on 127.0.0.1.
//
//   node s3mini.js [--port N] [--bucket NAME]... [--log FILE] [--log-header NAME]...
//       [--min-part-size BYTES] [--region REGION] [--no-conditional]
//
// --port 0 (the default) lets the kernel pick a free port. --bucket creates
// a bucket at start. --log FILE gets the request log lines (see below) as
// they happen; --log-header adds " name=value" to each line for that request
// header when present. --min-part-size (default 5 MiB, as AWS) is the smallest size
// of a multipart part that is not the last. The region (default us-east-1)
// only shows in GetBucketLocation and HeadBucket. --no-conditional ignores
// If-None-Match and If-Match on writes, as s3rver and Garage do.
//
// S3: path-style only (/bucket/key). Signatures are not checked: any
// Authorization header, or none, is accepted. The key is the raw path after
// "/bucket/", percent-decoded once and nothing else: "..", ".", "//" and a
// leading "/" are kept (curl needs --path-as-is to send some of them). Keys
// sort in UTF-8 byte order. Supported: ListBuckets, CreateBucket,
// DeleteBucket, HeadBucket, GetBucketLocation, GetBucketVersioning,
// ListObjects (v1) and ListObjectsV2 (prefix, delimiter, max-keys,
// continuation-token, start-after, marker, encoding-type=url, fetch-owner),
// HeadObject, GetObject (one Range, If-Match, If-None-Match,
// If-Modified-Since, If-Unmodified-Since, response-* overrides), PutObject
// (If-None-Match: *, If-Match, Content-MD5, chunked and aws-chunked bodies),
// CopyObject (COPY/REPLACE, x-amz-copy-source-if-*), DeleteObject,
// DeleteObjects, CreateMultipartUpload, UploadPart, UploadPartCopy,
// CompleteMultipartUpload (If-None-Match: *, If-Match), AbortMultipartUpload,
// ListMultipartUploads, ListParts. Other subresources answer 501
// NotImplemented. Conditional writes are checked when the write commits,
// after the whole body has arrived, in one synchronous step (atomic). A
// CompleteMultipartUpload refused with 412 leaves the upload in place.
//
// Control API, on the same port and never treated as S3 (answers are JSON,
// except /__ctl/log):
//   PUT /__ctl/object?bucket=B&key=K      body = the object's bytes
//       Stores K (percent-encoded in the query) as it is, e.g. "../../x",
//       "a/../../x", "/abs", "a//b". Optional headers: x-ctl-meta, a JSON
//       object name -> value stored as x-amz-meta-*; x-ctl-content-type.
//       The bucket must exist.
//   GET /__ctl/keys?bucket=B              {"keys":[...]} in listing order
//   GET /__ctl/fault?mode=MODE[&count=N][&match=SUBSTRING][&arg=VALUE]
//       The next N (default 1) S3 requests whose "METHOD target" (target as
//       sent, still percent-encoded), followed by " Range: VALUE" when the
//       request has a Range header, contains SUBSTRING (default: any) and
//       that the mode applies to (see below) get MODE; then it turns itself
//       off. Setting a fault replaces the one before.
//   GET /__ctl/clear                      drops the pending fault
//   GET /__ctl/log                        text/plain, a line per S3 request:
//       "<n> <METHOD> <target> -> <status | FAULT:mode | ABORTED | ERROR:why>"
//       (n counts S3 requests from 1 for the life of the process)
//   GET /__ctl/clear-log                  empties that log
//   GET /__ctl/backdate?bucket=B&seconds=S
//       Makes every object of B (LastModified) and every multipart upload in
//       progress in B (Initiated, and its parts) S seconds older.
//   GET /__ctl/stats                      {"requests":R,"faults":F,
//       "methods":{"GET":n,...},"connections":C}, S3 requests only
//   GET /__ctl/reset-stats                zeroes them
//
// Fault modes, and the requests they apply to (others pass untouched and do
// not use up the count):
//   repeat-token  ListObjectsV2. The normal first page (continuation-token
//                 ignored), IsTruncated=true and NextContinuationToken = the
//                 continuation-token given, or "loop" on a first page.
//   token-cycle   ListObjectsV2. The first page, IsTruncated=true, and
//                 NextContinuationToken "A", then "B" when given "A", "A"
//                 when given "B" (anything else: "A").
//   list-inject   ListObjectsV2. The normal answer plus a <Contents> entry
//                 whose Key is arg (raw, e.g. ../../evil; URL-encoded if
//                 encoding-type=url), Size 5, in key order.
//   huge-body     any GET. Not executed; a 200 ListBucketResult with
//                 Content-Length: arg (default 1073741824) that streams an
//                 ever-growing <Contents> list as fast as the client reads,
//                 until that length (the connection then stays usable) or
//                 until the client leaves.
//   huge-chunked  any GET. The same with Transfer-Encoding: chunked, no
//                 length, forever (or, with arg, the final chunk after arg
//                 body bytes).
//   slow-body     any GET. The huge-body answer (Content-Length 1 GiB) at
//                 arg (default 4096) bytes per second, a tenth every 100
//                 ms: faster than any minimum rate, endless all the same.
//   short-body    any GET. Executed; the answer's head is truthful except
//                 Content-Length = half the body, and that many bytes follow
//                 (framing consistent; the connection stays usable). HEAD
//                 is never touched.
//   cut           any GET. Executed; the head with the full Content-Length,
//                 the first arg (default: half) body bytes, then the socket
//                 is destroyed.
//   cut-change    as cut, and the object is then overwritten with other
//                 bytes (new ETag).
//   cl-conflict   any request. Executed; the answer carries two
//                 Content-Length headers, the true one then a different one;
//                 the connection closes after the (true-length) body.
//   cl-te         any request. Executed; the answer carries Content-Length
//                 (the body's length) and Transfer-Encoding: chunked, and
//                 the body is sent chunked; the connection then closes.
//   trailing-garbage  any request. Executed; the normal answer, then on the
//                 same connection (kept open) a stray
//                 "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\njunk\n", or
//                 with arg=random 64 random bytes.
//   drip          any request. Executed; the normal answer written one byte
//                 every arg (default 500) ms.
//   conflict409   PutObject, CopyObject and CompleteMultipartUpload that
//                 carry If-None-Match or If-Match. Not executed; 409
//                 ConditionalRequestConflict.
//   status        any request. Not executed; HTTP status arg (default 503)
//                 with an S3 error body; arg may be STATUS or STATUS:Code
//                 (default codes: 503 SlowDown, 500 InternalError, 403
//                 AccessDenied, 404 NoSuchKey, 429 TooManyRequests, ...).
//   delete-errors DeleteObjects. Keys containing arg (default: every key)
//                 are not deleted and come back as <Error> entries with
//                 AccessDenied; the others are deleted as usual.
//
// The process exits on SIGTERM/SIGINT and when its parent process dies.

const crypto = require('crypto');
const fs = require('fs');
const net = require('net');

const MiB = 1024 * 1024;
const MAX_HEAD = 64 * 1024;
const MAX_BODY = 512 * MiB;
const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';
const OWNER_ID = '75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a';
const OWNER_XML = `<Owner><ID>${OWNER_ID}</ID><DisplayName>s3mini</DisplayName></Owner>`;
const EMPTY = Buffer.alloc(0);
const REASONS = {
  100: 'Continue', 200: 'OK', 204: 'No Content', 206: 'Partial Content', 304: 'Not Modified',
  400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  409: 'Conflict', 411: 'Length Required', 412: 'Precondition Failed', 413: 'Payload Too Large',
  416: 'Requested Range Not Satisfiable', 429: 'Too Many Requests', 500: 'Internal Server Error',
  501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};
const STATUS_CODES = {
  400: ['InvalidRequest', 'Invalid Request'],
  403: ['AccessDenied', 'Access Denied'],
  404: ['NoSuchKey', 'The specified key does not exist.'],
  405: ['MethodNotAllowed', 'The specified method is not allowed against this resource.'],
  409: ['OperationAborted', 'A conflicting conditional operation is currently in progress against this resource. Please try again.'],
  412: ['PreconditionFailed', 'At least one of the pre-conditions you specified did not hold'],
  429: ['TooManyRequests', 'Please reduce your request rate.'],
  500: ['InternalError', 'We encountered an internal error. Please try again.'],
  501: ['NotImplemented', 'A header you provided implies functionality that is not implemented'],
  503: ['SlowDown', 'Please reduce your request rate.'],
};
const UNSUPPORTED_SUBRESOURCES = [
  'acl', 'policy', 'policyStatus', 'cors', 'lifecycle', 'tagging', 'website', 'logging',
  'notification', 'replication', 'encryption', 'versions', 'object-lock', 'retention',
  'legal-hold', 'accelerate', 'requestPayment', 'ownershipControls', 'publicAccessBlock',
  'analytics', 'inventory', 'metrics', 'intelligent-tiering', 'restore', 'select', 'torrent',
  'attributes',
];
// Stored with the object and given back on reads, as S3 does.
const STORED_HEADERS = [
  ['content-type', 'Content-Type'],
  ['content-encoding', 'Content-Encoding'],
  ['content-disposition', 'Content-Disposition'],
  ['content-language', 'Content-Language'],
  ['cache-control', 'Cache-Control'],
  ['expires', 'Expires'],
  ['x-amz-server-side-encryption', 'x-amz-server-side-encryption'],
  ['x-amz-server-side-encryption-aws-kms-key-id', 'x-amz-server-side-encryption-aws-kms-key-id'],
];
const RESPONSE_OVERRIDES = [
  ['response-content-type', 'Content-Type'],
  ['response-content-language', 'Content-Language'],
  ['response-expires', 'Expires'],
  ['response-cache-control', 'Cache-Control'],
  ['response-content-disposition', 'Content-Disposition'],
  ['response-content-encoding', 'Content-Encoding'],
];

// Which requests each mode applies to; see the header comment.
const isGet = (req) => req.method === 'GET';
const FAULTS = {
  'repeat-token': (req, op) => op === 'ListObjectsV2',
  'token-cycle': (req, op) => op === 'ListObjectsV2',
  'list-inject': (req, op) => op === 'ListObjectsV2',
  'huge-body': isGet,
  'huge-chunked': isGet,
  'slow-body': isGet,
  'short-body': isGet,
  cut: isGet,
  'cut-change': isGet,
  'cl-conflict': () => true,
  'cl-te': () => true,
  'trailing-garbage': () => true,
  drip: () => true,
  conflict409: (req, op) =>
    ['PutObject', 'CopyObject', 'CompleteMultipartUpload'].includes(op) &&
    (req.get('if-none-match') !== undefined || req.get('if-match') !== undefined),
  status: () => true,
  'delete-errors': (req, op) => op === 'DeleteObjects',
};

function usage(msg) {
  process.stderr.write(`s3mini.js: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    port: 0, buckets: [], log: null, logHeaders: [], minPartSize: 5 * MiB, region: 'us-east-1',
    conditional: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${flag} needs an argument`);
      return argv[++i];
    };
    switch (flag) {
      case '--port': opts.port = Number(value()); break;
      case '--bucket': opts.buckets.push(value()); break;
      case '--log': opts.log = value(); break;
      case '--log-header': opts.logHeaders.push(value().toLowerCase()); break;
      case '--min-part-size': opts.minPartSize = Number(value()); break;
      case '--region': opts.region = value(); break;
      // Ignore If-None-Match / If-Match on writes, as s3rver and Garage do.
      case '--no-conditional': opts.conditional = false; break;
      default: usage(`unknown argument ${flag}`);
    }
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) usage('bad --port');
  if (!Number.isInteger(opts.minPartSize) || opts.minPartSize < 0) usage('bad --min-part-size');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const logFd = opts.log === null ? null : fs.openSync(opts.log, 'a');

// ------------------------------------------------------------------ state

// name -> { name, created, objects: Map key -> object, sorted, uploads: Map id -> upload }
// object: { data, etag (unquoted), lastModified (ms), headers: {lower: value},
//           meta: [[lower name without x-amz-meta-, value]], storageClass }
const buckets = new Map();
let fault = null; // { mode, left, match, arg }
let logLines = [];
let seq = 0;
let uploadSeq = 0;
let stats = { requests: 0, faults: 0, methods: {}, connections: 0 };

const nowSecond = () => Math.floor(Date.now() / 1000) * 1000;
const iso = (ms) => new Date(ms).toISOString();
const httpDate = (ms) => new Date(ms).toUTCString();
const md5 = (data) => crypto.createHash('md5').update(data).digest();

function newBucket(name) {
  const b = { name, created: nowSecond(), objects: new Map(), sorted: null, uploads: new Map() };
  buckets.set(name, b);
  return b;
}

function putObj(b, key, obj) {
  if (!b.objects.has(key)) b.sorted = null;
  b.objects.set(key, obj);
}

function delObj(b, key) {
  if (b.objects.delete(key)) b.sorted = null;
}

// UTF-8 byte order is code point order; UTF-16 code unit order differs only
// where a surrogate meets a code unit at or above U+E000.
function cmpUtf8(a, b) {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      const xs = x >= 0xd800 && x <= 0xdfff;
      const ys = y >= 0xd800 && y <= 0xdfff;
      if (xs !== ys) return xs ? 1 : -1;
      return x < y ? -1 : 1;
    }
  }
  return a.length < b.length ? -1 : 1;
}

function sortedKeys(b) {
  if (!b.sorted) b.sorted = [...b.objects.keys()].sort(cmpUtf8);
  return b.sorted;
}

// First index whose key is > s (strict) or >= s.
function bound(keys, s, strict) {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const c = cmpUtf8(keys[mid], s);
    if (c < 0 || (strict && c === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function logLine(req, what) {
  let line = `${req.seq} ${req.method} ${req.target} -> ${what}`;
  for (const name of opts.logHeaders) {
    const v = req.get ? req.get(name) : undefined;
    if (v !== undefined) line += ` ${name}=${v}`;
  }
  logLines.push(line);
  if (logLines.length > 100000) logLines = logLines.slice(-50000);
  if (logFd !== null) fs.writeSync(logFd, `${line}\n`);
}

function takeFault(req, op) {
  const range = req.get('range');
  const seen = `${req.method} ${req.target}${range ? ` Range: ${range}` : ''}`;
  if (!fault || !seen.includes(fault.match)) return null;
  if (!FAULTS[fault.mode](req, op)) return null;
  const taken = { mode: fault.mode, arg: fault.arg };
  if (--fault.left <= 0) fault = null;
  stats.faults++;
  return taken;
}

// ------------------------------------------------------------------ errors

class S3Error extends Error {
  constructor(status, code, message, extra = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}

const noSuchBucket = (name) =>
  new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: name });
const noSuchKey = (key) =>
  new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
const noSuchUpload = (id) =>
  new S3Error(
    404,
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    { UploadId: id },
  );
const preconditionFailed = (condition) =>
  new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
    Condition: condition,
  });
const invalidArgument = (message, name, value) =>
  new S3Error(400, 'InvalidArgument', message, { ArgumentName: name, ArgumentValue: value });
const malformedXML = () =>
  new S3Error(
    400,
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema',
  );
const notImplemented = (what) =>
  new S3Error(501, 'NotImplemented', 'A header you provided implies functionality that is not implemented', {
    Header: what,
  });
const conflict409 = () =>
  new S3Error(
    409,
    'ConditionalRequestConflict',
    'A conflicting conditional operation is currently in progress against this resource. Please try again.',
  );

// ------------------------------------------------------------------ XML

// XML 1.0 cannot carry most control characters even escaped; S3 writes them
// as character references all the same, and so do we. CR is escaped so that
// parsers do not fold it into LF.
function esc(s) {
  return String(s).replace(/[&<>"'\x00-\x08\x0b\x0c\x0d\x0e-\x1f]/g, (c) => {
    switch (c) {
      case '&': return '&amp;';
      case '<': return '&lt;';
      case '>': return '&gt;';
      case '"': return '&quot;';
      case "'": return '&apos;';
      default: return `&#x${c.charCodeAt(0).toString(16).toUpperCase()};`;
    }
  });
}

function unesc(s) {
  return s.replace(/<!\[CDATA\[([\s\S]*?)\]\]>|&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (m, cdata, ent) => {
    if (cdata !== undefined) return cdata;
    switch (ent) {
      case 'amp': return '&';
      case 'lt': return '<';
      case 'gt': return '>';
      case 'quot': return '"';
      case 'apos': return "'";
      default:
        return String.fromCodePoint(ent[1] === 'x' ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10));
    }
  });
}

// What S3 does for encoding-type=url, as observed: form encoding (space is
// "+") of the UTF-8 bytes, with "/" left alone.
function urlEncodeS3(s) {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9.\-_*/]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const tag = (name, value) => `<${name}>${esc(value)}</${name}>`;
const enctag = (name, value, enc) => `<${name}>${enc ? urlEncodeS3(value) : esc(value)}</${name}>`;

function xmlRes(status, xml, headers = []) {
  return {
    status,
    headers: [['Content-Type', 'application/xml'], ...headers],
    body: Buffer.from(XML_DECL + xml, 'utf8'),
  };
}

function errorRes(err, requestId, resource) {
  let xml = `<Error><Code>${esc(err.code)}</Code><Message>${esc(err.message)}</Message>`;
  for (const [name, value] of Object.entries(err.extra)) xml += tag(name, value);
  if (resource) xml += tag('Resource', resource);
  xml += `<RequestId>${requestId}</RequestId><HostId>${hostId()}</HostId></Error>`;
  return xmlRes(err.status, xml, err.headers || []);
}

function hostId() {
  return crypto.randomBytes(48).toString('base64');
}

// ------------------------------------------------------------ HTTP reading

class BadRequest extends Error {}

class Request {
  constructor(method, target, version, headers) {
    this.method = method;
    this.target = target;
    this.version = version;
    this.headerList = headers; // [[lower name, value]]
    this.h = new Map();
    for (const [name, value] of headers) {
      this.h.set(name, this.h.has(name) ? `${this.h.get(name)}, ${value}` : value);
    }
    const conn = (this.get('connection') || '').toLowerCase().split(',').map((s) => s.trim());
    this.keepAlive = version === '1.0' ? conn.includes('keep-alive') : !conn.includes('close');
    this.body = EMPTY;
    this.seq = 0;
    this.requestId = crypto.randomBytes(8).toString('hex').toUpperCase();
  }

  get(name) {
    return this.h.get(name);
  }
}

const conns = new Set();

class Conn {
  constructor(sock) {
    this.sock = sock;
    this.chunks = [];
    this.len = 0;
    this.ended = false;
    this.closed = false;
    this.waiter = null;
    this.counted = false;
    conns.add(this);
    sock.setNoDelay(true);
    sock.on('data', (d) => {
      this.chunks.push(d);
      this.len += d.length;
      this.notify();
    });
    sock.on('end', () => {
      this.ended = true;
      this.notify();
    });
    sock.on('close', () => {
      this.closed = true;
      this.ended = true;
      conns.delete(this);
      this.notify();
    });
    sock.on('error', () => {}); // 'close' follows
    this.run().catch((err) => {
      process.stderr.write(`s3mini.js: connection: ${err.stack || err}\n`);
      sock.destroy();
    });
  }

  notify() {
    const w = this.waiter;
    this.waiter = null;
    if (w) w();
  }

  wait() {
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  indexOfNL() {
    let off = 0;
    for (const c of this.chunks) {
      const i = c.indexOf(10);
      if (i >= 0) return off + i;
      off += c.length;
    }
    return -1;
  }

  take(n) {
    if (n === 0) return EMPTY;
    const first = this.chunks[0];
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.len -= n;
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let o = 0;
    while (o < n) {
      const c = this.chunks[0];
      const k = Math.min(c.length, n - o);
      c.copy(out, o, 0, k);
      o += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.len -= n;
    return out;
  }

  // Waits until n bytes are buffered; false if the client left first.
  async need(n) {
    while (this.len < n) {
      if (this.ended) return false;
      await this.wait();
    }
    return true;
  }

  // A line without its CRLF (latin1, so bytes round-trip), or null at EOF.
  async line(max) {
    for (;;) {
      const i = this.indexOfNL();
      if (i >= 0) {
        if (i > max) throw new BadRequest('line too long');
        const b = this.take(i + 1);
        let s = b.toString('latin1', 0, i);
        if (s.endsWith('\r')) s = s.slice(0, -1);
        return s;
      }
      if (this.len > max) throw new BadRequest('line too long');
      if (this.ended) return null;
      await this.wait();
    }
  }

  async readRequest() {
    let start;
    do {
      start = await this.line(MAX_HEAD);
      if (start === null) return null;
    } while (start === '');
    const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/(1\.[01])$/.exec(start);
    if (!m) throw new BadRequest(`bad request line ${JSON.stringify(start.slice(0, 200))}`);
    const headers = [];
    let size = start.length;
    for (;;) {
      const l = await this.line(MAX_HEAD);
      if (l === null) return null;
      if (l === '') break;
      size += l.length;
      if (size > MAX_HEAD) throw new BadRequest('request head too long');
      if ((l[0] === ' ' || l[0] === '\t') && headers.length) {
        headers[headers.length - 1][1] += ` ${l.trim()}`;
        continue;
      }
      const colon = l.indexOf(':');
      if (colon <= 0) throw new BadRequest(`bad header line ${JSON.stringify(l.slice(0, 200))}`);
      headers.push([l.slice(0, colon).trim().toLowerCase(), l.slice(colon + 1).trim()]);
    }
    return new Request(m[1], m[2], m[3], headers);
  }

  // { chunked } or { length }.
  static framing(req) {
    const te = req.get('transfer-encoding');
    if (te !== undefined) {
      const codings = te.toLowerCase().split(',').map((s) => s.trim()).filter(Boolean);
      if (codings[codings.length - 1] !== 'chunked') throw new BadRequest('Transfer-Encoding without chunked');
      return { chunked: true };
    }
    const cls = [...new Set(req.headerList.filter(([n]) => n === 'content-length').map(([, v]) => v))];
    if (cls.length === 0) return { length: 0 };
    if (cls.length > 1 || !/^\d+$/.test(cls[0])) throw new BadRequest('bad Content-Length');
    return { length: Number(cls[0]) };
  }

  async readBody(framing) {
    if (!framing.chunked) {
      if (!(await this.need(framing.length))) return null;
      return this.take(framing.length);
    }
    const parts = [];
    let total = 0;
    for (;;) {
      const l = await this.line(4096);
      if (l === null) return null;
      const sizeText = l.split(';')[0].trim();
      if (!/^[0-9a-fA-F]{1,15}$/.test(sizeText)) throw new BadRequest('bad chunk size');
      const size = parseInt(sizeText, 16);
      if (size === 0) {
        for (;;) {
          const t = await this.line(MAX_HEAD);
          if (t === null) return null;
          if (t === '') break;
        }
        return Buffer.concat(parts);
      }
      total += size;
      if (total > MAX_BODY) throw new BadRequest('body too large');
      if (!(await this.need(size + 2))) return null;
      parts.push(this.take(size));
      if (this.take(2).toString('latin1') !== '\r\n') throw new BadRequest('bad chunk framing');
    }
  }

  // Resolves true once buf is handed over (or queued below the high-water
  // mark), false if the connection is gone.
  write(buf) {
    if (this.closed || this.sock.destroyed) return Promise.resolve(false);
    if (this.sock.write(buf)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        this.sock.off('drain', done);
        this.sock.off('close', done);
        resolve(!this.closed);
      };
      this.sock.on('drain', done);
      this.sock.on('close', done);
    });
  }

  // Resolves once buf has been handed to the kernel.
  flush(buf) {
    if (this.closed || this.sock.destroyed) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.sock.write(buf, (err) => resolve(!err));
    });
  }

  async run() {
    while (!this.closed) {
      let req = null;
      let ok;
      try {
        req = await this.readRequest();
        if (!req) break;
        ok = await this.serve(req);
      } catch (err) {
        if (!(err instanceof BadRequest)) throw err;
        if (req && req.seq) logLine(req, `ERROR:${err.message}`);
        const e = new S3Error(400, 'BadRequest', `s3mini: ${err.message}`);
        const res = errorRes(e, req ? req.requestId : 'BAD');
        await this.flush(Buffer.concat([headBytes(res.status, [
          ['Content-Type', 'application/xml'],
          ['Content-Length', String(res.body.length)],
          ['Connection', 'close'],
        ]), res.body]));
        this.sock.end();
        return;
      }
      if (!ok) return;
    }
    if (!this.closed) this.sock.end();
  }

  // Reads the body of req and answers it; false when the connection is over.
  async serve(req) {
    const ctl = req.target.startsWith('/__ctl/');
    if (!ctl) {
      req.seq = ++seq;
      stats.requests++;
      stats.methods[req.method] = (stats.methods[req.method] || 0) + 1;
      if (!this.counted) stats.connections++;
      this.counted = true;
    }
    const framing = Conn.framing(req);
    if (framing.length > MAX_BODY) {
      if (req.seq) logLine(req, '400');
      const res = errorRes(
        new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size'),
        req.requestId,
      );
      await this.send(req, res, false);
      this.sock.end();
      return false;
    }
    const expect = (req.get('expect') || '').toLowerCase().includes('100-continue');
    if (expect && (framing.chunked || framing.length > 0)) {
      await this.write(Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1'));
    }
    const body = await this.readBody(framing);
    if (body === null) {
      if (req.seq) logLine(req, 'ABORTED');
      this.sock.destroy();
      return false;
    }
    req.body = body;
    if (ctl) {
      const res = control(req);
      return this.send(req, res, req.keepAlive);
    }
    return this.serveS3(req);
  }

  async serveS3(req) {
    let t = null;
    let op = null;
    let taken = null;
    let res;
    try {
      t = parseTarget(req.target);
      op = classify(req, t);
      taken = takeFault(req, op);
      const mode = taken && taken.mode;
      if (mode === 'status') {
        res = statusFault(taken.arg, req.requestId);
      } else if (mode === 'conflict409') {
        throw conflict409();
      } else if (mode === 'huge-body' || mode === 'huge-chunked') {
        logLine(req, `FAULT:${mode}`);
        return this.streamHuge(req, t, mode === 'huge-chunked', taken.arg);
      } else if (mode === 'slow-body') {
        logLine(req, `FAULT:${mode}`);
        return this.streamHuge(req, t, false, '', taken.arg ? Number(taken.arg) : 4096);
      } else {
        res = dispatch(op, req, t, taken);
      }
    } catch (err) {
      if (!(err instanceof S3Error)) {
        process.stderr.write(`s3mini.js: ${req.method} ${req.target}: ${err.stack || err}\n`);
        err = new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.');
      }
      const resource = t ? `/${t.bucket}${t.bucket && t.key ? `/${t.key}` : ''}` : null;
      res = errorRes(err, req.requestId, resource);
    }
    logLine(req, taken ? `FAULT:${taken.mode}` : String(res.status));
    if (taken && WRITE_FAULTS[taken.mode]) return WRITE_FAULTS[taken.mode](this, req, res, taken.arg);
    return this.send(req, res, req.keepAlive);
  }

  // The head and body bytes of res for req. Options: cl (the Content-Length
  // to announce, or null for none), close, extra [[name, value]].
  serialize(req, res, { cl, close = false, extra = [] } = {}) {
    const bodyless = req.method === 'HEAD' || res.status === 204 || res.status === 304;
    const body = bodyless ? EMPTY : res.body || EMPTY;
    const headers = [
      ['x-amz-id-2', hostId()],
      ['x-amz-request-id', req.requestId],
      ['Date', httpDate(Date.now())],
      ...res.headers,
    ];
    if (cl === undefined) {
      cl = res.contentLength !== undefined ? res.contentLength : (res.body || EMPTY).length;
      if (res.status === 204 || res.status === 304) cl = null;
    }
    if (cl !== null) headers.push(['Content-Length', String(cl)]);
    headers.push(...extra);
    headers.push(['Server', 'AmazonS3']);
    if (close) headers.push(['Connection', 'close']);
    return { head: headBytes(res.status, headers), body };
  }

  async send(req, res, keepAlive) {
    const { head, body } = this.serialize(req, res, { close: !keepAlive });
    const ok = await this.write(body.length < 65536 ? Buffer.concat([head, body]) : head) &&
      (body.length < 65536 || (await this.write(body)));
    if (!keepAlive) {
      this.sock.end();
      return false;
    }
    return ok;
  }

  // rate: bytes per second, or 0 for as fast as the client reads.
  async streamHuge(req, t, chunked, arg, rate = 0) {
    const bucket = t && t.bucket ? t.bucket : 'bucket';
    const limit = arg ? Number(arg) : chunked ? Infinity : 1073741824;
    const res = { status: 200, headers: [['Content-Type', 'application/xml']] };
    const { head } = this.serialize(req, res, {
      cl: chunked ? null : limit,
      extra: chunked ? [['Transfer-Encoding', 'chunked']] : [],
    });
    if (!(await this.write(head))) return false;
    let sent = 0;
    let n = 0;
    const lm = iso(nowSecond());
    let pending = Buffer.from(
      `${XML_DECL}<ListBucketResult xmlns="${NS}"><Name>${esc(bucket)}</Name><Prefix></Prefix>` +
        '<KeyCount>1000</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>',
    );
    while (!this.closed) {
      const parts = [];
      for (let i = 0; i < 400; i++, n++) {
        parts.push(
          `<Contents><Key>huge/${String(n).padStart(12, '0')}</Key><LastModified>${lm}</LastModified>` +
            '<ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag><Size>0</Size>' +
            '<StorageClass>STANDARD</StorageClass></Contents>',
        );
      }
      let buf = Buffer.concat([pending, Buffer.from(parts.join(''))]);
      pending = EMPTY;
      if (sent + buf.length > limit) buf = buf.subarray(0, limit - sent);
      const out = chunked
        ? Buffer.concat([Buffer.from(`${buf.length.toString(16)}\r\n`), buf, Buffer.from('\r\n')])
        : buf;
      if (buf.length && !(await this.writePaced(out, rate))) return false;
      sent += buf.length;
      if (sent >= limit) {
        if (chunked && !(await this.write(Buffer.from('0\r\n\r\n')))) return false;
        return req.keepAlive || (this.sock.end(), false);
      }
      await new Promise(setImmediate); // let 'close' in
    }
    return false;
  }

  // Writes buf, at rate bytes per second in tenths when rate is set.
  async writePaced(buf, rate) {
    if (!rate) return this.write(buf);
    const step = Math.max(1, Math.floor(rate / 10));
    for (let off = 0; off < buf.length; off += step) {
      await sleep(100);
      if (this.closed || !(await this.write(buf.subarray(off, off + step)))) return false;
    }
    return true;
  }
}

function headBytes(status, headers) {
  let s = `HTTP/1.1 ${status} ${REASONS[status] || 'Unknown'}\r\n`;
  for (const [name, value] of headers) s += `${name}: ${String(value).replace(/[\r\n]/g, ' ')}\r\n`;
  return Buffer.from(`${s}\r\n`, 'latin1');
}

function statusFault(arg, requestId) {
  const [statusText, codeArg] = String(arg || '503').split(':');
  const status = Number(statusText);
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    return errorRes(new S3Error(500, 'InternalError', `s3mini: bad status fault arg ${arg}`), requestId);
  }
  const [code, message] = STATUS_CODES[status] ||
    (status >= 500 ? ['InternalError', 'We encountered an internal error. Please try again.'] : ['InvalidRequest', 'Invalid Request']);
  return errorRes(new S3Error(status, codeArg || code, message), requestId);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Faults that change how an answer is written.
const WRITE_FAULTS = {
  async 'short-body'(conn, req, res) {
    const full = res.body || EMPTY;
    const half = Math.floor(full.length / 2);
    const { head } = conn.serialize(req, res, { cl: half, close: !req.keepAlive });
    if (!(await conn.write(Buffer.concat([head, full.subarray(0, half)])))) return false;
    if (!req.keepAlive) conn.sock.end();
    return req.keepAlive;
  },
  async cut(conn, req, res, arg) {
    const { head, body } = conn.serialize(req, res);
    const n = arg !== undefined && arg !== '' ? Math.min(Number(arg), body.length) : Math.floor(body.length / 2);
    await conn.flush(Buffer.concat([head, body.subarray(0, n)]));
    conn.sock.destroy();
    return false;
  },
  // As cut, then the object is overwritten (its last byte flipped, a new
  // ETag): a client resuming the download must notice.
  async 'cut-change'(conn, req, res, arg) {
    const alive = await WRITE_FAULTS.cut(conn, req, res, arg);
    const t = parseTarget(req.target);
    const b = buckets.get(t.bucket);
    const obj = b && b.objects.get(t.key);
    if (obj && obj.data.length) {
      const data = Buffer.from(obj.data);
      data[data.length - 1] ^= 1;
      b.objects.set(t.key, { ...obj, data, etag: md5(data).toString('hex'), lastModified: nowSecond() });
    }
    return alive;
  },
  async 'cl-conflict'(conn, req, res) {
    const len = (res.body || EMPTY).length;
    const other = len > 1 ? Math.floor(len / 2) : len + 1;
    const { head, body } = conn.serialize(req, res, { extra: [['Content-Length', String(other)]], close: true });
    await conn.flush(Buffer.concat([head, body]));
    conn.sock.end();
    return false;
  },
  async 'cl-te'(conn, req, res) {
    const { head, body } = conn.serialize(req, res, { extra: [['Transfer-Encoding', 'chunked']], close: true });
    const chunked = body.length
      ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')])
      : req.method === 'HEAD' ? EMPTY : Buffer.from('0\r\n\r\n');
    await conn.flush(Buffer.concat([head, chunked]));
    conn.sock.end();
    return false;
  },
  async 'trailing-garbage'(conn, req, res, arg) {
    const { head, body } = conn.serialize(req, res, { close: !req.keepAlive });
    const junk = arg === 'random'
      ? crypto.randomBytes(64)
      : Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\njunk\n', 'latin1');
    if (!(await conn.write(Buffer.concat([head, body, junk])))) return false;
    if (!req.keepAlive) conn.sock.end();
    return req.keepAlive;
  },
  async drip(conn, req, res, arg) {
    const ms = arg !== undefined && arg !== '' ? Number(arg) : 500;
    const { head, body } = conn.serialize(req, res, { close: !req.keepAlive });
    const all = Buffer.concat([head, body]);
    for (let i = 0; i < all.length; i++) {
      await sleep(ms);
      if (!(await conn.write(all.subarray(i, i + 1)))) return false;
    }
    if (!req.keepAlive) conn.sock.end();
    return req.keepAlive;
  },
};

// ------------------------------------------------------------------ routing

function pdecode(raw) {
  const bytes = Buffer.from(raw, 'latin1');
  const out = Buffer.allocUnsafe(bytes.length);
  let o = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x25) {
      const hex = bytes.toString('latin1', i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.");
      out[o++] = parseInt(hex, 16);
      i += 2;
    } else {
      out[o++] = bytes[i];
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(out.subarray(0, o));
  } catch (e) {
    throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.");
  }
}

function parseTarget(target) {
  let t = target;
  if (/^https?:\/\//i.test(t)) {
    const slash = t.indexOf('/', t.indexOf('//') + 2);
    t = slash < 0 ? '/' : t.slice(slash);
  }
  const qi = t.indexOf('?');
  const rawPath = qi < 0 ? t : t.slice(0, qi);
  const rawQuery = qi < 0 ? '' : t.slice(qi + 1);
  if (!rawPath.startsWith('/')) throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.");
  const rest = rawPath.slice(1);
  const slash = rest.indexOf('/');
  const bucket = pdecode(slash < 0 ? rest : rest.slice(0, slash));
  const key = slash < 0 ? '' : pdecode(rest.slice(slash + 1));
  // The query is read as UTF-8 (URLSearchParams); "+" means space there.
  const q = new URLSearchParams(Buffer.from(rawQuery, 'latin1').toString('utf8'));
  return { bucket, key, q };
}

function classify(req, { bucket, key, q }) {
  const m = req.method;
  const sub = UNSUPPORTED_SUBRESOURCES.some((s) => q.has(s));
  if (!bucket) return m === 'GET' ? 'ListBuckets' : 'MethodNotAllowed';
  if (key === '') {
    switch (m) {
      case 'GET':
        if (q.has('location')) return 'GetBucketLocation';
        if (q.has('uploads')) return 'ListMultipartUploads';
        if (q.has('versioning')) return 'GetBucketVersioning';
        if (sub) return 'NotImplemented';
        return q.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
      case 'PUT': return sub || q.has('versioning') ? 'NotImplemented' : 'CreateBucket';
      case 'DELETE': return sub ? 'NotImplemented' : 'DeleteBucket';
      case 'HEAD': return 'HeadBucket';
      case 'POST': return q.has('delete') ? 'DeleteObjects' : 'NotImplemented';
      default: return 'MethodNotAllowed';
    }
  }
  const copy = req.get('x-amz-copy-source') !== undefined;
  switch (m) {
    case 'PUT':
      if (q.has('uploadId') || q.has('partNumber')) return copy ? 'UploadPartCopy' : 'UploadPart';
      if (sub) return 'NotImplemented';
      return copy ? 'CopyObject' : 'PutObject';
    case 'GET':
      if (q.has('uploadId')) return 'ListParts';
      return sub ? 'NotImplemented' : 'GetObject';
    case 'HEAD': return 'HeadObject';
    case 'DELETE':
      if (q.has('uploadId')) return 'AbortMultipartUpload';
      return sub ? 'NotImplemented' : 'DeleteObject';
    case 'POST':
      if (q.has('uploads')) return 'CreateMultipartUpload';
      if (q.has('uploadId')) return 'CompleteMultipartUpload';
      return 'NotImplemented';
    default: return 'MethodNotAllowed';
  }
}

function dispatch(op, req, t, taken) {
  switch (op) {
    case 'ListBuckets': return listBuckets();
    case 'CreateBucket': return createBucket(t.bucket);
    case 'DeleteBucket': return deleteBucket(t.bucket);
    case 'HeadBucket': getBucket(t.bucket); return { status: 200, headers: [['x-amz-bucket-region', opts.region]], body: EMPTY };
    case 'GetBucketLocation':
      getBucket(t.bucket);
      return xmlRes(200, `<LocationConstraint xmlns="${NS}">${opts.region === 'us-east-1' ? '' : esc(opts.region)}</LocationConstraint>`);
    case 'GetBucketVersioning': getBucket(t.bucket); return xmlRes(200, `<VersioningConfiguration xmlns="${NS}"/>`);
    case 'ListObjects': return listObjects(t, false, null);
    case 'ListObjectsV2': return listObjects(t, true, taken);
    case 'ListMultipartUploads': return listUploads(t);
    case 'DeleteObjects': return deleteObjects(req, t, taken);
    case 'PutObject': return putObject(req, t);
    case 'CopyObject': return copyObject(req, t);
    case 'GetObject':
    case 'HeadObject': return getObject(req, t);
    case 'DeleteObject': getBucket(t.bucket); delObj(buckets.get(t.bucket), t.key); return { status: 204, headers: [], body: EMPTY };
    case 'CreateMultipartUpload': return createUpload(req, t);
    case 'UploadPart':
    case 'UploadPartCopy': return uploadPart(req, t, op === 'UploadPartCopy');
    case 'CompleteMultipartUpload': return completeUpload(req, t);
    case 'AbortMultipartUpload': return abortUpload(t);
    case 'ListParts': return listParts(t);
    case 'NotImplemented':
      throw new S3Error(501, 'NotImplemented', 'A header you provided implies functionality that is not implemented');
    default:
      throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.', {
        Method: req.method,
        ResourceType: t.key ? 'OBJECT' : 'BUCKET',
      });
  }
}

// ------------------------------------------------------------------ buckets

function getBucket(name) {
  const b = buckets.get(name);
  if (!b) throw noSuchBucket(name);
  return b;
}

function validBucketName(name) {
  return /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) && !/^\d+\.\d+\.\d+\.\d+$/.test(name) && !name.includes('..');
}

function listBuckets() {
  const list = [...buckets.values()].sort((a, b) => cmpUtf8(a.name, b.name));
  return xmlRes(
    200,
    `<ListAllMyBucketsResult xmlns="${NS}">${OWNER_XML}<Buckets>${list
      .map((b) => `<Bucket>${tag('Name', b.name)}<CreationDate>${iso(b.created)}</CreationDate></Bucket>`)
      .join('')}</Buckets></ListAllMyBucketsResult>`,
  );
}

function createBucket(name) {
  if (!validBucketName(name)) {
    throw new S3Error(400, 'InvalidBucketName', 'The specified bucket is not valid.', { BucketName: name });
  }
  // In us-east-1 S3 answers 200 when you re-create a bucket you own.
  if (!buckets.has(name)) newBucket(name);
  return { status: 200, headers: [['Location', `/${name}`]], body: EMPTY };
}

function deleteBucket(name) {
  const b = getBucket(name);
  if (b.objects.size) {
    throw new S3Error(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty', { BucketName: name });
  }
  buckets.delete(name);
  return { status: 204, headers: [], body: EMPTY };
}

// ------------------------------------------------------------------ listing

function encodingType(q) {
  const e = q.get('encoding-type');
  if (e === null) return false;
  if (e !== 'url') throw invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', e);
  return true;
}

function maxParam(q, name) {
  const v = q.get(name);
  if (v === null) return 1000;
  if (!/^\d+$/.test(v) || Number(v) > 2147483647) {
    throw invalidArgument(`Provided ${name} not an integer or within integer range`, name, v);
  }
  return Math.min(Number(v), 1000);
}

const TOKEN_TAG = 's3mini\0';

function encodeToken(key) {
  return Buffer.from(TOKEN_TAG + key, 'utf8').toString('base64');
}

function decodeToken(token) {
  const s = Buffer.from(token, 'base64').toString('utf8');
  if (!s.startsWith(TOKEN_TAG) || encodeToken(s.slice(TOKEN_TAG.length)) !== token) {
    throw invalidArgument('The continuation token provided is incorrect', 'continuation-token', token);
  }
  return s.slice(TOKEN_TAG.length);
}

// names: sorted; returns up to max entries after marker under prefix, each
// { key } or { prefix } (a common prefix), and whether more follow.
function listNames(names, prefix, delimiter, marker, max) {
  let i = bound(names, prefix, false);
  if (marker) i = Math.max(i, bound(names, marker, true));
  const items = [];
  let truncated = false;
  for (; i < names.length; i++) {
    const k = names[i];
    if (!k.startsWith(prefix)) break;
    let cp = null;
    if (delimiter) {
      const j = k.indexOf(delimiter, prefix.length);
      if (j >= 0) cp = k.slice(0, j + delimiter.length);
    }
    if (cp !== null) {
      if (marker && cmpUtf8(cp, marker) <= 0) continue;
      if (items.length && items[items.length - 1].prefix === cp) continue;
    }
    if (items.length >= max) {
      truncated = max > 0;
      break;
    }
    items.push(cp !== null ? { prefix: cp } : { key: k });
  }
  return { items, truncated };
}

function contentsXml(key, obj, enc, owner) {
  return (
    `<Contents>${enctag('Key', key, enc)}<LastModified>${iso(obj.lastModified)}</LastModified>` +
    `<ETag>&quot;${obj.etag}&quot;</ETag><Size>${obj.size !== undefined ? obj.size : obj.data.length}</Size>` +
    `${owner ? OWNER_XML : ''}<StorageClass>${esc(obj.storageClass)}</StorageClass></Contents>`
  );
}

function listObjects(t, v2, taken) {
  const b = getBucket(t.bucket);
  const q = t.q;
  const enc = encodingType(q);
  const maxKeys = maxParam(q, 'max-keys');
  const prefix = q.get('prefix') || '';
  const delimiter = q.get('delimiter') || '';
  const mode = taken && taken.mode;
  const token = q.get('continuation-token');
  const startAfter = q.get('start-after') || '';
  const marker = q.get('marker') || '';
  let from;
  if (!v2) from = marker;
  else if (token !== null && mode !== 'repeat-token' && mode !== 'token-cycle') from = decodeToken(token);
  else from = startAfter;

  const { items, truncated: more } = listNames(sortedKeys(b), prefix, delimiter, from, maxKeys);
  let truncated = more;
  const last = items.length ? items[items.length - 1].key ?? items[items.length - 1].prefix : '';
  let next = truncated ? encodeToken(last) : null;
  if (mode === 'repeat-token') {
    truncated = true;
    next = token || 'loop';
  } else if (mode === 'token-cycle') {
    truncated = true;
    next = token === 'A' ? 'B' : 'A';
  }
  const owner = v2 ? q.get('fetch-owner') === 'true' : true;
  const entries = items.filter((it) => it.key !== undefined).map((it) => [it.key, b.objects.get(it.key)]);
  if (mode === 'list-inject') {
    const key = taken.arg || '../../evil';
    const fake = { lastModified: nowSecond(), etag: md5(Buffer.from('evil!')).toString('hex'), size: 5, storageClass: 'STANDARD' };
    let at = entries.findIndex(([k]) => cmpUtf8(k, key) > 0);
    if (at < 0) at = entries.length;
    entries.splice(at, 0, [key, fake]);
  }
  const cps = items.filter((it) => it.prefix !== undefined).map((it) => it.prefix);

  let xml = `<ListBucketResult xmlns="${NS}">${tag('Name', b.name)}${enctag('Prefix', prefix, enc)}`;
  if (!v2) xml += enctag('Marker', marker, enc);
  if (!v2 && truncated && delimiter) xml += enctag('NextMarker', last, enc);
  if (v2 && token !== null) xml += tag('ContinuationToken', token);
  if (v2 && next !== null) xml += tag('NextContinuationToken', next);
  if (v2) xml += `<KeyCount>${entries.length + cps.length}</KeyCount>`;
  xml += `<MaxKeys>${maxKeys}</MaxKeys>`;
  if (delimiter) xml += enctag('Delimiter', delimiter, enc);
  if (enc) xml += '<EncodingType>url</EncodingType>';
  xml += `<IsTruncated>${truncated}</IsTruncated>`;
  if (v2 && startAfter) xml += enctag('StartAfter', startAfter, enc);
  for (const [key, obj] of entries) xml += contentsXml(key, obj, enc, owner);
  for (const cp of cps) xml += `<CommonPrefixes>${enctag('Prefix', cp, enc)}</CommonPrefixes>`;
  xml += '</ListBucketResult>';
  return xmlRes(200, xml);
}

// ------------------------------------------------------------------ objects

function keyCheck(key) {
  if (Buffer.byteLength(key) > 1024) {
    throw new S3Error(400, 'KeyTooLongError', 'Your key is too long', { MaxSizeAllowed: 1024 });
  }
}

const etagList = (v) =>
  v.split(',').map((s) => s.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1')).filter(Boolean);
const etagMatches = (header, etag) => {
  const list = etagList(header);
  return list.includes('*') || list.includes(etag);
};

// Checked when the write commits: after the body arrived, with nothing in
// between that could let another request change the key.
function writePreconditions(req, b, key) {
  if (!opts.conditional) return;
  const inm = req.get('if-none-match');
  const im = req.get('if-match');
  if (inm !== undefined && inm.trim() !== '*') throw notImplemented('If-None-Match');
  const cur = b.objects.get(key);
  if (inm !== undefined && cur) throw preconditionFailed('If-None-Match');
  if (im !== undefined) {
    if (!cur) throw noSuchKey(key);
    if (!etagMatches(im, cur.etag)) throw preconditionFailed('If-Match');
  }
}

// Metadata and stored headers of a write request.
function writeAttributes(req) {
  const meta = [];
  const seen = new Map();
  for (const [name, value] of req.headerList) {
    if (!name.startsWith('x-amz-meta-')) continue;
    const n = name.slice('x-amz-meta-'.length);
    if (seen.has(n)) meta[seen.get(n)][1] += `,${value}`;
    else {
      seen.set(n, meta.length);
      meta.push([n, value]);
    }
  }
  const headers = {};
  for (const [lower] of STORED_HEADERS) {
    const v = req.get(lower);
    if (v !== undefined) headers[lower] = v;
  }
  if (headers['content-encoding'] !== undefined) {
    const rest = headers['content-encoding'].split(',').map((s) => s.trim()).filter((s) => s && s !== 'aws-chunked');
    if (rest.length) headers['content-encoding'] = rest.join(', ');
    else delete headers['content-encoding'];
  }
  if (headers['content-type'] === undefined) headers['content-type'] = 'binary/octet-stream';
  return { meta, headers, storageClass: req.get('x-amz-storage-class') || 'STANDARD' };
}

// The payload of a write: aws-chunked framing removed, Content-MD5 checked.
function payload(req) {
  let data = req.body;
  const sha = req.get('x-amz-content-sha256') || '';
  if (sha.startsWith('STREAMING-') || /(^|,)\s*aws-chunked\s*(,|$)/i.test(req.get('content-encoding') || '')) {
    data = decodeAwsChunked(data);
    const decoded = req.get('x-amz-decoded-content-length');
    if (decoded !== undefined && Number(decoded) !== data.length) {
      throw new S3Error(400, 'IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header');
    }
  }
  const contentMD5 = req.get('content-md5');
  if (contentMD5 !== undefined) {
    const digest = Buffer.from(contentMD5, 'base64');
    if (digest.length !== 16) throw new S3Error(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.');
    if (!md5(data).equals(digest)) {
      throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
    }
  }
  return data;
}

function decodeAwsChunked(buf) {
  const parts = [];
  let i = 0;
  for (;;) {
    const nl = buf.indexOf('\r\n', i);
    if (nl < 0) throw new S3Error(400, 'IncompleteBody', 'bad aws-chunked framing');
    const size = parseInt(buf.toString('latin1', i, nl).split(';')[0].trim(), 16);
    if (!Number.isInteger(size) || size < 0) throw new S3Error(400, 'IncompleteBody', 'bad aws-chunked framing');
    i = nl + 2;
    if (size === 0) return Buffer.concat(parts);
    if (i + size > buf.length) throw new S3Error(400, 'IncompleteBody', 'bad aws-chunked framing');
    parts.push(buf.subarray(i, i + size));
    i += size + 2;
  }
}

function makeObject(data, attrs, etag) {
  return {
    data,
    etag: etag || md5(data).toString('hex'),
    lastModified: nowSecond(),
    headers: attrs.headers,
    meta: attrs.meta,
    storageClass: attrs.storageClass,
  };
}

function putObject(req, t) {
  keyCheck(t.key);
  const data = payload(req);
  const attrs = writeAttributes(req);
  const b = getBucket(t.bucket);
  writePreconditions(req, b, t.key);
  const obj = makeObject(data, attrs);
  putObj(b, t.key, obj);
  return { status: 200, headers: [['ETag', `"${obj.etag}"`]], body: EMPTY };
}

function objectHeaders(obj) {
  const h = [['Last-Modified', httpDate(obj.lastModified)], ['ETag', `"${obj.etag}"`]];
  for (const [lower, name] of STORED_HEADERS) {
    if (obj.headers[lower] !== undefined) h.push([name, obj.headers[lower]]);
  }
  for (const [n, v] of obj.meta) h.push([`x-amz-meta-${n}`, v]);
  if (obj.storageClass !== 'STANDARD') h.push(['x-amz-storage-class', obj.storageClass]);
  if (obj.parts) h.push(['x-amz-mp-parts-count', String(obj.parts)]);
  h.push(['Accept-Ranges', 'bytes']);
  return h;
}

// 304 when the object need not be sent; throws 412.
function readPreconditions(req, obj) {
  const im = req.get('if-match');
  const inm = req.get('if-none-match');
  const ius = req.get('if-unmodified-since');
  const ims = req.get('if-modified-since');
  if (im !== undefined) {
    if (!etagMatches(im, obj.etag)) throw preconditionFailed('If-Match');
  } else if (ius !== undefined) {
    const when = Date.parse(ius);
    if (!Number.isNaN(when) && obj.lastModified > when) throw preconditionFailed('If-Unmodified-Since');
  }
  if (inm !== undefined) {
    if (etagMatches(inm, obj.etag)) return 304;
  } else if (ims !== undefined) {
    const when = Date.parse(ims);
    if (!Number.isNaN(when) && obj.lastModified <= when) return 304;
  }
  return 200;
}

// [first, last], null (no usable Range: the whole object), or 'bad' (416).
function parseRange(header, size) {
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'bad';
    return [Math.max(0, size - n), size - 1];
  }
  const first = Number(m[1]);
  if (m[2] !== '' && Number(m[2]) < first) return null; // invalid, so ignored
  if (first >= size) return 'bad';
  const last = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  return [first, last];
}

function getObject(req, t) {
  const b = getBucket(t.bucket);
  const obj = b.objects.get(t.key);
  if (!obj) throw noSuchKey(t.key);
  const headers = objectHeaders(obj);
  if (readPreconditions(req, obj) === 304) {
    return { status: 304, headers: headers.filter(([n]) => n === 'ETag' || n === 'Last-Modified'), body: EMPTY };
  }
  if (req.method === 'GET') {
    for (const [param, name] of RESPONSE_OVERRIDES) {
      const v = t.q.get(param);
      if (v === null) continue;
      const at = headers.findIndex(([n]) => n === name);
      if (at >= 0) headers[at] = [name, v];
      else headers.push([name, v]);
    }
  }
  const size = obj.data.length;
  const rangeHeader = req.get('range');
  const range = rangeHeader === undefined ? null : parseRange(rangeHeader, size);
  if (range === 'bad') {
    const err = new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable', {
      RangeRequested: rangeHeader,
      ActualObjectSize: size,
    });
    err.headers = [['Content-Range', `bytes */${size}`]];
    throw err;
  }
  if (range) {
    const [first, last] = range;
    headers.push(['Content-Range', `bytes ${first}-${last}/${size}`]);
    const body = obj.data.subarray(first, last + 1);
    return { status: 206, headers, body: req.method === 'HEAD' ? null : body, contentLength: body.length };
  }
  return { status: 200, headers, body: req.method === 'HEAD' ? null : obj.data, contentLength: size };
}

// The source of a copy: { bucket, key, obj } or an S3 error.
function copySource(req) {
  let raw = req.get('x-amz-copy-source');
  const v = raw.indexOf('?versionId=');
  if (v >= 0) raw = raw.slice(0, v);
  let s = pdecode(raw);
  if (s.startsWith('/')) s = s.slice(1);
  const slash = s.indexOf('/');
  if (slash <= 0 || slash === s.length - 1) {
    throw invalidArgument('Copy Source must mention the source bucket and key: sourcebucket/sourcekey', 'x-amz-copy-source', raw);
  }
  const bucket = s.slice(0, slash);
  const key = s.slice(slash + 1);
  const b = getBucket(bucket);
  const obj = b.objects.get(key);
  if (!obj) throw noSuchKey(key);
  const im = req.get('x-amz-copy-source-if-match');
  const inm = req.get('x-amz-copy-source-if-none-match');
  const ius = req.get('x-amz-copy-source-if-unmodified-since');
  const ims = req.get('x-amz-copy-source-if-modified-since');
  if (im !== undefined && !etagMatches(im, obj.etag)) throw preconditionFailed('x-amz-copy-source-If-Match');
  if (inm !== undefined && etagMatches(inm, obj.etag)) throw preconditionFailed('x-amz-copy-source-If-None-Match');
  if (im === undefined && ius !== undefined) {
    const when = Date.parse(ius);
    if (!Number.isNaN(when) && obj.lastModified > when) throw preconditionFailed('x-amz-copy-source-If-Unmodified-Since');
  }
  if (inm === undefined && ims !== undefined) {
    const when = Date.parse(ims);
    if (!Number.isNaN(when) && obj.lastModified <= when) throw preconditionFailed('x-amz-copy-source-If-Modified-Since');
  }
  return { bucket, key, obj };
}

function copyObject(req, t) {
  keyCheck(t.key);
  const src = copySource(req);
  const b = getBucket(t.bucket);
  const directive = (req.get('x-amz-metadata-directive') || 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw invalidArgument('Unknown metadata directive.', 'x-amz-metadata-directive', directive);
  }
  if (directive === 'COPY' && src.bucket === t.bucket && src.key === t.key &&
      req.get('x-amz-storage-class') === undefined) {
    throw new S3Error(
      400,
      'InvalidRequest',
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  let attrs;
  if (directive === 'REPLACE') attrs = writeAttributes(req);
  else {
    attrs = {
      meta: src.obj.meta.map(([n, v]) => [n, v]),
      headers: { ...src.obj.headers },
      storageClass: req.get('x-amz-storage-class') || src.obj.storageClass,
    };
  }
  writePreconditions(req, b, t.key);
  const obj = makeObject(src.obj.data, attrs);
  putObj(b, t.key, obj);
  return xmlRes(
    200,
    `<CopyObjectResult xmlns="${NS}"><LastModified>${iso(obj.lastModified)}</LastModified>` +
      `<ETag>&quot;${obj.etag}&quot;</ETag></CopyObjectResult>`,
  );
}

function deleteObjects(req, t, taken) {
  const b = getBucket(t.bucket);
  const text = payload(req).toString('utf8');
  if (!/<Delete[\s>]/.test(text)) throw malformedXML();
  const quiet = /<Quiet>\s*true\s*<\/Quiet>/i.test(text);
  const keys = [];
  for (const m of text.matchAll(/<Object>([\s\S]*?)<\/Object>/g)) {
    const k = /<Key>([\s\S]*?)<\/Key>/.exec(m[1]);
    if (!k) throw malformedXML();
    keys.push(unesc(k[1]));
  }
  if (keys.length === 0 || keys.length > 1000) throw malformedXML();
  const failing = taken && taken.mode === 'delete-errors' ? taken.arg || '' : null;
  let xml = `<DeleteResult xmlns="${NS}">`;
  for (const key of keys) {
    if (failing !== null && key.includes(failing)) {
      xml += `<Error>${tag('Key', key)}<Code>AccessDenied</Code><Message>Access Denied</Message></Error>`;
      continue;
    }
    delObj(b, key);
    if (!quiet) xml += `<Deleted>${tag('Key', key)}</Deleted>`;
  }
  xml += '</DeleteResult>';
  return xmlRes(200, xml);
}

// ------------------------------------------------------------------ multipart

function getUpload(t) {
  const b = getBucket(t.bucket);
  const id = t.q.get('uploadId');
  const u = b.uploads.get(id);
  if (!u || u.key !== t.key) throw noSuchUpload(id);
  return { b, u };
}

function createUpload(req, t) {
  keyCheck(t.key);
  const b = getBucket(t.bucket);
  const id = crypto.randomBytes(36).toString('base64url');
  b.uploads.set(id, {
    id,
    key: t.key,
    seq: ++uploadSeq,
    initiated: nowSecond(),
    attrs: writeAttributes(req),
    parts: new Map(),
  });
  return xmlRes(
    200,
    `<InitiateMultipartUploadResult xmlns="${NS}">${tag('Bucket', b.name)}${tag('Key', t.key)}` +
      `${tag('UploadId', id)}</InitiateMultipartUploadResult>`,
  );
}

function uploadPart(req, t, copy) {
  const { u } = getUpload(t);
  const pn = t.q.get('partNumber');
  if (!/^\d+$/.test(pn || '') || Number(pn) < 1 || Number(pn) > 10000) {
    throw invalidArgument('Part number must be an integer between 1 and 10000, inclusive', 'partNumber', pn);
  }
  let data;
  if (copy) {
    const src = copySource(req);
    data = src.obj.data;
    const rangeHeader = req.get('x-amz-copy-source-range');
    if (rangeHeader !== undefined) {
      const m = /^bytes=(\d+)-(\d+)$/.exec(rangeHeader.trim());
      if (!m || Number(m[2]) < Number(m[1]) || Number(m[2]) >= data.length) {
        throw invalidArgument('The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy', 'x-amz-copy-source-range', rangeHeader);
      }
      data = data.subarray(Number(m[1]), Number(m[2]) + 1);
    }
  } else {
    data = payload(req);
  }
  const part = { data: Buffer.from(data), etag: md5(data).toString('hex'), lastModified: nowSecond() };
  u.parts.set(Number(pn), part);
  if (copy) {
    return xmlRes(
      200,
      `<CopyPartResult xmlns="${NS}"><LastModified>${iso(part.lastModified)}</LastModified>` +
        `<ETag>&quot;${part.etag}&quot;</ETag></CopyPartResult>`,
    );
  }
  return { status: 200, headers: [['ETag', `"${part.etag}"`]], body: EMPTY };
}

function completeUpload(req, t) {
  const { b, u } = getUpload(t);
  const text = payload(req).toString('utf8');
  if (!/<CompleteMultipartUpload[\s>]/.test(text)) throw malformedXML();
  const list = [];
  for (const m of text.matchAll(/<Part>([\s\S]*?)<\/Part>/g)) {
    const n = /<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(m[1]);
    const e = /<ETag>([\s\S]*?)<\/ETag>/.exec(m[1]);
    if (!n || !e) throw malformedXML();
    list.push({ n: Number(n[1]), etag: etagList(unesc(e[1]).trim())[0] || '' });
  }
  if (list.length === 0) throw malformedXML();
  for (let i = 1; i < list.length; i++) {
    if (list[i].n <= list[i - 1].n) {
      throw new S3Error(400, 'InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.', {
        UploadId: u.id,
      });
    }
  }
  const parts = list.map(({ n, etag }) => {
    const p = u.parts.get(n);
    if (!p || p.etag !== etag) {
      throw new S3Error(400, 'InvalidPart', 'One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.', {
        UploadId: u.id,
        PartNumber: n,
        ETag: etag,
      });
    }
    return p;
  });
  parts.forEach((p, i) => {
    if (i < parts.length - 1 && p.data.length < opts.minPartSize) {
      throw new S3Error(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', {
        ProposedSize: p.data.length,
        MinSizeAllowed: opts.minPartSize,
        PartNumber: list[i].n,
        ETag: p.etag,
      });
    }
  });
  writePreconditions(req, b, u.key);
  const etag = `${md5(Buffer.concat(parts.map((p) => Buffer.from(p.etag, 'hex')))).toString('hex')}-${parts.length}`;
  const obj = makeObject(Buffer.concat(parts.map((p) => p.data)), u.attrs, etag);
  obj.parts = parts.length;
  putObj(b, u.key, obj);
  b.uploads.delete(u.id);
  const host = req.get('host') || `127.0.0.1:${server.address().port}`;
  return xmlRes(
    200,
    `<CompleteMultipartUploadResult xmlns="${NS}">${tag('Location', `http://${host}/${b.name}/${u.key.split('/').map(encodeURIComponent).join('/')}`)}` +
      `${tag('Bucket', b.name)}${tag('Key', u.key)}<ETag>&quot;${etag}&quot;</ETag></CompleteMultipartUploadResult>`,
  );
}

function abortUpload(t) {
  const { b, u } = getUpload(t);
  b.uploads.delete(u.id);
  return { status: 204, headers: [], body: EMPTY };
}

function listUploads(t) {
  const b = getBucket(t.bucket);
  const q = t.q;
  const enc = encodingType(q);
  const max = maxParam(q, 'max-uploads');
  const prefix = q.get('prefix') || '';
  const delimiter = q.get('delimiter') || '';
  const keyMarker = q.get('key-marker') || '';
  const idMarker = q.get('upload-id-marker') || '';
  const all = [...b.uploads.values()]
    .filter((u) => u.key.startsWith(prefix))
    .filter((u) => !keyMarker || cmpUtf8(u.key, keyMarker) > 0 || (u.key === keyMarker && idMarker && u.id > idMarker))
    .sort((x, y) => cmpUtf8(x.key, y.key) || x.initiated - y.initiated || x.seq - y.seq);
  const items = [];
  let truncated = false;
  for (const u of all) {
    let cp = null;
    if (delimiter) {
      const j = u.key.indexOf(delimiter, prefix.length);
      if (j >= 0) cp = u.key.slice(0, j + delimiter.length);
    }
    if (cp !== null) {
      if (keyMarker && cmpUtf8(cp, keyMarker) <= 0) continue;
      if (items.length && items[items.length - 1].prefix === cp) continue;
    }
    if (items.length >= max) {
      truncated = max > 0;
      break;
    }
    items.push(cp !== null ? { prefix: cp } : { upload: u });
  }
  const last = items[items.length - 1];
  let xml = `<ListMultipartUploadsResult xmlns="${NS}">${tag('Bucket', b.name)}` +
    `${enctag('KeyMarker', keyMarker, enc)}${tag('UploadIdMarker', idMarker)}`;
  if (truncated) {
    xml += enctag('NextKeyMarker', last.upload ? last.upload.key : last.prefix, enc);
    xml += tag('NextUploadIdMarker', last.upload ? last.upload.id : '');
  }
  if (delimiter) xml += enctag('Delimiter', delimiter, enc);
  if (prefix) xml += enctag('Prefix', prefix, enc);
  if (enc) xml += '<EncodingType>url</EncodingType>';
  xml += `<MaxUploads>${max}</MaxUploads><IsTruncated>${truncated}</IsTruncated>`;
  for (const it of items) {
    if (!it.upload) continue;
    const u = it.upload;
    xml += `<Upload>${enctag('Key', u.key, enc)}${tag('UploadId', u.id)}` +
      `<Initiator><ID>${OWNER_ID}</ID><DisplayName>s3mini</DisplayName></Initiator>${OWNER_XML}` +
      `<StorageClass>${esc(u.attrs.storageClass)}</StorageClass><Initiated>${iso(u.initiated)}</Initiated></Upload>`;
  }
  for (const it of items) {
    if (it.prefix !== undefined) xml += `<CommonPrefixes>${enctag('Prefix', it.prefix, enc)}</CommonPrefixes>`;
  }
  xml += '</ListMultipartUploadsResult>';
  return xmlRes(200, xml);
}

function listParts(t) {
  const { b, u } = getUpload(t);
  const q = t.q;
  const max = maxParam(q, 'max-parts');
  const marker = Number(q.get('part-number-marker') || 0);
  const numbers = [...u.parts.keys()].filter((n) => n > marker).sort((x, y) => x - y);
  const shown = numbers.slice(0, max);
  const truncated = numbers.length > shown.length;
  let xml = `<ListPartsResult xmlns="${NS}">${tag('Bucket', b.name)}${tag('Key', u.key)}${tag('UploadId', u.id)}` +
    `<Initiator><ID>${OWNER_ID}</ID><DisplayName>s3mini</DisplayName></Initiator>${OWNER_XML}` +
    `<StorageClass>${esc(u.attrs.storageClass)}</StorageClass>` +
    `<PartNumberMarker>${marker}</PartNumberMarker>` +
    `<NextPartNumberMarker>${shown.length ? shown[shown.length - 1] : 0}</NextPartNumberMarker>` +
    `<MaxParts>${max}</MaxParts><IsTruncated>${truncated}</IsTruncated>`;
  for (const n of shown) {
    const p = u.parts.get(n);
    xml += `<Part><PartNumber>${n}</PartNumber><LastModified>${iso(p.lastModified)}</LastModified>` +
      `<ETag>&quot;${p.etag}&quot;</ETag><Size>${p.data.length}</Size></Part>`;
  }
  xml += '</ListPartsResult>';
  return xmlRes(200, xml);
}

// ------------------------------------------------------------------ control

function jsonRes(status, value) {
  return {
    status,
    headers: [['Content-Type', 'application/json']],
    body: Buffer.from(`${JSON.stringify(value)}\n`),
  };
}

function control(req) {
  let url;
  try {
    url = new URL(req.target, 'http://s3mini');
  } catch (e) {
    return jsonRes(400, { error: 'bad control URL' });
  }
  const p = url.searchParams;
  switch (url.pathname) {
    case '/__ctl/object': {
      if (req.method !== 'PUT') return jsonRes(405, { error: 'PUT the object' });
      const b = buckets.get(p.get('bucket'));
      if (!b) return jsonRes(404, { error: `no bucket ${p.get('bucket')}` });
      const key = p.get('key');
      if (key === null || key === '') return jsonRes(400, { error: 'key is required' });
      let metaIn = {};
      if (req.get('x-ctl-meta') !== undefined) {
        try {
          // Header bytes are latin1 here; the JSON was written as UTF-8.
          metaIn = JSON.parse(Buffer.from(req.get('x-ctl-meta'), 'latin1').toString('utf8'));
        } catch (e) {
          return jsonRes(400, { error: `x-ctl-meta: ${e.message}` });
        }
        if (!metaIn || typeof metaIn !== 'object' || Array.isArray(metaIn)) {
          return jsonRes(400, { error: 'x-ctl-meta must be a JSON object' });
        }
      }
      const meta = Object.entries(metaIn).map(([n, v]) => [
        n.toLowerCase(),
        Buffer.from(String(v), 'utf8').toString('latin1'),
      ]);
      const headers = { 'content-type': req.get('x-ctl-content-type') || 'binary/octet-stream' };
      const obj = makeObject(Buffer.from(req.body), { meta, headers, storageClass: 'STANDARD' });
      putObj(b, key, obj);
      return jsonRes(200, { bucket: b.name, key, size: obj.data.length, etag: `"${obj.etag}"` });
    }
    case '/__ctl/keys': {
      const b = buckets.get(p.get('bucket'));
      if (!b) return jsonRes(404, { error: `no bucket ${p.get('bucket')}` });
      return jsonRes(200, { keys: sortedKeys(b) });
    }
    case '/__ctl/fault': {
      const mode = p.get('mode');
      if (!Object.prototype.hasOwnProperty.call(FAULTS, mode)) {
        return jsonRes(400, { error: `unknown mode ${mode}`, modes: Object.keys(FAULTS) });
      }
      const count = p.has('count') && p.get('count') !== '' ? Number(p.get('count')) : 1;
      if (!Number.isInteger(count) || count < 1) return jsonRes(400, { error: 'count must be >= 1' });
      const arg = p.has('arg') && p.get('arg') !== '' ? p.get('arg') : undefined;
      fault = { mode, left: count, match: p.get('match') || '', arg };
      return jsonRes(200, { mode, count, match: fault.match, arg: arg === undefined ? null : arg });
    }
    case '/__ctl/clear':
      fault = null;
      return jsonRes(200, { cleared: true });
    case '/__ctl/log':
      return {
        status: 200,
        headers: [['Content-Type', 'text/plain; charset=utf-8']],
        body: Buffer.from(logLines.map((l) => `${l}\n`).join(''), 'latin1'),
      };
    case '/__ctl/clear-log':
      logLines = [];
      return jsonRes(200, { cleared: true });
    case '/__ctl/backdate': {
      const b = buckets.get(p.get('bucket'));
      if (!b) return jsonRes(404, { error: `no bucket ${p.get('bucket')}` });
      const seconds = Number(p.get('seconds'));
      if (!p.get('seconds') || !Number.isFinite(seconds)) return jsonRes(400, { error: 'seconds must be a number' });
      const ms = Math.round(seconds * 1000);
      for (const obj of b.objects.values()) obj.lastModified -= ms;
      for (const u of b.uploads.values()) {
        u.initiated -= ms;
        for (const part of u.parts.values()) part.lastModified -= ms;
      }
      return jsonRes(200, { bucket: b.name, seconds, objects: b.objects.size, uploads: b.uploads.size });
    }
    case '/__ctl/stats':
      return jsonRes(200, stats);
    case '/__ctl/reset-stats':
      stats = { requests: 0, faults: 0, methods: {}, connections: 0 };
      for (const c of conns) c.counted = false;
      return jsonRes(200, stats);
    default:
      return jsonRes(404, { error: `no such control ${url.pathname}` });
  }
}

// ------------------------------------------------------------------ main

for (const name of opts.buckets) {
  if (!validBucketName(name)) usage(`invalid bucket name ${name}`);
  newBucket(name);
}

// allowHalfOpen: a client that shuts down its sending side after a request
// still gets the answer.
const server = net.createServer({ allowHalfOpen: true }, (sock) => new Conn(sock));
server.on('error', (err) => {
  process.stderr.write(`s3mini.js: ${err.stack || err}\n`);
  process.exit(1);
});
server.listen(opts.port, '127.0.0.1', () => {
  process.stdout.write(`READY ${server.address().port}\n`);
});

// Whatever a client does, the server stays up; a bug shows on stderr.
process.on('uncaughtException', (err) => {
  process.stderr.write(`s3mini.js: uncaught: ${err.stack || err}\n`);
});

const stop = () => {
  server.close();
  for (const c of conns) c.sock.destroy();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// A test script killed before it could stop us must not leave a server behind.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop();
}, 1000).unref();
