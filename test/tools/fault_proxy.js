#!/usr/bin/env node
// A fault-injecting HTTP reverse proxy for tests, in front of an S3 server
// (s3rver) on 127.0.0.1. Node's own http module only; no dependencies.
//
//   node fault_proxy.js --upstream 127.0.0.1:9000 [--port 0] [--rate 0.2] [--seed 1]
//        [--modes slowdown,internal,reset,reset-after-headers,truncate,stall,error200]
//        [--stall-ms 5000] [--methods GET,PUT] [--log]
//
// Prints "listening <port>" on stdout once it accepts connections, and
// "stats <json>" when it ends on SIGTERM/SIGINT.
//
// Each proxied request n (1, 2, ... in arrival order) is faulted when a
// draw, a pure function of (seed, n), is below --rate; a second draw picks
// one of the enabled modes that applies to the request:
//   slowdown             503 with an S3 <Error><Code>SlowDown</Code> body. Not forwarded.
//   internal             500 with an S3 InternalError body. Not forwarded.
//   reset                the connection is destroyed before any response. Not forwarded.
//   reset-after-headers  forwarded; the response's status line and headers are
//                        sent, then the connection is destroyed (no body).
//   truncate             forwarded; headers (with the real Content-Length) and
//                        half the body are sent, then the connection is destroyed.
//   stall                the request is held --stall-ms (longer than the client's
//                        timeout, say), then the connection is destroyed. Not forwarded.
//   error200             CompleteMultipartUpload only (POST with ?uploadId=): a
//                        200 whose body is an S3 <Error> (InternalError). Not forwarded.
//   lost                 (not in the default set) forwarded, so the server applies it,
//                        then the connection is destroyed without a response.
// reset-after-headers and truncate cannot be seen in a response without a
// body (HEAD, 204, 304, Content-Length: 0); they then degrade to `lost` and
// are counted as such: the counters say what the client actually got.
// Synthesized responses carry "x-fault-injected: <mode>".
//
// Forwarding keeps the method, the raw request target and every end-to-end
// header as the client sent it, Host included (SigV4 signs it); only the
// hop-by-hop headers (Connection, Keep-Alive, Transfer-Encoding, ...) are
// left to each connection. Bodies pass through byte for byte.
//
// Control endpoints, never forwarded:
//   GET /__fault_stats   the counters as JSON (see `stats` below)
//   PUT /__fault_config?rate=..&seed=..&modes=..&stall-ms=..&methods=..
//                        replaces those settings (omitted ones keep their value)
//                        and restarts the draw sequence at n = 1; counters stay.
'use strict';

const http = require('node:http');

const ALL_MODES = ['slowdown', 'internal', 'reset', 'reset-after-headers', 'truncate', 'stall', 'error200', 'lost'];
const DEFAULT_MODES = ALL_MODES.filter((m) => m !== 'lost');
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade',
]);

function fail(message) {
  process.stderr.write(`fault_proxy: ${message}\n`);
  process.exit(2);
}

// Settings shared by the command line and /__fault_config.
function applySetting(cfg, name, value) {
  switch (name) {
    case 'rate': {
      const r = Number(value);
      if (!(r >= 0 && r <= 1)) throw new Error(`--rate must be in [0, 1], got ${value}`);
      cfg.rate = r;
      break;
    }
    case 'seed': {
      const s = Number(value);
      if (!Number.isInteger(s) || s < 0) throw new Error(`--seed must be a non-negative integer, got ${value}`);
      cfg.seed = s;
      break;
    }
    case 'modes': {
      const modes = value === '' ? [] : value.split(',');
      for (const m of modes) if (!ALL_MODES.includes(m)) throw new Error(`unknown mode ${m}`);
      cfg.modes = modes;
      break;
    }
    case 'stall-ms': {
      const ms = Number(value);
      if (!Number.isInteger(ms) || ms < 0) throw new Error(`--stall-ms must be a non-negative integer, got ${value}`);
      cfg.stallMs = ms;
      break;
    }
    case 'methods':
      cfg.methods = value === '' ? [] : value.toUpperCase().split(',');
      break;
    default:
      throw new Error(`unknown setting ${name}`);
  }
}

