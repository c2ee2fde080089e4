// Sealed ballots in the browser (SPEC §5.1): seal(poll, publicKey, questions, choices) encrypts each answer
// to the poll's joint key and proves the ballot well formed, exactly as salon/sealed/ does on the server
// (protocol: docs/sealed-ballots.md). Uses @noble/curves (audited), installed by `make vendor` into
// salon/static/vendor/ from the npm registry — never a CDN. @noble/curves imports '@noble/hashes/…' by
// bare name: a page that loads this module maps that prefix with an import map to
// /static/vendor/node_modules/@noble/hashes/ (node resolves it on its own).
import { secp256k1 } from './vendor/node_modules/@noble/curves/secp256k1.js';
import { sha256 } from './vendor/node_modules/@noble/hashes/sha2.js';

const Point = secp256k1.Point;
export const VERSION = 'salon-sealed-1'; // the domain of the key's and decryption's proofs
export const PROTOCOLS = { 1: 'salon-sealed-1', 2: 'salon-sealed-2' }; // a ballot's version → its proofs' domain
export const LATEST = 2;
export const N = Point.Fn.ORDER;
const G = Point.BASE;
const ZERO = Point.ZERO;
const { x: G_X, y: G_Y } = G.toAffine();
const encoder = new TextEncoder();

const mod = (a) => ((a % N) + N) % N;

// Secret scalars (nonces) use the constant-time multiplication; published ones (challenges and responses of
// simulated branches) the faster one. The identity is explicit: multiplying by 0 gives it, never an error.
function mul(point, k, secret = false) {
  k = mod(k);
  if (k === 0n || point.is0()) return ZERO;
  return secret ? point.multiply(k) : point.multiplyUnsafe(k);
}

export function pointHex(point) {
  return point.is0() ? '00' : point.toHex(true);
}

export function pointFromHex(text) {
  if (typeof text !== 'string' || !/^0[23][0-9a-f]{64}$/.test(text)) {
    throw new Error('not a compressed point in lowercase hex');
  }
  return Point.fromHex(text); // checks that the point is on the curve
}

export function scalarHex(k) {
  return mod(k).toString(16).padStart(64, '0');
}

function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function bytesToBigInt(bytes) {
  return BigInt('0x' + (bytesToHex(bytes) || '0'));
}

function uint(value, length) {
  const out = new Uint8Array(length);
  let v = BigInt(value);
  for (let i = length - 1; i >= 0; i--) { out[i] = Number(v & 0xffn); v >>= 8n; }
  return out;
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) { out.set(part, at); at += part.length; }
  return out;
}

function itemBytes(item) {
  if (item instanceof Uint8Array) return item; // a point already encoded
  if (item instanceof Point) return item.is0() ? new Uint8Array([0]) : item.toBytes(true);
  if (typeof item === 'string') return encoder.encode(item);
  if (typeof item === 'number' || typeof item === 'bigint') return uint(item, 8);
  throw new Error('cannot hash ' + typeof item);
}

// H(tag, items…): SHA-256 of the domain tag and each item length-prefixed, read big-endian, mod N. A tag holding
// a '/' is the whole domain tag ('salon-sealed-2/bit'); otherwise it is VERSION's.
export function hashToScalar(tag, ...items) {
  const parts = [encoder.encode(tag.includes('/') ? tag : `${VERSION}/${tag}`)];
  for (const item of items) {
    const data = itemBytes(item);
    parts.push(uint(data.length, 4), data);
  }
  return mod(bytesToBigInt(sha256(concat(parts))));
}

// Nonces for real ballots: uniform enough in 1 … N-1 (64 random bytes reduced).
export class RandomNonces {
  scalar() {
    const bytes = new Uint8Array(64);
    globalThis.crypto.getRandomValues(bytes);
    return (bytesToBigInt(bytes) % (N - 1n)) + 1n;
  }
}

// Deterministic nonces for the known-answer tests only; the same sequence as SeededNonces in group.py.
export class SeededNonces {
  constructor(seed) { this.seed = encoder.encode(seed); this.counter = 0n; }
  scalar() {
    for (;;) {
      this.counter += 1n;
      const block = concat([encoder.encode(`${VERSION}/test-nonce`), this.seed, uint(this.counter, 8)]);
      const value = mod(bytesToBigInt(sha256(block)));
      if (value !== 0n) return value;
    }
  }
}

