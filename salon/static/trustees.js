// A trustee's device (SPEC §5.1; docs/sealed-ballots.md, "Integration"): the key ceremony and the decryption
// of closed polls, on the trustee's own page (templates/trustees/term.html). Loaded as a module with the page's
// import map (salon/security.py). Secrets — the transport key, the dealt polynomial, the shares received and
// the trustee's key — stay in this browser's localStorage under the page's storage key (programme, term, user);
// the only way out is the backup file the trustee downloads. The server relays public parts and ciphertexts.
//
// Shares travel encrypted: ECDH on secp256k1 between the dealer's and the recipient's transport keys
// (noble's getSharedSecret; its x coordinate), HKDF-SHA-256 (salt "salon-trustee-share-1", info the
// associated data) to an AES-256-GCM key (WebCrypto), with the associated data "<term>:<round>:<dealer>:<recipient>"
// so a ciphertext opens only for that term, round and pair. Posted as hex: IV (12 bytes) ‖ ciphertext+tag.
// A share that does not open or fails Feldman's check is complained about with its evidence: the ECDH point that
// opens it and a proof (sealed.complaintEvidence); the server opens it too and decides at once (upheld: the
// dealer is dropped, the ceremony restarts; rejected: the share is published and this device uses it).
import * as sealed from './sealed.js';
import { secp256k1 } from './vendor/node_modules/@noble/curves/secp256k1.js';
import { hkdf } from './vendor/node_modules/@noble/hashes/hkdf.js';
import { sha256 } from './vendor/node_modules/@noble/hashes/sha2.js';

const encoder = new TextEncoder();
const BACKUP_FORMAT = 'salon-trustee-backup-1';

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const unhex = (text) => Uint8Array.from(text.match(/../g) || [], (h) => parseInt(h, 16));

export function associatedData(term, round, dealer, recipient) {
  return `${term}:${round}:${dealer}:${recipient}`;
}

async function shareKey(transportSecretHex, otherPublicHex, aad) {
  const shared = secp256k1.getSharedSecret(unhex(transportSecretHex), unhex(otherPublicHex), true).slice(1);
  const raw = hkdf(sha256, shared, encoder.encode('salon-trustee-share-1'), encoder.encode(aad), 32);
  return crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

export async function encryptShare(transportSecretHex, recipientPublicHex, aad, shareHex, ivHex = null) {
  const key = await shareKey(transportSecretHex, recipientPublicHex, aad);
  const iv = ivHex ? unhex(ivHex) : crypto.getRandomValues(new Uint8Array(12));  // a fixed IV: tests only
  const sealedBytes = new Uint8Array(await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: encoder.encode(aad) }, key, unhex(shareHex)));
  return hex(iv) + hex(sealedBytes);
}

export async function decryptShare(transportSecretHex, dealerPublicHex, aad, ciphertextHex) {
  const key = await shareKey(transportSecretHex, dealerPublicHex, aad);
  const bytes = unhex(ciphertextHex);
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: bytes.slice(0, 12), additionalData: encoder.encode(aad) }, key, bytes.slice(12));
  return hex(new Uint8Array(plain));
}

class Device {
  constructor(root) {
    this.root = root;
    this.base = root.dataset.baseUrl;
    this.storageKey = root.dataset.storageKey;
    this.status = root.querySelector('#device-status');
    this.busy = false;
  }

  message(name) { return this.root.dataset['msg' + name[0].toUpperCase() + name.slice(1)]; }

  say(name) { this.status.textContent = this.message(name); }

  // What became of this device's complaint: stays while the ceremony moves on (the status line does not).
  note(name) {
    const note = this.root.querySelector('#device-note');
    note.textContent = this.message(name);
    note.hidden = false;
  }

  load() {
    try { return JSON.parse(localStorage.getItem(this.storageKey)) || {}; } catch (e) { return {}; }
  }

  save(kept) { localStorage.setItem(this.storageKey, JSON.stringify(kept)); }