function parseArgs(argv) {
  const cfg = {
    upstreamHost: '', upstreamPort: 0, host: '127.0.0.1', port: 0, rate: 0, seed: 1,
    modes: DEFAULT_MODES.slice(), stallMs: 5000, methods: [], log: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') ? (eq > 0 ? arg.slice(2, eq) : arg.slice(2)) : '';
    if (!name) fail(`unexpected argument ${arg}`);
    if (name === 'log') {
      cfg.log = true;
      continue;
    }
    let value;
    if (eq > 0) value = arg.slice(eq + 1);
    else if (i + 1 < argv.length) value = argv[++i];
    else fail(`--${name} needs a value`);
    try {
      if (name === 'upstream') {
        const m = /^([^:]+):(\d+)$/.exec(value);
        if (!m) throw new Error(`--upstream must be host:port, got ${value}`);
        cfg.upstreamHost = m[1];
        cfg.upstreamPort = Number(m[2]);
      } else if (name === 'port') {
        cfg.port = Number(value);
      } else if (name === 'host') {
        cfg.host = value;
      } else {
        applySetting(cfg, name, value);
      }
    } catch (e) {
      fail(e.message);
    }
  }
  if (!cfg.upstreamHost) fail('--upstream host:port is required');
  return cfg;
}

// 32-bit integer hash (murmur3's finalizer); draws are pure functions of
// (seed, n, stream) so a sequence of requests always meets the same faults.
function mix32(x) {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}
function draw(seed, n, stream) {
  const s = mix32((seed >>> 0) ^ mix32(Math.floor(seed / 4294967296)));
  return mix32(mix32(s ^ mix32(n >>> 0)) ^ stream) / 4294967296;
}

const cfg = parseArgs(process.argv.slice(2));
let seq = 0;
const stats = {
  requests: 0,         // proxied requests (control endpoints excluded)
  forwarded: 0,        // sent upstream
  faults: 0,           // requests that got a fault, any mode
  by_mode: Object.fromEntries(ALL_MODES.map((m) => [m.replace(/-/g, '_'), 0])),
  upstream_errors: 0,  // upstream unreachable or failed: answered 502 or dropped
};

function count(mode, req) {
  stats.faults++;
  stats.by_mode[mode.replace(/-/g, '_')]++;
  if (cfg.log) process.stderr.write(`fault_proxy: ${mode} ${req.method} ${req.url}\n`);
}

function isCompleteMultipartUpload(req) {
  return req.method === 'POST' && /[?&]uploadId=/.test(req.url);
}

function applicable(mode, req) {
  if (mode === 'error200') return isCompleteMultipartUpload(req);
  return true;
}

// The fault for this request, or null.
function decide(req) {
  const n = ++seq;
  if (cfg.methods.length && !cfg.methods.includes(req.method)) return null;
  if (!(draw(cfg.seed, n, 1) < cfg.rate)) return null;
  const modes = cfg.modes.filter((m) => applicable(m, req));
  if (!modes.length) return null;
  return modes[Math.floor(draw(cfg.seed, n, 2) * modes.length)];
}

