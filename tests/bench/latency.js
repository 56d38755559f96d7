#!/usr/bin/env node
'use strict';
// A TCP relay on 127.0.0.1 that adds latency, as a real link has: every
// chunk is held for half the round trip in each direction, in order. Prints
// "READY <port>" once it listens.
//
//   node latency.js --upstream PORT --rtt MS [--port N]

const net = require('net');

const args = process.argv.slice(2);
const opt = name => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};
const upstream = Number(opt('--upstream'));
const half = Number(opt('--rtt') || 0) / 2;
if (!upstream) {
  process.stderr.write('latency.js: --upstream PORT is required\n');
  process.exit(2);
}

// Forward from a to b, each chunk delivered `half` ms after it arrived.
function delayed(a, b) {
  const queue = [];
  let timer = null;
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
    queue.push({ at: Date.now() + half, data });
    if (!timer) timer = setTimeout(pump, half);
  };
  a.on('data', push);
  a.on('end', () => push(null));
}

const server = net.createServer(client => {
  const up = net.connect(upstream, '127.0.0.1');
  client.setNoDelay(true);
  up.setNoDelay(true);
  delayed(client, up);
  delayed(up, client);
  const close = () => {
    client.destroy();
    up.destroy();
  };
  client.on('error', close);
  up.on('error', close);
  client.on('close', close);
  up.on('close', close);
});
server.listen(Number(opt('--port') || 0), '127.0.0.1', () => {
  process.stdout.write(`READY ${server.address().port}\n`);
});
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 1000).unref();
