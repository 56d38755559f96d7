#!/usr/bin/env node
'use strict';
// An HTTP/1.1 proxy that sits between deltaglider and s3rver and breaks
// chosen requests, so retry and error handling are tested over real TCP.
// Prints "READY <port>" on stdout once it listens on 127.0.0.1.
//
//   node faultproxy.js --upstream HOST:PORT [--port N] [--log FILE]
//
// Control API, on the same port and never forwarded (answers are JSON):
//   GET /__fault/set?mode=MODE[&count=N][&match=SUBSTRING]
//       The next N (default 1) client requests whose "METHOD target" (target
//       as sent: path?query, still percent-encoded) contains SUBSTRING
//       (default: every request) get MODE; then the fault turns itself off.
//       Setting a fault replaces the one before.
//   GET /__fault/clear          turns the fault off.
//   GET /__fault/stats          {"requests":R,"connections":C,"faults":F}
//   GET /__fault/reset-stats    zeroes them.
// R counts client requests (forwarded or faulted), F the faults injected,
// and C the client TCP connections that carried at least one such request,
// so curl's control calls never show up in the numbers.
//
// Modes; the client's request, body included, is read in full first (with
// our own "100 Continue" if it asked for one), except where forwarded:
//   503 500 slowdown 429 403   an S3 XML error answer; the connection stays up
//   reset       RST, nothing sent
//   hang        never answer; the connection stays open until the client goes
//   badstatus   "HTZP/1.1 200 OK" then FIN
//   truncate    forwarded; the head and half of the body bytes, then FIN
//   badxml      forwarded; the body becomes a cut-off ListBucketResult with a
//               matching Content-Length (a bodiless answer passes unchanged)
//   close-idle  forwarded; FIN once the answer is sent, as a server dropping
//               a keep-alive connection does
//
// Everything else passes through byte for byte, heads included: the client
// signed Host (this proxy's address), and s3rver.js checks the signature
// against the Host it receives, never against its own address. The proxy
// follows message framing (Content-Length, chunked, bodiless answers) on both
// sides only to know where each request ends, so one persistent client
// connection can carry faulted and clean requests. Each client connection has
// its own upstream connection, reused while both stay up.
//
// --log FILE gets a line per client request once its fate is known:
//   <n> <METHOD> <target> -> <status | FAULT:mode | ABORTED | ERROR:why>
// where n numbers requests from 1 for the life of the process.

const fs = require('fs');
const net = require('net');

const ERRORS = {
  503: [503, 'Service Unavailable', 'ServiceUnavailable', 'Please reduce your request rate.'],
  500: [500, 'Internal Server Error', 'InternalError', 'We encountered an internal error. Please try again.'],
  slowdown: [503, 'Slow Down', 'SlowDown', 'Please reduce your request rate.'],
  429: [429, 'Too Many Requests', 'TooManyRequests', 'Please reduce your request rate.'],
  403: [403, 'Forbidden', 'AccessDenied', 'Access Denied'],
};
const LOCAL = new Set([...Object.keys(ERRORS), 'reset', 'hang', 'badstatus']);
const FORWARDED = new Set(['truncate', 'badxml', 'close-idle']);
const BAD_XML = Buffer.from('<ListBucketResult><Contents><Key>x</Key>');
const HEAD_END = Buffer.from('\r\n\r\n');
const MAX_HEAD = 64 * 1024;
// Node's HTTP server (s3rver) drops keep-alive connections idle for 5 s. A
// request written just as it does so would be lost, so an upstream connection
// idle for longer than this is replaced rather than reused.
const UPSTREAM_REUSE_MS = 2000;

