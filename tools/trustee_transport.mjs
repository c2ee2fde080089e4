// A trustee device's share transport and complaint evidence (salon/static/trustees.js, sealed.js) under node, for
// tests/unit/test_sealed_transport.py: `node tools/trustee_transport.mjs < request.json`.
// request: {"term", "round", "dealer", "recipient", "dealer_secret", "recipient_secret" (scalars, hex), "share"
// (hex), "iv" (hex), "seed" (test nonces of the evidence)}. Answers {"aad", "ciphertext" (the dealer's, with that
// IV), "opened" (the recipient opening the Python ciphertext given as "python_ciphertext", or null), "evidence"}.
import { readFileSync } from 'node:fs';
import * as sealed from '../salon/static/sealed.js';
import * as trustees from '../salon/static/trustees.js';
import { secp256k1 } from '../salon/static/vendor/node_modules/@noble/curves/secp256k1.js';

const r = JSON.parse(readFileSync(0, 'utf8'));
const publicOf = (secretHex) => secp256k1.Point.BASE.multiply(BigInt('0x' + secretHex)).toHex(true);
const aad = trustees.associatedData(r.term, r.round, r.dealer, r.recipient);
const ciphertext = await trustees.encryptShare(r.dealer_secret, publicOf(r.recipient_secret), aad, r.share, r.iv);
let opened = null;
try {
  opened = await trustees.decryptShare(r.recipient_secret, publicOf(r.dealer_secret), aad, r.python_ciphertext);
} catch (e) { opened = null; }
const evidence = sealed.complaintEvidence(r.term, r.round, r.dealer, r.recipient, r.recipient_secret,
  publicOf(r.dealer_secret), new sealed.SeededNonces(r.seed));
process.stdout.write(JSON.stringify({ aad, ciphertext, opened, evidence }));