export function encrypt(publicKey, m, r) {
  const beta = mul(publicKey, r, true);
  return { alpha: mul(G, r, true), beta: m === 0 ? beta : beta.add(mul(G, BigInt(m))) };
}

// Prove that ciphertext = Enc(value; nonce) with value among values, without saying which (CDS). The prover
// knows the nonce, so a simulated branch's commitments A = s·G − c·α and B = s·h − c·(β − v·G) are computed
// as (s − c·r)·G and (s − c·r)·h + c·(v − value)·G: multiplications of the two fixed bases, whose tables make
// them several times cheaper than multiplying the fresh α and β. Same points, so the same proof as group.py's.
// All scalars that involve the nonce or the value use the constant-time multiplication.
export function proveOneOf(context, publicKey, ciphertext, values, value, nonce, rng) {
  const [tag, ...items] = context;
  const trueIndex = values.indexOf(value);
  const w = rng.scalar();
  const simulated = new Map();
  const commitments = [];
  values.forEach((candidate, index) => {
    if (index === trueIndex) {
      commitments.push(mul(G, w, true), mul(publicKey, w, true));
      return;
    }
    const c = rng.scalar();
    const s = rng.scalar();
    simulated.set(index, { c, s });
    const t = mod(s - c * nonce);
    commitments.push(mul(G, t, true), mul(publicKey, t, true).add(mul(G, c * BigInt(candidate - value), true)));
  });
  const challenge = hashToScalar(tag, ...items, ciphertext.alpha, ciphertext.beta, ...commitments);
  let cTrue = challenge;
  for (const branch of simulated.values()) cTrue = mod(cTrue - branch.c);
  const sTrue = mod(w + cTrue * nonce);
  return values.map((_, index) => {
    const branch = simulated.get(index) || { c: cTrue, s: sTrue };
    return { c: scalarHex(branch.c), s: scalarHex(branch.s) };
  });
}

// ---- Fixed-base multiplication for sealing. A ballot multiplies only two points, G and the poll's key h, a few
// hundred times each. Each gets a table of signed 7-bit windows (for window i, the affine multiples j·2^(7i)·P,
// j = 1 … 64: 38 × 64 points, built once per page and key), so a multiplication is 38 additions of a table
// point and no doubling. The walk is noble's constant-time one (every entry of a window read, both signs
// computed, one addition per window whatever the digit, a zero digit feeding a discarded accumulator),
// without noble's scalar blinding: blinding guards a long-lived secret multiplied again and again (a
// trustee's key still goes through noble's blinded multiply), while each nonce of a ballot is drawn for it
// and multiplied twice. The additions are secp256k1's (a = 0) in Jacobian coordinates, mixed with the affine
// table point (8M + 3S, plain BigInt arithmetic modulo p), about three times cheaper than noble's complete
// projective formula; the rare exceptional cases (equal or opposite points, the identity) take their own
// branch. A ballot's points stay Jacobian until prepare() converts them all with one shared inversion.
// tests/unit/test_sealed_js.py checks these multiplications against noble's on edge scalars.
const P = Point.Fp.ORDER;
const WINDOW = 7;
const WINDOWS = Math.ceil(256 / WINDOW) + 1; // the extra window takes the signed digits' last carry
const HALF = 2 ** (WINDOW - 1);
const WINDOW_MASK = BigInt(2 * HALF - 1);
const WINDOW_SHIFT = BigInt(WINDOW);
const INFINITY = Object.freeze({ X: 1n, Y: 1n, Z: 0n });

const fadd = (a, b) => { const c = a + b; return c >= P ? c - P : c; };
const fsub = (a, b) => (a >= b ? a - b : a - b + P);
const fmul = (a, b) => (a * b) % P;

function jDouble(q) {
  if (q.Z === 0n || q.Y === 0n) return INFINITY;
  const a = fmul(q.X, q.X), b = fmul(q.Y, q.Y), c = fmul(b, b);
  const xb = fadd(q.X, b);
  const half = fsub(fsub(fmul(xb, xb), a), c);
  const d = fadd(half, half);
  const e = fadd(fadd(a, a), a);
  const x = fsub(fmul(e, e), fadd(d, d));
  const c8 = fadd(fadd(fadd(c, c), fadd(c, c)), fadd(fadd(c, c), fadd(c, c)));
  const y = fsub(fmul(e, fsub(d, x)), c8);
  const z = fmul(fadd(q.Y, q.Y), q.Z);
  return { X: x, Y: y, Z: z };
}