  async request(path, body) {
    const options = body === undefined ? {} : {
      method: 'POST', body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json',
                 'X-CSRFToken': this.root.querySelector('input[name=csrf_token]').value },
    };
    const response = await fetch(path, { credentials: 'same-origin', ...options });
    const data = await response.json();
    if (!response.ok) throw Object.assign(new Error(data.error ? data.error.message : 'error'), { data });
    return data;
  }

  // One pass: do whatever step of the ceremony is this trustee's now; answer whether to look again later.
  async step() {
    const state = await this.request(this.base);
    if (state.state === 'failed') { this.say('failed'); return false; }
    if (state.me === null) { this.say('dropped'); return false; }
    const me = state.trustees.find((t) => t.index === state.me);
    let kept = this.load();
    if (kept.term !== state.term || kept.round !== state.round) {
      kept = kept.secret && kept.term === state.term && state.state === 'ready' ? kept : { term: state.term };
    }
    this.showKeyTools(state, kept);
    if (state.state === 'dealing' && !me.dealt) {
      this.say('working');
      const transport = secp256k1.utils.randomSecretKey();
      const dealing = sealed.deal(state.term, me.index, state.threshold);
      kept = { term: state.term, round: state.round, transport: hex(transport),
               coefficients: dealing.coefficients.map((c) => sealed.scalarHex(c)) };
      this.save(kept);
      await this.request(this.base + '/dealing', {
        round: state.round, transport_key: hex(secp256k1.getPublicKey(transport, true)),
        commitments: dealing.public.commitments, proofs: dealing.public.proofs });
      this.say('dealt');
      return true;
    }
    if (state.state === 'dealing') { this.say('dealt'); return true; }
    if ((state.state === 'sharing' || state.state === 'checking') && !kept.secret && (!kept.coefficients
        || hex(secp256k1.getPublicKey(unhex(kept.transport), true)) !== me.transport_key)) {
      this.say('lost');
      return state.state !== 'ready';
    }
    const dealing = kept.coefficients ? { coefficients: kept.coefficients.map((c) => BigInt('0x' + c)) } : null;
    if (state.state === 'sharing' && !me.shared) {
      this.say('working');
      const shares = [];
      for (const other of state.trustees.filter((t) => t.index !== me.index)) {
        shares.push({ recipient: other.index, ciphertext: await encryptShare(
          kept.transport, other.transport_key, associatedData(state.term, state.round, me.index, other.index),
          sealed.shareFor(dealing, other.index)) });
      }
      await this.request(this.base + '/shares', { round: state.round, shares });
      this.say('shared');
      return true;
    }
    if (state.state === 'sharing') { this.say('shared'); return true; }
    if (state.state === 'checking' && !me.confirmed) {
      this.say('working');
      const received = [sealed.shareFor(dealing, me.index)];
      const commitments = {};
      for (const t of state.trustees) commitments[t.index] = t.commitments;
      for (const share of state.shares) {
        const dealer = state.trustees.find((t) => t.index === share.dealer);
        // A complaint of ours against this dealer rejected in this round: the share it published is good.
        const decided = state.complaints.find((c) => c.by === me.index && c.against === dealer.index
                                                     && c.verdict === 'rejected');
        let value = decided ? decided.share : null;
        if (!decided) {
          try {
            value = await decryptShare(kept.transport, dealer.transport_key,
              associatedData(state.term, state.round, dealer.index, me.index), share.ciphertext);
          } catch (e) { value = null; }
        }
        let valid = false;
        try { valid = value !== null && sealed.shareIsValid(dealer.commitments, me.index, value); } catch (e) { valid = false; }
        if (!valid) {
          this.say('complained');
          const evidence = sealed.complaintEvidence(state.term, state.round, dealer.index, me.index, kept.transport,
            dealer.transport_key);
          const after = await this.request(this.base + '/complaint',
            { round: state.round, dealer: dealer.index, evidence });
          const mine = after.complaints.find((c) => c.by === me.index && c.against === dealer.index);
          this.note(mine && mine.verdict === 'rejected' ? 'rejected' : 'upheld');
          return true;
        }
        received.push(value);
      }
      const publicKey = sealed.jointKey(commitments);
      kept = { term: state.term, round: state.round, index: me.index, secret: sealed.trusteeSecret(received),
               public_key: publicKey, verification_key: sealed.verificationKey(commitments, me.index) };
      this.save(kept);  // the coefficients and the transport key are no longer needed
      await this.request(this.base + '/confirm', { round: state.round, public_key: publicKey });
      this.say('confirmed');
      this.showKeyTools(state, kept);
      return true;
    }
    if (state.state === 'checking') { this.say('confirmed'); return true; }
    if (state.state === 'ready') {
      this.say(kept.secret && kept.public_key === state.public_key ? 'ready' : 'missing');
      this.showKeyTools(state, kept);
      document.getElementById('term-state')?.classList.add('ok');
      return false;
    }
    return true;
  }

  showKeyTools(state, kept) {
    const has = Boolean(kept.secret && kept.public_key === state.public_key && state.state === 'ready');
    this.root.querySelector('#backup').hidden = !has;
    this.root.querySelector('#restore').hidden = has || state.state !== 'ready';
    this.state = state;
  }

  backup() {
    const kept = this.load();
    const file = { format: BACKUP_FORMAT, term: kept.term, index: kept.index, secret: kept.secret,
                   public_key: kept.public_key, verification_key: kept.verification_key };
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([JSON.stringify(file, null, 2)], { type: 'application/json' }));
    link.download = `salon-trustee-${kept.term}-${kept.index}.json`;
    document.body.append(link);
    link.click();
    link.remove();
  }

  async restore(file) {
    try {
      const data = JSON.parse(await file.text());
      const state = this.state;
      const mine = state.trustees.find((t) => t.index === state.me);
      const commitments = {};
      for (const t of state.trustees) commitments[t.index] = t.commitments;
      if (data.format !== BACKUP_FORMAT || data.term !== state.term || data.index !== mine.index
          || data.public_key !== state.public_key
          || sealed.verificationKey(commitments, mine.index) !== data.verification_key
          || !sealed.shareIsValid([data.verification_key], 0, data.secret)) {
        this.say('badBackup');
        return;
      }
      this.save({ term: data.term, round: state.round, index: data.index, secret: data.secret,
                  public_key: data.public_key, verification_key: data.verification_key });
      this.say('restored');
      this.showKeyTools(state, this.load());
    } catch (e) {
      this.say('badBackup');
    }
  }

  async decrypt(button) {
    const kept = this.load();
    if (!kept.secret) { this.say('missing'); return; }
    button.disabled = true;
    try {
      const { trustee, request } = await this.request(button.dataset.decrypt);
      const decryption = sealed.trusteeFactors(request.poll, request.public_key, request.questions,
        request.tally, trustee, kept.secret, undefined, request.undecrypted);
      await this.request(button.dataset.decrypt, { decryption });
      const done = document.createElement('span');
      done.className = 'badge ok';
      done.textContent = this.root.dataset.msgDecrypted;
      button.replaceWith(done);
    } catch (e) {
      button.disabled = false;
      this.say('error');
    }
  }

  async run() {
    for (;;) {
      let again = false;
      try { again = await this.step(); } catch (e) { this.say('error'); again = true; }
      if (!again) return;
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
  }
}

const root = typeof document === 'undefined' ? null : document.querySelector('[data-trustee-device]');
if (root) {
  const device = new Device(root);
  root.querySelector('#backup-download').addEventListener('click', () => device.backup());
  root.querySelector('#restore-file').addEventListener('change', (event) => {
    if (event.target.files[0]) device.restore(event.target.files[0]);
  });
  document.addEventListener('click', (event) => {
    const button = event.target.closest && event.target.closest('button[data-decrypt]');
    if (button) device.decrypt(button);
  });
  device.run();
}