function usage(msg) {
  process.stderr.write(`faultproxy.js: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { port: 0, log: null, upstream: null };
  for (let i = 0; i < argv.length; i++) {
    if (i + 1 >= argv.length) usage(`${argv[i]} needs an argument`);
    const value = argv[++i];
    switch (argv[i - 1]) {
      case '--upstream': {
        const m = /^(.+):(\d+)$/.exec(value);
        if (!m) usage('--upstream wants HOST:PORT');
        opts.upstream = { host: m[1], port: Number(m[2]) };
        break;
      }
      case '--port': opts.port = Number(value); break;
      case '--log': opts.log = value; break;
      default: usage(`unknown argument ${argv[i - 1]}`);
    }
  }
  if (!opts.upstream) usage('--upstream is required');
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) usage('bad --port');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const logFd = opts.log === null ? null : fs.openSync(opts.log, 'a');
let fault = null; // { mode, left, match }
let stats = { requests: 0, connections: 0, faults: 0 };
let seq = 0;

function takeFault(line) {
  if (!fault || !line.includes(fault.match)) return null;
  const { mode } = fault;
  if (--fault.left <= 0) fault = null;
  stats.faults++;
  return mode;
}

// ---------------------------------------------------------------- framing

class BadMessage extends Error {}

// A head is the bytes up to and including the blank line. Header values keep
// their bytes (latin1 round-trips them); only framing headers are read.
function parseHead(raw) {
  const [start, ...lines] = raw.toString('latin1').slice(0, -4).split('\r\n');
  const headers = lines.map(line => {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new BadMessage(`bad header line ${JSON.stringify(line)}`);
    return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
  });
  const get = name => headers.filter(([n]) => n === name).map(([, v]) => v).join(',');
  return { start, headers, get };
}

const tokens = value => value.toLowerCase().split(',').map(s => s.trim()).filter(Boolean);

// Tells how many of the bytes that follow a head belong to its body, and when
// the body is over. kind: none, length, chunked, or close (until EOF).
class Framer {
  constructor(kind, length = 0) {
    this.kind = kind;
    this.left = length;
    this.state = 'size'; // chunked: size, data, trailer
    this.line = '';
    this.done = kind === 'none' || (kind === 'length' && length === 0);
  }

  static of(head, bodyless, request) {
    if (bodyless) return new Framer('none');
    const te = tokens(head.get('transfer-encoding'));
    if (te.length) {
      if (te[te.length - 1] === 'chunked') return new Framer('chunked');
      if (request) throw new BadMessage('Transfer-Encoding without chunked');
      return new Framer('close');
    }
    const cl = head.get('content-length');
    if (cl !== '') {
      if (!/^\d+$/.test(cl)) throw new BadMessage(`bad Content-Length ${cl}`);
      return new Framer('length', Number(cl));
    }
    return new Framer(request ? 'none' : 'close');
  }

  // Returns the count of leading bytes of buf that are body.
  feed(buf) {
    if (this.done) return 0;
    if (this.kind === 'close') return buf.length;
    if (this.kind === 'length') {
      const n = Math.min(buf.length, this.left);
      this.left -= n;
      this.done = this.left === 0;
      return n;
    }
    let i = 0;
    while (i < buf.length && !this.done) {
      if (this.state === 'data') {
        const n = Math.min(buf.length - i, this.left); // left counts the CRLF after the data
        i += n;
        this.left -= n;
        if (this.left === 0) this.state = 'size';
        continue;
      }
      const nl = buf.indexOf(0x0a, i);
      this.line += buf.toString('latin1', i, nl < 0 ? buf.length : nl);
      if (this.line.length > MAX_HEAD) throw new BadMessage('chunk line too long');
      if (nl < 0) return buf.length;
      i = nl + 1;
      const line = this.line.replace(/\r$/, '');
      this.line = '';
      if (this.state === 'trailer') {
        this.done = line === '';
      } else {
        const size = line.split(';')[0].trim();
        if (!/^[0-9a-fA-F]+$/.test(size)) throw new BadMessage(`bad chunk size ${size}`);
        const n = parseInt(size, 16);
        if (n === 0) this.state = 'trailer';
        else [this.state, this.left] = ['data', n + 2];
      }
    }
    return i;
  }
}

function statusOf(head) {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head.start);
  if (!m) throw new BadMessage(`bad status line ${JSON.stringify(head.start)}`);
  return Number(m[1]);
}

function answer(status, reason, type, body, bodyless) {
  const head =
    `HTTP/1.1 ${status} ${reason}\r\n` +
    `Date: ${new Date().toUTCString()}\r\n` +
    `Content-Type: ${type}\r\n` +
    `Content-Length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), bodyless ? Buffer.alloc(0) : body]);
}