// q (Jacobian) + (x, y) (affine, not the identity)
function jAddAffine(q, x, y) {
  if (q.Z === 0n) return { X: x, Y: y, Z: 1n };
  const zz = fmul(q.Z, q.Z);
  const h = fsub(fmul(x, zz), q.X);
  const r = fsub(fmul(y, fmul(q.Z, zz)), q.Y);
  if (h === 0n) return r === 0n ? jDouble(q) : INFINITY;
  const hh = fmul(h, h), hhh = fmul(h, hh), v = fmul(q.X, hh);
  const x3 = fsub(fsub(fmul(r, r), hhh), fadd(v, v));
  return { X: x3, Y: fsub(fmul(r, fsub(v, x3)), fmul(q.Y, hhh)), Z: fmul(q.Z, h) };
}

// q + o, both Jacobian
function jAdd(q, o) {
  if (q.Z === 0n) return o;
  if (o.Z === 0n) return q;
  const z1z1 = fmul(q.Z, q.Z), z2z2 = fmul(o.Z, o.Z);
  const u1 = fmul(q.X, z2z2), u2 = fmul(o.X, z1z1);
  const s1 = fmul(q.Y, fmul(o.Z, z2z2)), s2 = fmul(o.Y, fmul(q.Z, z1z1));
  const h = fsub(u2, u1), r = fsub(s2, s1);
  if (h === 0n) return r === 0n ? jDouble(q) : INFINITY;
  const hh = fmul(h, h), hhh = fmul(h, hh), v = fmul(u1, hh);
  const x3 = fsub(fsub(fmul(r, r), hhh), fadd(v, v));
  return { X: x3, Y: fsub(fmul(r, fsub(v, x3)), fmul(s1, hhh)), Z: fmul(fmul(q.Z, o.Z), h) };
}

const jNeg = (q) => ({ X: q.X, Y: q.Y === 0n ? 0n : P - q.Y, Z: q.Z });

function jFromPoint(point) {
  if (point.is0()) return INFINITY;
  const { x, y } = point.toAffine();
  return { X: x, Y: y, Z: 1n };
}

// The affine (x, y) of Jacobian points, one shared inversion (null for the identity).
function toAffineAll(points) {
  const inverses = Point.Fp.invertBatch(points.map((q) => q.Z));
  return points.map((q, i) => {
    if (q.Z === 0n) return null;
    const zi = inverses[i], zi2 = fmul(zi, zi);
    return { x: fmul(q.X, zi2), y: fmul(q.Y, fmul(zi2, zi)) };
  });
}

function encodeAffine(affine) {
  if (affine === null) return new Uint8Array([0]);
  const out = uint(affine.x, 33);
  out[0] = affine.y & 1n ? 3 : 2;
  return out;
}

class FixedBase {
  constructor(point) {
    const entries = [];
    let base = jFromPoint(point);
    for (let w = 0; w < WINDOWS; w++) {
      const [affineBase] = toAffineAll([base]);
      let acc = base;
      for (let i = 0; i < HALF; i++) {
        entries.push(acc);
        if (i + 1 < HALF) acc = jAddAffine(acc, affineBase.x, affineBase.y);
      }
      base = jDouble(acc); // 2^7 times this window's base
    }
    const affine = toAffineAll(entries);
    this.xs = affine.map((e) => e.x);
    this.ys = affine.map((e) => e.y);
    this.discarded = INFINITY;
  }

  // k·P (Jacobian) for a scalar k; 0 gives the identity.
  mul(k) {
    let n = mod(k);
    const { xs, ys } = this;
    let p = INFINITY;
    let f = INFINITY;
    for (let w = 0; w < WINDOWS; w++) {
      let digit = Number(n & WINDOW_MASK);
      n >>= WINDOW_SHIFT;
      if (digit > HALF) { digit -= 2 * HALF; n += 1n; }
      const start = w * HALF;
      const index = Math.abs(digit) - 1;
      let x = xs[start];
      let y = ys[start];
      for (let i = 1; i < HALF; i++) {
        const hit = i === index;
        x = hit ? xs[start + i] : x;
        y = hit ? ys[start + i] : y;
      }
      const negated = P - y;
      if (digit === 0) f = jAddAffine(f, xs[start], ys[start]);
      else p = jAddAffine(p, x, digit < 0 ? negated : y);
    }
    this.discarded = f;
    return p;
  }
}

