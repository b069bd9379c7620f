#!/usr/bin/env node
// An independent check of a stockade receipt log, written against
// docs/receipts.md only: RFC 8785 canonical form by the npm `canonicalize`
// package, SHA-256 and Ed25519 by Node's built-in crypto.
//
//   node verify.js PUBKEY.pem LOG...
//
// For every line: it must be the canonical form of itself; "hash" must be
// SHA-256 of the canonical record without "hash" and "sig"; "sig" must be an
// Ed25519 signature of those bytes by PUBKEY; "prev" must be SHA-256 of the
// whole previous line (the first record of the chain: 64 zeros); "seq" runs
// on by one.  Prints "ok N" or the first bad line, exit 1.
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const canonicalize = require('canonicalize');

function fail(where, what) {
  console.log(`${where}: ${what}`);
  process.exit(1);
}

const [pemFile, ...logs] = process.argv.slice(2);
if (!pemFile || logs.length === 0) {
  console.error('usage: node verify.js PUBKEY.pem LOG...');
  process.exit(2);
}
const key = crypto.createPublicKey(fs.readFileSync(pemFile));
const sha256 = (s) => crypto.createHash('sha256').update(s, 'utf8').digest('hex');

let prevLine = null, prevSeq = null, count = 0;
for (const file of logs) {
  const text = fs.readFileSync(file, 'utf8');
  if (!text.endsWith('\n')) fail(file, 'does not end with a newline (torn)');
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((line, i) => {
    const where = `${file}:${i + 1}`;
    let rec;
    try { rec = JSON.parse(line); } catch (e) { fail(where, `not JSON: ${e.message}`); }
    if (canonicalize(rec) !== line) fail(where, 'not in RFC 8785 canonical form');
    const { hash, sig, ...body } = rec;
    const signed = canonicalize(body);
    if (sha256(signed) !== hash) fail(where, 'hash mismatch');
    if (!crypto.verify(null, Buffer.from(signed, 'utf8'), key, Buffer.from(sig, 'base64')))
      fail(where, 'bad signature');
    const wantPrev = prevLine === null ? '0'.repeat(64) : sha256(prevLine);
    if (prevLine !== null || rec.seq === 1) {
      if (rec.prev !== wantPrev) fail(where, 'prev is not the hash of the line before');
    }
    if (prevSeq !== null && rec.seq !== prevSeq + 1) fail(where, `seq ${rec.seq} after ${prevSeq}`);
    prevLine = line;
    prevSeq = rec.seq;
    count++;
  });
}
console.log(`ok ${count}`);
