#!/usr/bin/env node
'use strict';
// A TCP relay on 127.0.0.1 that adds latency, as a real link has: every
// chunk is held for half the round trip in each direction, in order; with
// --rate, each connection also carries at most MB megabytes a second each
// way, as one connection to a real S3 does (AWS: ~50-100 MB/s). Prints
// "READY <port>" once it listens.
//
//   node latency.js --upstream PORT --rtt MS [--rate MB] [--port N]

const net = require('net');

const args = process.argv.slice(2);
const opt = name => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};
const upstream = Number(opt('--upstream'));
const half = Number(opt('--rtt') || 0) / 2;
const bytesPerMs = Number(opt('--rate') || 0) * 1000;
if (!upstream) {
  process.stderr.write('latency.js: --upstream PORT is required\n');
  process.exit(2);
}

// Forward from a to b, each chunk delivered `half` ms after it arrived.
function delayed(a, b) {
  const queue = [];
  let timer = null;
  let free = 0;  // when the link is next idle, at the rate
  let last = 0;  // chunks leave in the order they came
  const pump = () => {
    timer = null;
    const now = Date.now();
    while (queue.length && queue[0].at <= now) {
      const { data } = queue.shift();
      if (data === null) b.end();
      else b.write(data);
    }
    if (queue.length) timer = setTimeout(pump, queue[0].at - now);
  };
  const push = data => {
    let at = Date.now() + half;
    if (bytesPerMs && data !== null) {
      free = Math.max(free, Date.now()) + data.length / bytesPerMs;
      at = Math.max(at, Math.ceil(free + half));
    }
    at = last = Math.max(at, last);
    queue.push({ at, data });
    if (!timer) timer = setTimeout(pump, half);
  };
  a.on('data', push);
  a.on('end', () => push(null));
  return push;
}

const server = net.createServer(client => {
  const up = net.connect(upstream, '127.0.0.1');
  client.setNoDelay(true);
  up.setNoDelay(true);
  delayed(client, up);
  const toClient = delayed(up, client);
  const close = () => {
    client.destroy();
    up.destroy();
  };
  client.on('error', close);
  up.on('error', close);
  client.on('close', close);
  // The server closing its side (an idle keep-alive connection) reaches
  // the client after what is still queued for it, as on a real link.
  up.on('close', () => toClient(null));
});
server.listen(Number(opt('--port') || 0), '127.0.0.1', () => {
  process.stdout.write(`READY ${server.address().port}\n`);
});
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 1000).unref();
