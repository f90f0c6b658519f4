#!/usr/bin/env node
// The AWS SDK for JavaScript (v3, @aws-sdk/client-s3 from test/tools) side of
// perf/s3_bench.sh: the same phases, keys, bodies, ranges, warm-up and
// concurrency as perf/s3_bench.cc (read its header comment: the arguments,
// the commands on stdin and the output lines are the same), against the same
// S3 server. By hand:
//
//   node perf/s3_bench.js --endpoint http://127.0.0.1:PORT --phases put-small,get-small
//        [--prefix sdk/] [--concurrency 16] [sizes, --warmup ...]
//
// Concurrency: a promise pool of --concurrency workers, each awaiting one
// operation at a time, on a keep-alive http.Agent with maxSockets equal to
// --concurrency (freshet's max_connections per endpoint). Otherwise the SDK
// runs as configured out of the box (its default checksums and signing),
// with maxAttempts 5 like freshet's retry default.
//
// In the result line, cpu_s is process.cpuUsage() (user + system, all of
// node's threads) over the phase; requests and retries come from each
// response's $metadata.attempts; conns counts the sockets the agent opened
// during the phase.
'use strict';

const path = require('path');
const http = require('http');
const readline = require('readline');

// The SDK warns on stderr that releases after January 2027 will need node
// 22; the bench runs on node 20 and the warning would only be noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const tools = process.env.FRESHET_NODE_TOOLS || path.resolve(__dirname, '..', 'test', 'tools');
const mods = path.join(tools, 'node_modules');
const {
  S3Client, PutObjectCommand, GetObjectCommand, ListObjectsV2Command,
} = require(path.join(mods, '@aws-sdk', 'client-s3'));
const { NodeHttpHandler } = require(path.join(mods, '@smithy', 'node-http-handler'));

const PHASES = ['put-small', 'put-large', 'get-small', 'get-large', 'get-range', 'list'];

// "" if `phase` can run with these arguments, else why not.
function checkPhase(a, phase) {
  if (!PHASES.includes(phase)) return `unknown phase '${phase}' (${PHASES.join(', ')})`;
  if (phase === 'get-range' && a.largeCount === 0) return 'get-range needs --large-count > 0';
  return '';
}

function parseArgs(argv) {
  const a = {
    endpoint: '', bucket: 'bench', prefix: 'sdk/', phases: '', concurrency: 16,
    smallCount: 2000, smallSize: 16384, largeCount: 50, largeSize: 4 << 20,
    rangeCount: 1000, rangeSize: 65536, listRepeats: 4, warmup: 1000,
  };
  const num = { '--concurrency': 'concurrency', '--small-count': 'smallCount', '--small-size': 'smallSize',
    '--large-count': 'largeCount', '--large-size': 'largeSize', '--range-count': 'rangeCount',
    '--range-size': 'rangeSize', '--list-repeats': 'listRepeats', '--warmup': 'warmup' };
  const str = { '--endpoint': 'endpoint', '--bucket': 'bucket', '--prefix': 'prefix', '--phases': 'phases' };
  for (let i = 2; i < argv.length; i += 2) {
    const k = argv[i], v = argv[i + 1];
    if (v === undefined) throw new Error(`${k} needs a value`);
    if (num[k]) {
      if (!/^[0-9]+$/.test(v)) throw new Error(`${k} wants a non-negative integer, got '${v}'`);
      a[num[k]] = Number(v);
    } else if (str[k]) {
      a[str[k]] = v;
    } else {
      throw new Error(`unknown argument '${k}'`);
    }
  }
  if (!a.endpoint) throw new Error('--endpoint is required');
  if (!a.phases) throw new Error('--phases is required');
  if (a.concurrency < 1 || a.concurrency > 1024) throw new Error('--concurrency must be 1..1024');
  if (a.rangeSize < 1 || a.rangeSize > a.largeSize) throw new Error('--range-size must be 1..--large-size');
  if (a.phases !== '-') {
    for (const phase of a.phases.split(',')) {
      const why = checkPhase(a, phase);
      if (why) throw new Error(why);
    }
  }
  return a;
}