let baseTable = null;
const keyTables = new Map(); // the last few keys' tables, by hex

function tablesFor(publicKeyHex, publicKey) {
  if (baseTable === null) baseTable = new FixedBase(G);
  let keyTable = keyTables.get(publicKeyHex);
  if (keyTable === undefined) {
    keyTable = new FixedBase(publicKey);
    keyTables.set(publicKeyHex, keyTable);
    if (keyTables.size > 4) keyTables.delete(keyTables.keys().next().value);
  }
  return [baseTable, keyTable];
}

// k·P through the fixed-base tables, as hex: for the tests that compare it with noble's multiply.
export function fixedBaseMulHex(pointHexText, k) {
  const point = pointFromHex(pointHexText);
  const [onG, onP] = tablesFor(pointHexText, point);
  return bytesToHex(encodeAffine(toAffineAll([(point.equals(G) ? onG : onP).mul(BigInt(k))])[0]));
}

// Convert the Jacobian points named in `names` of every slot to their encodings (field + 'Bytes'), with one
// shared inversion.
function settle(slots, names) {
  const points = [];
  for (const slot of slots) for (const name of names) if (name in slot) points.push(slot[name]);
  const affine = toAffineAll(points);
  let at = 0;
  for (const slot of slots) {
    for (const name of names) if (name in slot) slot[name + 'Bytes'] = encodeAffine(affine[at++]);
  }
}

// Every multiplication of a ballot is independent of the choices: the nonces, the encryptions' r·G and r·h
// (and β for either answer, r·h and r·h + G), the true branch's w·G and w·h, and a simulated branch's
// (s − c·r)·G and (s − c·r)·h ± c·G for either answer. So the page calls prepare() while the voter reads, and
// sealPrepared() after the choice picks among prepared points, adds the question's sums and hashes, plus one
// multiplication per simulated branch of each sum proof. The nonces are drawn in exactly the order of
// salon/sealed/ballot.py (per option r, w, c, s; per question then w and the (c, s) pairs), so the ballot is
// the one group.py's prover makes with the same nonces.
// The protocol version as a number: 1, 2, or their names ('salon-sealed-2').
function protocolNumber(protocol) {
  for (const [number, name] of Object.entries(PROTOCOLS)) {
    if (protocol === name || protocol === Number(number)) return Number(number);
  }
  throw new Error(`unknown protocol ${protocol}`);
}

// Whether a question ends with the blank position b of protocol 2 (docs/sealed-ballots.md): `blank` true (a
// board's question), or a seal spec's blank position (a number) on an approval question (min 0).
export function hasBlankPosition(question) {
  return question.blank === true || (Number.isInteger(question.blank) && question.min === 0);
}

