#!/usr/bin/env node
// An independent S3 client for test/storage/s3/s3_cross_client_test.cc:
// the AWS SDK for JavaScript v3 (@aws-sdk/client-s3), path-style, against
// a test server on 127.0.0.1. Runs a batch of operations in one process
// (node and the SDK take a while to start).
//
//   node test/tools/s3_cross_client.js <plan.json> <results.json>
//
// Plan: {"endpoint": "http://127.0.0.1:port", "region", "access_key_id",
//   "secret_access_key", "session_token" (optional), "bucket",
//   "bucket_path_without_slash" (optional, for @20minutes/s3rver 5.0.0),
//   "ops": [{"op": "put", "key", "file"},        body from the file
//           {"op": "get", "key", "file"},        body to the file
//           {"op": "head", "key"},
//           {"op": "list", "prefix"}]}           every page (ListObjectsV2)
// Results: {"results": [{"op", "key", "ok": true, "etag", "size",
//   "keys": [{"key", "size", "etag"}] (list)} or {"op", "key", "ok": false,
//   "error": "<name>: <message>", "status": <http status>}]}
// Exits 0 when the batch ran (failed operations are results), 2 on a bad
// plan.
//
// The SDK's default CRC32 request checksums and response validation are
// set to "when required": the s3rver versions under test neither store nor
// return x-amz-checksum-* values; ETags (MD5) are what both sides check.
'use strict';

const fs = require('node:fs');
const {
  S3Client, PutObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command,
} = require('@aws-sdk/client-s3');

function unquote(etag) {
  return etag ? etag.replace(/^"|"$/g, '') : etag;
}

async function run(client, bucket, op) {
  switch (op.op) {
    case 'put': {
      const body = fs.readFileSync(op.file);
      const r = await client.send(new PutObjectCommand({ Bucket: bucket, Key: op.key, Body: body }));
      return { etag: unquote(r.ETag), size: body.length };
    }
    case 'get': {
      const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: op.key }));
      const bytes = Buffer.from(await r.Body.transformToByteArray());
      fs.writeFileSync(op.file, bytes);
      return { etag: unquote(r.ETag), size: bytes.length };
    }
    case 'head': {
      const r = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: op.key }));
      return { etag: unquote(r.ETag), size: r.ContentLength };
    }
    case 'list': {
      const keys = [];
      let token;
      do {
        const r = await client.send(new ListObjectsV2Command({
          Bucket: bucket, Prefix: op.prefix || undefined, ContinuationToken: token,
        }));
        for (const c of r.Contents || []) keys.push({ key: c.Key, size: c.Size, etag: unquote(c.ETag) });
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
      return { keys };
    }
    default:
      throw new Error(`unknown op ${op.op}`);
  }
}

async function main() {
  const [planPath, resultsPath] = process.argv.slice(2);
  if (!planPath || !resultsPath) {
    process.stderr.write('usage: s3_cross_client.js <plan.json> <results.json>\n');
    process.exit(2);
  }
  const plan = JSON.parse(fs.readFileSync(planPath, 'utf8'));
  const client = new S3Client({
    endpoint: plan.endpoint,
    region: plan.region,
    forcePathStyle: true,
    credentials: {
      accessKeyId: plan.access_key_id,
      secretAccessKey: plan.secret_access_key,
      sessionToken: plan.session_token || undefined,
    },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,  // a failure is a finding, not something to paper over
  });
  if (plan.bucket_path_without_slash) {
    // Path-style bucket requests (ListObjectsV2) go out as "/bucket/?...";
    // @20minutes/s3rver 5.0.0 wrongly fails those with 403. Send "/bucket?..."
    // as S3 equally accepts; rewritten before signing, so the signature covers it.
    client.middlewareStack.add((next) => async (args) => {
      const req = args.request;
      if (req && req.path === `/${plan.bucket}/`) req.path = `/${plan.bucket}`;
      return next(args);
    }, { step: 'build', name: 'bucketPathWithoutSlash' });
  }
  const results = [];
  for (const op of plan.ops) {
    try {
      results.push({ op: op.op, key: op.key, ok: true, ...(await run(client, plan.bucket, op)) });
    } catch (e) {
      results.push({
        op: op.op, key: op.key, ok: false, error: `${e.name}: ${e.message}`,
        status: e.$metadata ? e.$metadata.httpStatusCode : undefined,
      });
    }
  }
  fs.writeFileSync(resultsPath, JSON.stringify({ results }));
}

main().catch((e) => {
  process.stderr.write(`s3_cross_client: ${e.stack || e}\n`);
  process.exit(2);
});