function s3ErrorBody(code, message, n) {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${message}</Message>` +
    `<RequestId>fault-proxy-${n}</RequestId><HostId>fault-proxy</HostId></Error>`
  );
}

function sendSynthesized(res, status, mode, code, message) {
  const body = s3ErrorBody(code, message, seq);
  res.writeHead(status, {
    'Content-Type': 'application/xml',
    'Content-Length': Buffer.byteLength(body),
    'x-fault-injected': mode,
  });
  res.end(body);
}

function endToEnd(rawHeaders) {
  const out = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (!HOP_BY_HOP.has(rawHeaders[i].toLowerCase())) out.push(rawHeaders[i], rawHeaders[i + 1]);
  }
  return out;
}

function headerValue(rawHeaders, name) {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i].toLowerCase() === name) return rawHeaders[i + 1];
  }
  return undefined;
}

function bodyless(req, upstreamRes) {
  const s = upstreamRes.statusCode;
  return req.method === 'HEAD' || s === 204 || s === 304 || (s >= 100 && s < 200) ||
    headerValue(upstreamRes.rawHeaders, 'content-length') === '0';
}

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

// Forwards the request; `onResponse(upstreamRes)` takes over the response.
function forward(req, res, onResponse) {
  stats.forwarded++;
  const up = http.request({
    host: cfg.upstreamHost,
    port: cfg.upstreamPort,
    method: req.method,
    path: req.url,
    headers: endToEnd(req.rawHeaders),
    setHost: false,
    agent,
  }, onResponse);
  up.on('error', (err) => {
    stats.upstream_errors++;
    process.stderr.write(`fault_proxy: upstream ${req.method} ${req.url}: ${err.message}\n`);
    if (!res.headersSent) sendSynthesized(res, 502, 'upstream-error', 'BadGateway', 'fault_proxy: upstream failed');
    else res.destroy();
  });
  req.pipe(up);
}

function passThrough(res, upstreamRes) {
  res.writeHead(upstreamRes.statusCode, upstreamRes.statusMessage, endToEnd(upstreamRes.rawHeaders));
  upstreamRes.pipe(res);
}

function readAll(stream, done) {
  const chunks = [];
  stream.on('data', (c) => chunks.push(c));
  stream.on('end', () => done(Buffer.concat(chunks)));
}

function handleFault(mode, req, res) {
  switch (mode) {
    case 'slowdown':
      count(mode, req);
      return sendSynthesized(res, 503, mode, 'SlowDown', 'Please reduce your request rate.');
    case 'internal':
      count(mode, req);
      return sendSynthesized(res, 500, mode, 'InternalError', 'We encountered an internal error. Please try again.');
    case 'error200':
      count(mode, req);
      return sendSynthesized(res, 200, mode, 'InternalError', 'We encountered an internal error. Please try again.');
    case 'reset':
      count(mode, req);
      return req.socket.destroy();
    case 'stall': {
      count(mode, req);
      const timer = setTimeout(() => req.socket.destroy(), cfg.stallMs);
      req.socket.on('close', () => clearTimeout(timer));
      return undefined;
    }
    case 'lost':
      return forward(req, res, (upstreamRes) => {
        readAll(upstreamRes, () => {
          count('lost', req);
          req.socket.destroy();
        });
      });
    case 'reset-after-headers':
    case 'truncate':
      return forward(req, res, (upstreamRes) => {
        readAll(upstreamRes, (body) => {
          if (bodyless(req, upstreamRes) || body.length === 0) {
            count('lost', req);
            return req.socket.destroy();
          }
          count(mode, req);
          res.writeHead(upstreamRes.statusCode, upstreamRes.statusMessage, endToEnd(upstreamRes.rawHeaders));
          const part = mode === 'truncate' ? body.subarray(0, Math.floor(body.length / 2)) : Buffer.alloc(0);
          if (part.length === 0) res.flushHeaders();
          res.write(part, () => req.socket.destroy());
          return undefined;
        });
      });
    default:
      throw new Error(`unhandled mode ${mode}`);
  }
}

function handleControl(req, res) {
  const url = new URL(req.url, 'http://fault-proxy');
  const reply = (status, obj) => {
    const body = JSON.stringify(obj);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };
  req.resume();
  if (url.pathname === '/__fault_stats' && req.method === 'GET') return reply(200, stats);
  if (url.pathname === '/__fault_config' && req.method === 'PUT') {
    const next = { ...cfg };
    try {
      for (const [name, value] of url.searchParams) applySetting(next, name, value);
    } catch (e) {
      return reply(400, { error: e.message });
    }
    Object.assign(cfg, next);
    seq = 0;
    return reply(200, { rate: cfg.rate, seed: cfg.seed, modes: cfg.modes, stall_ms: cfg.stallMs, methods: cfg.methods });
  }
  return reply(404, { error: `no control endpoint ${req.method} ${url.pathname}` });
}

const server = http.createServer((req, res) => {
  if (req.url.startsWith('/__fault_')) return handleControl(req, res);
  stats.requests++;
  const mode = decide(req);
  if (mode) return handleFault(mode, req, res);
  return forward(req, res, (upstreamRes) => passThrough(res, upstreamRes));
});
// A client's dropped connection is part of the game, not an error.
server.on('clientError', (err, socket) => socket.destroy());
// Requests may be held (stall) as long as a test asks.
server.requestTimeout = 0;

function stop() {
  process.stdout.write(`stats ${JSON.stringify(stats)}\n`);
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

server.listen(cfg.port, cfg.host, () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