// With a blank position: the options' nonces, α and r·h summed with K times the blank's (the weighted sum),
// and its proof over the totals 1 … K; otherwise min … max.
export function prepare(poll, publicKeyHex, questions, rng = new RandomNonces(), protocol = 1) {
  const version = protocolNumber(protocol);
  const publicKey = pointFromHex(publicKeyHex);
  const [onG, onH] = tablesFor(publicKeyHex, publicKey);
  const slots = [];
  const prepared = {
    poll, publicKey, publicKeyBytes: itemBytes(publicKey), onG, version, questions: questions.map((question) => {
      if (!(Number.isInteger(question.options) && question.options >= 1 && Number.isInteger(question.min)
        && Number.isInteger(question.max) && question.min >= 0 && question.min <= question.max
        && question.max <= question.options)) {
        throw new Error(`question ${question.id}: need 0 ≤ min ≤ max ≤ options`);
      }
      const blank = hasBlankPosition(question);
      if (blank !== (version >= 2 && question.min === 0)
        || (blank && !(question.max >= 1 && question.max < question.options))) {
        throw new Error(`question ${question.id}: in ${PROTOCOLS[version]} an approval question `
          + (version >= 2 ? 'ends with its blank position' : 'has no blank position'));
      }
      const lowest = blank ? 1 : question.min;
      let nonceSum = 0n;
      let alphaSum = INFINITY;
      let rHSum = INFINITY;
      const options = [];
      for (let o = 0; o < question.options; o++) {
        const r = rng.scalar(), w = rng.scalar(), c = rng.scalar(), s = rng.scalar();
        const t = mod(s - c * r);
        const alpha = onG.mul(r), rH = onH.mul(r), tH = onH.mul(t), cG = onG.mul(c);
        if (blank && o === question.options - 1) { // K·(α_b, r_b·h) in the weighted sum
          const kr = mod(BigInt(question.max) * r);
          nonceSum = mod(nonceSum + kr);
          alphaSum = jAdd(alphaSum, onG.mul(kr));
          rHSum = jAdd(rHSum, onH.mul(kr));
        } else {
          nonceSum = mod(nonceSum + r);
          alphaSum = jAdd(alphaSum, alpha);
          rHSum = jAdd(rHSum, rH);
        }
        // beta0/beta1: β when the answer is 0/1; sim0/sim1: the simulated branch's B when the answer is 0/1
        // (it simulates the other value v: B = (s − c·r)·h + c·(v − answer)·G)
        const option = { r, w, c, s, alpha, beta0: rH, beta1: jAddAffine(rH, G_X, G_Y), wG: onG.mul(w),
          wH: onH.mul(w), tG: onG.mul(t), sim0: jAdd(tH, cG), sim1: jAdd(tH, jNeg(cG)) };
        options.push(option);
        slots.push(option);
      }
      const w = rng.scalar();
      const pairs = [];
      for (let b = lowest; b < question.max; b++) {
        const c = rng.scalar(), s = rng.scalar();
        const t = mod(s - c * nonceSum);
        pairs.push({ c, s, tG: onG.mul(t), tH: onH.mul(t) });
      }
      const sum = { w, wG: onG.mul(w), wH: onH.mul(w), alphaSum, rHSum, pairs };
      slots.push(sum, ...pairs);
      return { question, options, nonceSum, sum, blank, lowest };
    }),
  };
  settle(slots, ['alpha', 'beta0', 'beta1', 'wG', 'wH', 'tG', 'sim0', 'sim1', 'alphaSum']);
  return prepared;
}

function finishProof(context, alphaBytes, betaBytes, trueIndex, branches, w, wGBytes, wHBytes, nonce) {
  // branches: for every index but trueIndex, in index order, {c, s, A, B} (A and B encoded)
  const [tag, ...items] = context;
  const commitments = [];
  const out = [];
  let k = 0;
  const count = branches.length + 1;
  for (let index = 0; index < count; index++) {
    if (index === trueIndex) { commitments.push(wGBytes, wHBytes); out.push(null); continue; }
    const branch = branches[k++];
    commitments.push(branch.A, branch.B);
    out.push(branch);
  }
  let cTrue = hashToScalar(tag, ...items, alphaBytes, betaBytes, ...commitments);
  for (const branch of branches) cTrue = mod(cTrue - branch.c);
  const sTrue = mod(w + cTrue * nonce);
  return out.map((b) => (b === null ? { c: scalarHex(cTrue), s: scalarHex(sTrue) }
    : { c: scalarHex(b.c), s: scalarHex(b.s) }));
}