// Keys, bodies and ranges: exactly as in s3_bench.cc.
const numbered = (dir, i) => dir + String(i).padStart(6, '0');

function baseBody(size) {
  // xorshift32 from seed 1, the low byte of each step.
  const b = Buffer.allocUnsafe(size);
  let x = 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

// A copy of `base` with the object's index in its first 8 bytes, made per
// request (the C++ side copies too), so that no two objects are the same.
function bodyFor(base, i) {
  const b = Buffer.from(base);
  b.write(String(i).padStart(8, '0'), 0, Math.min(8, b.length), 'latin1');
  return b;
}

function rangeFor(a, i) {
  const slots = Math.floor(a.largeSize / a.rangeSize);
  return { object: i % a.largeCount, offset: ((i * 37) % slots) * a.rangeSize };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);  // nearest rank
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

// Runs op(i) for i in [0, total) with at most `conc` in flight.
async function pool(total, conc, op) {
  let next = 0;
  async function worker() {
    for (let i = next++; i < total; i = next++) await op(i);
  }
  await Promise.all(Array.from({ length: Math.min(conc, total) }, worker));
}

class Bench {
  constructor(a) {
    this.a = a;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: a.concurrency });
    this.conns = 0;
    const createConnection = this.agent.createConnection.bind(this.agent);
    this.agent.createConnection = (...args) => { this.conns++; return createConnection(...args); };
    this.client = new S3Client({
      region: 'us-east-1',
      endpoint: a.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      maxAttempts: 5,
      requestHandler: new NodeHttpHandler({ httpAgent: this.agent }),
    });
    this.smallBase = baseBody(a.smallSize);
    this.largeBase = null;  // made by the first put-large
    this.smallDir = `${a.prefix}data/small/`;
    this.largeDir = `${a.prefix}data/large/`;
    this.warmupDir = `${a.prefix}warmup/`;
    this.resetCounters();
  }

  resetCounters() {
    this.requests = 0; this.retries = 0; this.errors = 0; this.bytes = 0; this.conns = 0;
    this.firstError = '';
    this.lat = [];
  }

  countAttempts(metadata) {
    const n = (metadata && metadata.attempts) || 0;
    this.requests += n;
    this.retries += Math.max(0, n - 1);
  }

  // op(i), its latency (ms) recorded on success; failures are counted.
  timed(op) {
    return async (i) => {
      const t0 = process.hrtime.bigint();
      try {
        await op(i);
        this.lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
      } catch (e) {
        this.countAttempts(e.$metadata);
        if (this.errors++ === 0) this.firstError = `#${i}: ${e.name}: ${e.message}`;
      }
    };
  }

  async put(key, body) {
    const out = await this.client.send(new PutObjectCommand({ Bucket: this.a.bucket, Key: key, Body: body }));
    this.countAttempts(out.$metadata);
    this.bytes += body.length;
  }

  async get(key, range, want) {
    const out = await this.client.send(new GetObjectCommand({ Bucket: this.a.bucket, Key: key, Range: range }));
    this.countAttempts(out.$metadata);
    const data = await out.Body.transformToByteArray();
    if (data.length !== want) throw new Error(`GET ${key}: ${data.length} bytes, expected ${want}`);
    this.bytes += data.length;
  }

  async warmUp(announce) {
    const a = this.a;
    const t0 = process.hrtime.bigint();
    await pool(a.warmup, a.concurrency, this.timed((i) => this.put(numbered(this.warmupDir, i), bodyFor(this.smallBase, i))));
    await pool(a.warmup, a.concurrency, this.timed((i) => this.get(numbered(this.warmupDir, i), undefined, a.smallSize)));
    if (this.errors) throw new Error(`warm-up failed: ${this.firstError}`);
    if (announce) {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      console.log(`warmed client=sdk ops=${2 * a.warmup} wall_s=${wall.toFixed(4)}`);
    }
  }

  // Runs one phase and prints its result line; false if an operation failed.
  async runPhase(phase) {
    const a = this.a;
    // Reopen connections the server closed as idle (s3rver: after 5 s).
    await pool(Math.min(a.warmup, a.concurrency), a.concurrency,
      this.timed((i) => this.get(numbered(this.warmupDir, i), undefined, a.smallSize)));
    this.resetCounters();
    if (phase === 'put-large' && !this.largeBase) this.largeBase = baseBody(a.largeSize);

    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    switch (phase) {
      case 'put-small':
        await pool(a.smallCount, a.concurrency, this.timed((i) => this.put(numbered(this.smallDir, i), bodyFor(this.smallBase, i))));
        break;
      case 'put-large':
        await pool(a.largeCount, a.concurrency, this.timed((i) => this.put(numbered(this.largeDir, i), bodyFor(this.largeBase, i))));
        break;
      case 'get-small':
        await pool(a.smallCount, a.concurrency, this.timed((i) => this.get(numbered(this.smallDir, i), undefined, a.smallSize)));
        break;
      case 'get-large':
        await pool(a.largeCount, a.concurrency, this.timed((i) => this.get(numbered(this.largeDir, i), undefined, a.largeSize)));
        break;
      case 'get-range':
        await pool(a.rangeCount, a.concurrency, this.timed((i) => {
          const r = rangeFor(a, i);
          return this.get(numbered(this.largeDir, r.object), `bytes=${r.offset}-${r.offset + a.rangeSize - 1}`, a.rangeSize);
        }));
        break;
      case 'list':
        await this.runListings();
        break;
    }
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);

    if (this.errors) console.error(`s3_bench.js: ${phase} ${this.firstError}`);
    const sorted = Float64Array.from(this.lat).sort();
    console.log(`result client=sdk phase=${phase} ops=${sorted.length} bytes=${this.bytes} wall_s=${wall.toFixed(4)} ` +
      `p50_ms=${percentile(sorted, 50).toFixed(3)} p99_ms=${percentile(sorted, 99).toFixed(3)} ` +
      `cpu_s=${((cpu.user + cpu.system) / 1e6).toFixed(4)} requests=${this.requests} retries=${this.retries} ` +
      `errors=${this.errors} conns=${this.conns}`);
    return this.errors === 0;
  }

  // --list-repeats whole listings of <prefix>data/, up to --concurrency of
  // them side by side; each page is one timed operation.
  async runListings() {
    const a = this.a;
    const want = a.smallCount + a.largeCount;
    await pool(a.listRepeats, a.concurrency, async (i) => {
      let token;
      let keys = 0;
      try {
        do {
          const after = token;
          token = undefined;  // stays so if the page fails: the listing ends there
          await this.timed(async () => {
            const out = await this.client.send(new ListObjectsV2Command({
              Bucket: a.bucket, Prefix: `${a.prefix}data/`, MaxKeys: 1000, ContinuationToken: after,
            }));
            this.countAttempts(out.$metadata);
            keys += (out.Contents || []).length;
            token = out.IsTruncated ? out.NextContinuationToken : undefined;
          })(i);
        } while (token);
      } finally {
        if (keys !== want && this.errors++ === 0) this.firstError = `listing ${i}: ${keys} keys, expected ${want}`;
      }
    });
  }

  close() {
    this.client.destroy();
    this.agent.destroy();
  }
}

async function main() {
  const a = parseArgs(process.argv);
  const bench = new Bench(a);
  let ok = true;
  try {
    if (a.phases !== '-') {
      await bench.warmUp(false);
      for (const phase of a.phases.split(',')) ok = (await bench.runPhase(phase)) && ok;
    } else {
      for await (const line of readline.createInterface({ input: process.stdin, terminal: false })) {
        if (!line) continue;
        if (line === 'warmup') {
          await bench.warmUp(true);
          continue;
        }
        const why = checkPhase(a, line);
        if (why) throw new Error(why);
        ok = (await bench.runPhase(line)) && ok;
      }
    }
  } finally {
    bench.close();
  }
  if (!ok) process.exitCode = 1;
}

main().catch((e) => {
  console.error(`s3_bench.js: ${e.message}`);
  process.exit(2);
});