function errorAnswer(mode, method, seqNo) {
  const [status, reason, code, message] = ERRORS[mode];
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${message}</Message>` +
    `<RequestId>FAULTPROXY${seqNo}</RequestId></Error>`;
  return answer(status, reason, 'application/xml', Buffer.from(xml), method === 'HEAD');
}

// ------------------------------------------------------------ control API

function control(target) {
  const url = new URL(target, 'http://proxy');
  const p = url.searchParams;
  switch (url.pathname) {
    case '/__fault/set': {
      const mode = p.get('mode');
      if (!LOCAL.has(mode) && !FORWARDED.has(mode)) return [400, { error: `unknown mode ${mode}` }];
      const count = p.has('count') ? Number(p.get('count')) : 1;
      if (!Number.isInteger(count) || count < 1) return [400, { error: 'count must be >= 1' }];
      fault = { mode, left: count, match: p.get('match') || '' };
      return [200, { mode, count, match: fault.match }];
    }
    case '/__fault/clear':
      fault = null;
      return [200, { cleared: true }];
    case '/__fault/stats':
      return [200, stats];
    case '/__fault/reset-stats':
      stats = { requests: 0, connections: 0, faults: 0 };
      return [200, stats];
    default:
      return [404, { error: `no such control ${url.pathname}` }];
  }
}

// ------------------------------------------------------------ connections

const conns = new Set();

// One client connection, and the upstream connection that serves it. Requests
// are handled one at a time: bytes of a next (pipelined) request wait in buf
// until the current exchange is over.
class Conn {
  constructor(client) {
    this.client = client;
    this.buf = Buffer.alloc(0);
    this.ex = null; // the exchange in progress
    this.up = null;
    this.upBuf = Buffer.alloc(0);
    this.upIdleSince = 0;
    this.counted = false;
    this.hung = false;
    this.closed = false;
    this.clientEnded = false;
    this.pumping = false;
    conns.add(this);
    client.setNoDelay(true);
    client.on('data', d => this.onClientData(d));
    client.on('end', () => this.onClientEnd());
    client.on('close', () => this.onClientClose());
    client.on('error', () => {}); // 'close' follows
  }

  log(ex, what) {
    if (ex.logged || ex.control) return;
    ex.logged = true;
    if (logFd !== null) fs.writeSync(logFd, `${ex.seq} ${ex.method} ${ex.target} -> ${what}\n`);
  }

  // Both directions apply backpressure, so a 20 MiB body is never all in memory.
  toClient(data) {
    if (this.closed) return;
    this.ex.sent = true;
    if (!this.client.write(data) && this.up && !this.up.isPaused()) {
      const up = this.up;
      up.pause();
      this.client.once('drain', () => up.resume());
    }
  }

  toUpstream(data) {
    if (!this.up || this.up !== this.ex.up || this.up.destroyed) return;
    if (!this.up.write(data) && !this.client.isPaused()) {
      this.client.pause();
      this.up.once('drain', () => this.client.resume());
    }
  }

  closeClient() {
    this.closed = true;
    this.client.end();
    this.dropUpstream();
  }

  dropUpstream() {
    if (this.up) this.up.destroy();
    this.up = null;
    this.upBuf = Buffer.alloc(0);
  }

  // A malformed request or answer ends the connection: the framing is lost.
  broken(err) {
    if ((!this.ex || !this.ex.sent) && !this.closed) {
      const body = Buffer.from(`faultproxy: ${err.message}\n`);
      this.client.write(answer(400, 'Bad Request', 'text/plain', body, false));
    }
    if (this.ex) this.log(this.ex, `ERROR:${err.message}`);
    this.closeClient();
  }

  onClientData(data) {
    if (this.closed || this.hung) return;
    this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : data;
    this.pump();
  }

  onClientEnd() {
    this.clientEnded = true;
    if (!this.ex && !this.closed) this.closeClient();
  }

  onClientClose() {
    this.closed = true;
    conns.delete(this);
    if (this.ex) this.log(this.ex, 'ABORTED');
    this.dropUpstream();
  }

  pump() {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.closed && !this.hung) {
        if (!this.ex) {
          const end = this.buf.indexOf(HEAD_END);
          if (end < 0) {
            if (this.buf.length > MAX_HEAD) throw new BadMessage('request head too long');
            if (this.clientEnded) this.closeClient();
            return;
          }
          const raw = this.buf.subarray(0, end + 4);
          this.buf = this.buf.subarray(end + 4);
          this.start(raw);
          continue;
        }
        const ex = this.ex;
        if (ex.reqDone) return; // waiting for the answer
        const n = ex.reqFramer.feed(this.buf);
        if (n > 0) {
          const chunk = this.buf.subarray(0, n);
          this.buf = this.buf.subarray(n);
          ex.bodySeen = true;
          if (ex.up) this.toUpstream(chunk);
        }
        if (!ex.reqFramer.done) return;
        ex.reqDone = true;
        this.requestDone();
      }
    } catch (err) {
      if (!(err instanceof BadMessage)) throw err;
      this.broken(err);
    } finally {
      this.pumping = false;
    }
  }

  start(raw) {
    const head = parseHead(raw);
    const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) (HTTP\/1\.[01])$/.exec(head.start);
    if (!m) throw new BadMessage(`bad request line ${JSON.stringify(head.start)}`);
    const [, method, target, version] = m;
    const conn = tokens(head.get('connection'));
    const ex = {
      method,
      target,
      raw,
      control: target.startsWith('/__fault/'),
      closeAfter: version === 'HTTP/1.0' ? !conn.includes('keep-alive') : conn.includes('close'),
      expect: tokens(head.get('expect')).includes('100-continue'),
      reqFramer: null,
      reqDone: false,
      bodySeen: false,
      got100: false,
      res: null,
      resDone: false,
      sent: false,
      logged: false,
      up: null,
      seq: 0,
      mode: null,
    };
    this.ex = ex;
    if (!ex.control) {
      ex.seq = ++seq;
      stats.requests++;
      if (!this.counted) stats.connections++;
      this.counted = true;
    }
    ex.reqFramer = Framer.of(head, false, true);
    if (!ex.control) ex.mode = takeFault(`${method} ${target}`);
    if (ex.control || LOCAL.has(ex.mode)) {
      // Answered here: take the body first, so the connection stays in step.
      if (ex.expect && !ex.reqFramer.done) this.toClient('HTTP/1.1 100 Continue\r\n\r\n');
      return;
    }
    ex.up = this.upstream();
    this.toUpstream(raw);
  }

  requestDone() {
    const ex = this.ex;
    if (ex.control) {
      const [status, body] = control(ex.target);
      const reason = { 200: 'OK', 400: 'Bad Request', 404: 'Not Found' }[status];
      const json = Buffer.from(`${JSON.stringify(body)}\n`);
      this.toClient(answer(status, reason, 'application/json', json, ex.method === 'HEAD'));
      this.finish();
      return;
    }
    if (ERRORS[ex.mode]) {
      this.log(ex, `FAULT:${ex.mode}`);
      this.toClient(errorAnswer(ex.mode, ex.method, ex.seq));
      this.finish();
    } else if (ex.mode === 'reset') {
      this.log(ex, 'FAULT:reset');
      this.closed = true;
      this.client.resetAndDestroy();
      this.dropUpstream();
    } else if (ex.mode === 'badstatus') {
      this.log(ex, 'FAULT:badstatus');
      this.toClient('HTZP/1.1 200 OK\r\n\r\n');
      this.closeClient();
    } else if (ex.mode === 'hang') {
      this.log(ex, 'FAULT:hang');
      this.hung = true; // ignore the client from now on, until it leaves
      this.dropUpstream();
    } else if (ex.resDone) {
      this.finish(); // the answer came first
    }
  }

  finish() {
    const ex = this.ex;
    this.ex = null;
    if (ex.closeAfter || this.clientEnded) this.closeClient();
    else this.pump();
  }

  upstream() {
    if (this.up && Date.now() - this.upIdleSince < UPSTREAM_REUSE_MS) return this.up;
    this.dropUpstream();
    const up = net.connect(opts.upstream.port, opts.upstream.host);
    this.up = up;
    up.setNoDelay(true);
    up.on('data', d => {
      if (this.up === up) this.onUpstreamData(d);
    });
    up.on('close', () => {
      if (this.up === up) this.onUpstreamClose();
    });
    up.on('error', err => {
      up.lastError = err;
    });
    return up;
  }

  onUpstreamData(data) {
    const ex = this.ex;
    if (!ex || ex.up !== this.up || ex.resDone) {
      this.dropUpstream(); // it spoke out of turn; it can't be trusted any more
      return;
    }
    this.upBuf = this.upBuf.length ? Buffer.concat([this.upBuf, data]) : data;
    try {
      this.readAnswer(ex);
    } catch (err) {
      if (!(err instanceof BadMessage)) throw err;
      this.broken(err);
    }
  }

  readAnswer(ex) {
    const buffered = ex.mode === 'truncate' || ex.mode === 'badxml';
    while (!ex.res) {
      const end = this.upBuf.indexOf(HEAD_END);
      if (end < 0) {
        if (this.upBuf.length > MAX_HEAD) throw new BadMessage('answer head too long');
        return;
      }
      const raw = this.upBuf.subarray(0, end + 4);
      this.upBuf = this.upBuf.subarray(end + 4);
      const head = parseHead(raw);
      const status = statusOf(head);
      if (status < 200) {
        // 100 Continue and friends go to the client as they are.
        ex.got100 = ex.got100 || status === 100;
        this.toClient(raw);
        continue;
      }
      const bodyless = ex.method === 'HEAD' || status === 204 || status === 304;
      ex.res = { raw, head, status, bodyless, framer: Framer.of(head, bodyless, false), parts: [] };
      const conn = tokens(head.get('connection'));
      ex.upClose = head.start.startsWith('HTTP/1.0') ? !conn.includes('keep-alive') : conn.includes('close');
      ex.closeAfter = ex.closeAfter || ex.upClose;
      this.log(ex, ex.mode ? `FAULT:${ex.mode}` : String(status));
      if (!buffered) this.toClient(raw);
    }
    const res = ex.res;
    const n = res.framer.feed(this.upBuf);
    if (n > 0) {
      const chunk = this.upBuf.subarray(0, n);
      this.upBuf = this.upBuf.subarray(n);
      if (buffered) res.parts.push(chunk);
      else this.toClient(chunk);
    }
    if (res.framer.done) this.answerDone(ex);
  }

  answerDone(ex) {
    ex.resDone = true;
    const res = ex.res;
    if (ex.upClose || res.framer.kind === 'close' || this.upBuf.length) this.dropUpstream();
    else this.upIdleSince = Date.now();
    if (res.framer.kind === 'close') ex.closeAfter = true; // the client reads to EOF too

    if (ex.mode === 'truncate') {
      const body = Buffer.concat(res.parts);
      this.toClient(res.raw);
      this.toClient(body.subarray(0, Math.floor(body.length / 2)));
      this.closeClient();
      return;
    }
    if (ex.mode === 'badxml') {
      if (res.bodyless) {
        this.toClient(res.raw);
      } else {
        // The other header lines stay as they were, case and all.
        const lines = res.raw.toString('latin1').split('\r\n').slice(0, -2);
        const keep = lines.filter(l => !/^(content-length|transfer-encoding)\s*:/i.test(l));
        const head = [...keep, `Content-Length: ${BAD_XML.length}`, '', ''].join('\r\n');
        this.toClient(Buffer.from(head, 'latin1'));
        this.toClient(BAD_XML);
      }
    }
    if (ex.mode === 'close-idle') ex.closeAfter = true;

    if (ex.reqDone) {
      this.finish();
    } else if (ex.expect && !ex.got100 && !ex.bodySeen) {
      // Refused before the client sent its body: it may send it or not, so
      // where the next request starts is unknown. Close, as servers do.
      ex.closeAfter = true;
      this.finish();
    }
    // else the rest of the body still goes upstream; requestDone finishes.
  }

  onUpstreamClose() {
    const up = this.up;
    this.up = null;
    const ex = this.ex;
    if (!ex || ex.up !== up || ex.resDone) return; // an idle connection timed out
    if (ex.res && ex.res.framer.kind === 'close') {
      ex.res.framer.done = true;
      this.answerDone(ex);
      return;
    }
    const why = up.lastError ? up.lastError.code || up.lastError.message : 'closed';
    this.log(ex, `ERROR:upstream-${why}`);
    if (!ex.sent && !this.closed) {
      const body = Buffer.from(`faultproxy: upstream ${why}\n`);
      this.client.write(answer(502, 'Bad Gateway', 'text/plain', body, ex.method === 'HEAD'));
      this.closeClient();
    } else {
      this.closed = true;
      this.client.destroy();
    }
  }
}

// ------------------------------------------------------------------- main

// allowHalfOpen: a client that shuts down its sending side after a request
// still gets the answer.
const server = net.createServer({ allowHalfOpen: true }, sock => new Conn(sock));
server.on('error', err => {
  process.stderr.write(`faultproxy.js: ${err.stack || err}\n`);
  process.exit(1);
});
server.listen(opts.port, '127.0.0.1', () => {
  process.stdout.write(`READY ${server.address().port}\n`);
});

const stop = () => {
  server.close();
  for (const c of conns) {
    c.client.destroy();
    c.dropUpstream();
  }
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// A test script killed before it could stop us must not leave a proxy behind.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop();
}, 1000).unref();