// choices[q][o] is 0 or 1. Returns the ballot as the server expects it. A prepared ballot seals once.
// A question with a blank position takes its options' answers alone (the blank bit is then set from them) or
// all its positions (the blank bit must agree).
export function sealPrepared(prepared, choices) {
  if (prepared.used) throw new Error('a prepared ballot seals once (its nonces must not be reused)');
  const { poll, publicKeyBytes, onG, version } = prepared;
  const bitTag = `${PROTOCOLS[version]}/bit`, sumTag = `${PROTOCOLS[version]}/sum`;
  if (choices.length !== prepared.questions.length) throw new Error('one list of answers per question');
  const answers = prepared.questions.map(({ question, options, nonceSum, sum, blank, lowest }, q) => {
    let answer = choices[q];
    if (blank && answer.length === question.options - 1) answer = [...answer, answer.includes(1) ? 0 : 1];
    if (answer.length !== question.options || answer.some((v) => v !== 0 && v !== 1)) {
      throw new Error(`question ${question.id}: ${question.options} answers of 0 or 1`);
    }
    const approved = blank ? answer.slice(0, -1).reduce((a, b) => a + b, 0) : 0;
    const total = blank ? question.max * answer[answer.length - 1] + approved : answer.reduce((a, b) => a + b, 0);
    if (blank && (approved > question.max || (answer[answer.length - 1] === 1) !== (approved === 0))) {
      throw new Error(`question ${question.id}: at most ${question.max} approvals, the blank position set `
        + 'exactly when there is none');
    }
    if (!blank && (total < question.min || total > question.max)) {
      throw new Error(`question ${question.id}: between ${question.min} and ${question.max} answers`);
    }
    const sealedChoices = answer.map((value, option) => {
      const p = options[option];
      const betaBytes = value === 1 ? p.beta1Bytes : p.beta0Bytes;
      const simulated = { c: p.c, s: p.s, A: p.tGBytes, B: value === 1 ? p.sim1Bytes : p.sim0Bytes };
      const proof = finishProof([bitTag, poll, publicKeyBytes, question.id, option], p.alphaBytes, betaBytes, value,
        [simulated], p.w, p.wGBytes, p.wHBytes, p.r);
      return { alpha: bytesToHex(p.alphaBytes), beta: bytesToHex(betaBytes), proof };
    });
    const betaSum = jAdd(sum.rHSum, onG.mul(BigInt(total)));
    const candidates = [];
    for (let candidate = lowest; candidate <= question.max; candidate++) {
      if (candidate !== total) candidates.push(candidate);
    }
    const others = candidates.map((candidate, k) => jAdd(sum.pairs[k].tH,
      onG.mul(sum.pairs[k].c * BigInt(candidate - total))));
    const [betaSumBytes, ...simulatedB] = toAffineAll([betaSum, ...others]).map(encodeAffine);
    const simulated = candidates.map((_, k) => ({ c: sum.pairs[k].c, s: sum.pairs[k].s, A: sum.pairs[k].tGBytes,
      B: simulatedB[k] }));
    const proof = finishProof([sumTag, poll, publicKeyBytes, question.id, question.min, question.max],
      sum.alphaSumBytes, betaSumBytes, total - lowest, simulated, sum.w, sum.wGBytes,
      sum.wHBytes, nonceSum);
    return { question: question.id, choices: sealedChoices, proof };
  });
  prepared.used = true;
  return version >= 2 ? { protocol: PROTOCOLS[version], poll, answers } : { poll, answers };
}

// questions: [{id, options, min, max, blank}]; choices[q][o] is 0 or 1. Prepare and seal in one go.
export function seal(poll, publicKeyHex, questions, choices, rng = new RandomNonces(), protocol = 1) {
  return sealPrepared(prepare(poll, publicKeyHex, questions, rng, protocol), choices);
}

// The canonical JSON of docs/sealed-ballots.md: sorted keys, no spaces, non-ASCII escaped (as Python's
// json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=True)).
export function canonicalJson(value) {
  if (Array.isArray(value)) return '[' + value.map(canonicalJson).join(',') + ']';
  if (value !== null && typeof value === 'object') {
    return '{' + Object.keys(value).sort().map((k) => asciiString(k) + ':' + canonicalJson(value[k])).join(',') + '}';
  }
  if (typeof value === 'string') return asciiString(value);
  if (Number.isInteger(value)) return String(value);
  throw new Error('only strings, integers, lists and objects');
}

