#!/usr/bin/env node
// Signs requests with the AWS SDK for JavaScript's SigV4 signer
// (@smithy/signature-v4, the one @aws-sdk/client-s3 uses) for
// test/storage/s3/sigv4_differential_test.cc.
//
//   node test/tools/sigv4_sign.js <requests.json> <results.json>
//
// Input: {"requests": [{id, mode: "s3" | "generic", method, path (decoded),
//   query: [[name, value], ...] (decoded), headers: [[name, value], ...],
//   body: string | null (null = UNSIGNED-PAYLOAD), presign: bool,
//   expires: seconds, region, service, access_key_id, secret_access_key,
//   session_token, time_ms, apply_checksum: bool}]}
// Output: {"results": [{id, canonical_request, string_to_sign, signature,
//   authorization, headers: {lowercase name: value} (header signing),
//   query: string (presigning, as the SDK's HTTP handlers send it)}]}
//
// How the S3 client drives the signer, reproduced here:
// - @aws-sdk/client-s3 sets signingEscapePath: false, so the signer gets
//   uriEscapePath: false and signs request.path as given; the path is
//   already encoded by the protocol serializer, which encodes each '/'-
//   separated segment of the greedy {Key+} label with
//   extendedEncodeURIComponent (@smithy/core/protocols). "s3" mode does
//   exactly that. "generic" mode is the default signer (uriEscapePath: true:
//   it normalises the path and encodes it once more), fed the same sent path.
// - applyChecksum (default true) adds x-amz-content-sha256 with the payload
//   hash; an UNSIGNED-PAYLOAD request carries that header already (as the
//   S3 client sets it), and the signer then uses its value as the hash.
// - Presigning: the SDK hoists x-amz-* headers into the query unless told
//   not to; our Presign signs every given header as a header, so all x-amz-*
//   headers are passed as unhoistableHeaders. For UNSIGNED-PAYLOAD the hash
//   comes from an x-amz-content-sha256 header kept out of both the query and
//   the signed headers (unhoistable + unsignable).
// - Repeated header names are one entry whose values are joined with ','
//   (a JS header map holds one value per name).
"use strict";

const fs = require("fs");
const { SignatureV4 } = require("@smithy/signature-v4");
const { Sha256 } = require("@aws-crypto/sha256-js");
const { HttpRequest, extendedEncodeURIComponent, escapeUriPath, buildQueryString } = require("@smithy/core/protocols");

// The SDK's signer, recording the canonical request and string to sign it
// computes (for diagnostics and comparison; the signature is its own).
class RecordingSigner extends SignatureV4 {
  createCanonicalRequest(request, canonicalHeaders, payloadHash) {
    this.lastCanonicalRequest = super.createCanonicalRequest(request, canonicalHeaders, payloadHash);
    return this.lastCanonicalRequest;
  }
  async createStringToSign(longDate, credentialScope, canonicalRequest, algorithmIdentifier) {
    this.lastStringToSign = await super.createStringToSign(longDate, credentialScope, canonicalRequest,
                                                           algorithmIdentifier);
    return this.lastStringToSign;
  }
}

function headerMap(pairs) {
  const headers = {};
  const nameOf = {};  // lowercase -> first spelling seen
  for (const [name, value] of pairs) {
    const lower = name.toLowerCase();
    if (lower in nameOf) {
      headers[nameOf[lower]] += "," + value;
    } else {
      nameOf[lower] = name;
      headers[name] = value;
    }
  }
  return headers;
}

function queryMap(pairs) {
  const query = {};
  for (const [name, value] of pairs) {
    if (!Object.prototype.hasOwnProperty.call(query, name)) {
      query[name] = value;
    } else if (Array.isArray(query[name])) {
      query[name].push(value);
    } else {
      query[name] = [query[name], value];
    }
  }
  return query;
}

async function signOne(r) {
  const signer = new RecordingSigner({
    credentials: {
      accessKeyId: r.access_key_id,
      secretAccessKey: r.secret_access_key,
      ...(r.session_token ? { sessionToken: r.session_token } : {}),
    },
    region: r.region,
    service: r.service,
    sha256: Sha256,
    uriEscapePath: r.mode !== "s3",
    applyChecksum: r.apply_checksum,
  });
  const path = r.mode === "s3" ? r.path.split("/").map(extendedEncodeURIComponent).join("/") : escapeUriPath(r.path);
  const headers = headerMap(r.headers);
  const unsigned = r.body === null;
  const request = new HttpRequest({
    method: r.method,
    protocol: "https:",
    hostname: "signer.test",  // the signer reads the host header, not this
    path,
    query: queryMap(r.query),
    headers,
    body: unsigned ? undefined : r.body,
  });
  const signingDate = new Date(r.time_ms);
  const out = { id: r.id };

  const hasSha256Header = Object.keys(headers).some((n) => n.toLowerCase() === "x-amz-content-sha256");
  if (!r.presign) {
    if (unsigned && !hasSha256Header) request.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD";
    const signed = await signer.sign(request, { signingDate });
    out.authorization = signed.headers.authorization;
    out.headers = {};
    for (const [name, value] of Object.entries(signed.headers)) out.headers[name.toLowerCase()] = value;
  } else {
    const unhoistableHeaders = new Set();
    const unsignableHeaders = new Set();
    for (const name of Object.keys(headers)) {
      if (name.toLowerCase().startsWith("x-amz-")) unhoistableHeaders.add(name.toLowerCase());
    }
    if (unsigned) {
      if (hasSha256Header) throw new Error(`request ${r.id}: presigning takes the payload hash from the request`);
      request.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD";
      unhoistableHeaders.add("x-amz-content-sha256");
      unsignableHeaders.add("x-amz-content-sha256");
    }
    const signed = await signer.presign(request, {
      signingDate,
      expiresIn: r.expires,
      unhoistableHeaders,
      unsignableHeaders,
    });
    out.query = buildQueryString(signed.query);
    out.signature = signed.query["X-Amz-Signature"];
  }
  out.canonical_request = signer.lastCanonicalRequest;
  out.string_to_sign = signer.lastStringToSign;
  if (!out.signature) {
    const m = /Signature=([0-9a-f]{64})/.exec(out.authorization || "");
    out.signature = m ? m[1] : "";
  }
  return out;
}

async function main() {
  if (process.argv.length !== 4) {
    console.error("usage: sigv4_sign.js <requests.json> <results.json>");
    process.exit(2);
  }
  const input = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  const results = [];
  for (const r of input.requests) results.push(await signOne(r));
  fs.writeFileSync(process.argv[3], JSON.stringify({ results }));
  console.log(`signed ${results.length} requests`);
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : String(err));
  process.exit(1);
});
