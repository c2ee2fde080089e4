// Seal a ballot with salon/static/sealed.js under node: `node tools/seal_ballot.mjs < request.json`.
// request: {"poll", "public_key", "questions": [{id, options, min, max, blank}], "choices": [[0|1…]…],
//           "protocol": optional (1 or 2, default 2: salon-sealed-2), "seed": optional (test nonces),
//           "repeat": optional (times the sealing, for bench/sealed.py)}
// or {"kat": true}: the known-answer run of tests/unit/test_sealed_proofs.py (protocol 1), for the cross-check;
// or {"kat2": true}: the known answers of protocol 2 (two ballots, one of them blank);
// or {"fixed_base": {"points": [hex…], "scalars": [decimal…]}}: every k·P through sealed.js's fixed-base tables.
// Answers {"ballot", "fingerprint", "ms_per_ballot" (wall), "prepare_cpu_ms" (before the choice),
// "seal_cpu_ms" (after it)} — or the known answers — as JSON on stdout.
import { readFileSync } from 'node:fs';
import * as sealed from '../salon/static/sealed.js';
import { secp256k1 } from '../salon/static/vendor/node_modules/@noble/curves/secp256k1.js';

const request = JSON.parse(readFileSync(0, 'utf8'));

function knownAnswers() {
  const rng = new sealed.SeededNonces('salon-kat');
  const secret = rng.scalar();
  const key = secp256k1.Point.BASE.multiply(secret);
  const nonce = rng.scalar();
  const ciphertext = sealed.encrypt(key, 1, nonce);
  const proof = sealed.proveOneOf(['bit', 'poll-1', key, 'q', 0], key, ciphertext, [0, 1], 1, nonce, rng);
  const questions = [{ id: 'topics', options: 3, min: 0, max: 2 }, { id: 'overall', options: 3, min: 1, max: 1 }];
  const ballot = sealed.seal('poll-1', sealed.pointHex(key), questions, [[1, 0, 1], [0, 1, 0]], rng);
  return {
    secret: sealed.scalarHex(secret), key: sealed.pointHex(key), nonce: sealed.scalarHex(nonce),
    hash: sealed.scalarHex(sealed.hashToScalar('bit', 'poll-1', key, 'q', 0)),
    ciphertext: { alpha: sealed.pointHex(ciphertext.alpha), beta: sealed.pointHex(ciphertext.beta) },
    proof, ballot, fingerprint: sealed.fingerprint(ballot),
  };
}

function knownAnswers2() {
  const rng = new sealed.SeededNonces('salon-kat-2');
  const key = sealed.pointHex(secp256k1.Point.BASE.multiply(rng.scalar()));
  const questions = [{ id: 'topics', options: 4, min: 0, max: 2, blank: true },
    { id: 'overall', options: 3, min: 1, max: 1, blank: false }];
  const ballots = [[[1, 0, 1, 0], [0, 1, 0]], [[0, 0, 0, 1], [0, 0, 1]]].map(
    (choices) => sealed.seal('poll-2', key, questions, choices, rng, 2));
  return { key, ballots, fingerprints: ballots.map(sealed.fingerprint) };
}

function rngOf() {
  return request.seed === undefined ? new sealed.RandomNonces() : new sealed.SeededNonces(request.seed);
}

function cpuMs(work) {
  const before = process.cpuUsage();
  const result = work();
  const used = process.cpuUsage(before);
  return [result, (used.user + used.system) / 1000];
}

const protocol = request.protocol || sealed.LATEST;

if (request.kat) {
  process.stdout.write(JSON.stringify(knownAnswers()));
} else if (request.kat2) {
  process.stdout.write(JSON.stringify(knownAnswers2()));
} else if (request.fixed_base) {
  const { points, scalars } = request.fixed_base;
  process.stdout.write(JSON.stringify(points.map((point) => scalars.map(
    (k) => sealed.fixedBaseMulHex(point, BigInt(k))))));
} else {
  const repeat = request.repeat || 1;
  // the first run also builds the key's table and warms the JIT, as the page's first ballot would
  let ballot = sealed.seal(request.poll, request.public_key, request.questions, request.choices, rngOf(), protocol);
  let prepareMs = 0;
  let sealMs = 0;
  const started = performance.now();
  for (let i = 0; i < repeat; i++) {
    const [prepared, a] = cpuMs(() => sealed.prepare(request.poll, request.public_key, request.questions, rngOf(),
      protocol));
    const [done, b] = cpuMs(() => sealed.sealPrepared(prepared, request.choices));
    ballot = done;
    prepareMs += a;
    sealMs += b;
  }
  process.stdout.write(JSON.stringify({ ballot, fingerprint: sealed.fingerprint(ballot),
    ms_per_ballot: (performance.now() - started) / repeat, prepare_cpu_ms: prepareMs / repeat,
    seal_cpu_ms: sealMs / repeat }));
}