function asciiString(text) {
  return JSON.stringify(text)
    .replace(/[\u007f-\uffff]/g, (ch) => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0'));
}

// The receipt: SHA-256 hex of the ballot's canonical JSON.
export function fingerprint(ballot) {
  return bytesToHex(sha256(encoder.encode(canonicalJson(ballot))));
}

// ---- Trustees (docs/sealed-ballots.md, "Election key"): what a trustee's own device computes. The secrets
// (coefficients, received shares, the trustee's key) stay on that device; only the returned public parts and,
// privately to each other trustee, that trustee's share leave it.

// Deal a Feldman VSS of a random secret: k coefficients, their commitments and Schnorr proofs of knowledge.
// Draws as threshold.deal does: the k coefficients, then one nonce per proof.
export function deal(term, index, k, rng = new RandomNonces()) {
  const coefficients = [];
  for (let j = 0; j < k; j++) coefficients.push(rng.scalar());
  const commitments = coefficients.map((a) => mul(G, a, true));
  const proofs = coefficients.map((a, j) => {
    const w = rng.scalar();
    const c = hashToScalar('coefficient', term, index, j, commitments[j], mul(G, w, true));
    return { c: scalarHex(c), s: scalarHex(w + c * a) };
  });
  return { term, index, coefficients, public: { index, commitments: commitments.map(pointHex), proofs } };
}

export function evaluate(coefficients, at) {
  let value = 0n;
  for (let j = coefficients.length - 1; j >= 0; j--) value = mod(value * BigInt(at) + coefficients[j]);
  return value;
}

// The share a dealer sends, privately, to trustee `recipient` (as 64 hex characters).
export function shareFor(dealing, recipient) {
  return scalarHex(evaluate(dealing.coefficients, recipient));
}

function committedValue(commitmentsHex, at) {
  let point = ZERO;
  commitmentsHex.forEach((hex, j) => { point = point.add(mul(pointFromHex(hex), BigInt(at) ** BigInt(j))); });
  return point;
}

function scalarFromHex(text) {
  if (typeof text !== 'string' || !/^[0-9a-f]{64}$/.test(text)) throw new Error('a scalar is 64 lowercase hex');
  const value = BigInt('0x' + text);
  if (value >= N) throw new Error('a scalar is below the group order');
  return value;
}

// Feldman's check, before the recipient accepts a dealt share.
export function shareIsValid(commitmentsHex, recipient, shareHex) {
  return mul(G, scalarFromHex(shareHex), true).equals(committedValue(commitmentsHex, recipient));
}

// The trustee's key x_l: the sum of the shares received from every dealer, its own included.
export function trusteeSecret(sharesHex) {
  return scalarHex(sharesHex.reduce((sum, hex) => mod(sum + scalarFromHex(hex)), 0n));
}

// allCommitments: {dealer index: [hex…]}. The joint key h and trustee l's verification key X_l.
export function jointKey(allCommitments) {
  return pointHex(Object.values(allCommitments).reduce((sum, c) => sum.add(pointFromHex(c[0])), ZERO));
}

export function verificationKey(allCommitments, trustee) {
  return pointHex(Object.values(allCommitments).reduce((sum, c) => sum.add(committedValue(c, trustee)), ZERO));
}

function pointOrIdentityFromHex(text) {
  return text === '00' ? ZERO : pointFromHex(text);
}

// Trustee l's factor x_l·A of one tally ciphertext {alpha, beta} (hex; '00' is the identity of an empty poll),
// with its Chaum–Pedersen proof against X_l. Draws one nonce, as threshold.decryption_factor.
export function decryptionFactor(poll, publicKeyHex, question, option, trustee, secretHex, ciphertext,
  rng = new RandomNonces()) {
  const secret = scalarFromHex(secretHex);
  const alpha = pointOrIdentityFromHex(ciphertext.alpha);
  const beta = pointOrIdentityFromHex(ciphertext.beta);
  const factor = mul(alpha, secret, true);
  const w = rng.scalar();
  const c = hashToScalar('decrypt', poll, pointFromHex(publicKeyHex), question, option, trustee,
    mul(G, secret, true), alpha, beta, factor, mul(G, w, true), mul(alpha, w, true));
  return { factor: pointHex(factor), proof: { c: scalarHex(c), s: scalarHex(w + c * secret) } };
}

// Everything one trustee sends after a close: a proven factor per tally ciphertext, as board.trustee_factors;
// null for a sum marked undecrypted[q][o] (below the publication minimum, a count the poll's outcome does not
// need): that sum is never decrypted.
export function trusteeFactors(poll, publicKeyHex, questions, tally, trustee, secretHex, rng = new RandomNonces(),
  undecrypted = null) {
  return {
    trustee, factors: questions.map((question, q) => tally[q].map((ciphertext, o) => (
      undecrypted && undecrypted[q][o] ? null
        : decryptionFactor(poll, publicKeyHex, question.id, o, trustee, secretHex, ciphertext, rng)))),
  };
}

// A complaint's evidence (docs/sealed-ballots.md, "Complaints, decided by evidence"): the recipient discloses
// S = t·T_dealer, the ECDH point that opens the dealer's share to it (and nothing else), with a Chaum–Pedersen
// proof that log_G T_recipient = log_T_dealer S. Draws one nonce, as transport.prove_shared_point.
export function complaintEvidence(term, round, dealer, recipient, transportSecretHex, dealerKeyHex,
  rng = new RandomNonces()) {
  const secret = scalarFromHex(transportSecretHex);
  const dealerKey = pointFromHex(dealerKeyHex);
  const shared = mul(dealerKey, secret, true);
  const w = rng.scalar();
  const c = hashToScalar('complaint', term, round, dealer, recipient, mul(G, secret, true), dealerKey, shared,
    mul(G, w, true), mul(dealerKey, w, true));
  return { shared_point: pointHex(shared), proof: { c: scalarHex(c), s: scalarHex(w + c * secret) } };
}
