"""How a dealt share travels between two trustees' devices, and how a complaint about it is decided by evidence
(SPEC §5.1; docs/sealed-ballots.md, "Election key" and "Complaints").

A share travels encrypted: ECDH on secp256k1 between the dealer's and the recipient's transport keys (the x
coordinate of t·T), HKDF-SHA-256 (salt `salon-trustee-share-1`, info the associated data) to an AES-256-GCM key,
associated data `"<term>:<round>:<dealer>:<recipient>"`; sent as hex of IV (12 bytes) ‖ ciphertext ‖ tag. The
browser does this with WebCrypto (salon/static/trustees.js); the server only opens a share when its recipient
complains and discloses the ECDH point with a proof that it is the right one (`prove_shared_point`). AES and GCM
are written out here (FIPS 197, SP 800-38D) because the server has no other AES: they run on a few blocks per
complaint, never on a secret of the server's, and are checked against the standards' vectors and WebCrypto."""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from .group import N, EncodingError, Point, base_mul, hash_to_scalar, mul_add_base, point_sum
from .proofs import Branch
from .threshold import share_is_valid

SALT = b"salon-trustee-share-1"
IV_BYTES, SHARE_BYTES, TAG_BYTES = 12, 32, 16


def associated_data(term: str, round_: int, dealer: int, recipient: int) -> str:
    return f"{term}:{round_}:{dealer}:{recipient}"


# --- HKDF-SHA-256 (RFC 5869) --------------------------------------------------------------------------------------

def hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


# --- AES-256 (FIPS 197), encryption only: GCM needs no other direction ------------------------------------------

def _xtime(a: int) -> int:
    a <<= 1
    return (a ^ 0x11B) if a & 0x100 else a


def _make_sbox() -> list[int]:
    """Each byte's inverse in GF(2⁸) (0 for 0), then the affine map: walks the field by powers of 3."""
    sbox = [0] * 256
    sbox[0] = 0x63
    p = q = 1
    while True:
        p ^= _xtime(p) if p & 0x80 else (p << 1)  # p · 3
        p &= 0xFF
        q ^= q << 1  # q / 3
        q ^= q << 2
        q ^= q << 4
        q &= 0xFF
        if q & 0x80:
            q ^= 0x09
        x = q
        for shift in (1, 2, 3, 4):
            x ^= ((q << shift) | (q >> (8 - shift))) & 0xFF
        sbox[p] = x ^ 0x63
        if p == 1:
            return sbox


SBOX = _make_sbox()


def _round_keys(key: bytes) -> list[list[int]]:
    if len(key) != 32:
        raise ValueError("an AES-256 key is 32 bytes")
    words = [list(key[i:i + 4]) for i in range(0, 32, 4)]
    rcon = 1
    for i in range(8, 60):
        t = list(words[i - 1])
        if i % 8 == 0:
            t = [SBOX[b] for b in t[1:] + t[:1]]
            t[0] ^= rcon
            rcon = _xtime(rcon)
        elif i % 8 == 4:
            t = [SBOX[b] for b in t]
        words.append([a ^ b for a, b in zip(words[i - 8], t)])
    return [sum(words[4 * r:4 * r + 4], []) for r in range(15)]


def _encrypt_block(keys: list[list[int]], block: bytes) -> bytes:
    s = [b ^ k for b, k in zip(block, keys[0])]
    for r in range(1, 15):
        s = [SBOX[b] for b in s]
        s = [s[(i % 4) + 4 * ((i // 4 + i % 4) % 4)] for i in range(16)]  # ShiftRows (column-major state)
        if r < 14:
            mixed = []
            for c in range(0, 16, 4):
                a0, a1, a2, a3 = s[c:c + 4]
                x0, x1, x2, x3 = _xtime(a0), _xtime(a1), _xtime(a2), _xtime(a3)
                mixed += [x0 ^ x1 ^ a1 ^ a2 ^ a3, a0 ^ x1 ^ x2 ^ a2 ^ a3, a0 ^ a1 ^ x2 ^ x3 ^ a3,
                          x0 ^ a0 ^ a1 ^ a2 ^ x3]
            s = mixed
        s = [b ^ k for b, k in zip(s, keys[r])]
    return bytes(s)


def aes256_encrypt_block(key: bytes, block: bytes) -> bytes:
    return _encrypt_block(_round_keys(key), block)


# --- GCM (NIST SP 800-38D), 96-bit IVs ------------------------------------------------------------------------------

_R = 0xE1 << 120


def _gf_mul(x: int, y: int) -> int:
    z, v = 0, y
    for i in range(127, -1, -1):
        if (x >> i) & 1:
            z ^= v
        v = (v >> 1) ^ _R if v & 1 else v >> 1
    return z


def _ghash(h: int, aad: bytes, ciphertext: bytes) -> int:
    x = 0
    for data in (aad, ciphertext):
        for i in range(0, len(data), 16):
            x = _gf_mul(x ^ int.from_bytes(data[i:i + 16].ljust(16, b"\0"), "big"), h)
    lengths = (8 * len(aad)).to_bytes(8, "big") + (8 * len(ciphertext)).to_bytes(8, "big")
    return _gf_mul(x ^ int.from_bytes(lengths, "big"), h)


def _ctr(keys, iv: bytes, data: bytes) -> bytes:
    out = bytearray()
    for i in range(0, len(data), 16):
        stream = _encrypt_block(keys, iv + (i // 16 + 2).to_bytes(4, "big"))
        out += bytes(a ^ b for a, b in zip(data[i:i + 16], stream))
    return bytes(out)


def _tag(keys, iv: bytes, aad: bytes, ciphertext: bytes) -> bytes:
    h = int.from_bytes(_encrypt_block(keys, bytes(16)), "big")
    mask = int.from_bytes(_encrypt_block(keys, iv + (1).to_bytes(4, "big")), "big")
    return (_ghash(h, aad, ciphertext) ^ mask).to_bytes(16, "big")


def gcm_encrypt(key: bytes, iv: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Ciphertext ‖ tag, as WebCrypto's AES-GCM answers."""
    if len(iv) != IV_BYTES:
        raise ValueError("a 96-bit IV")
    keys = _round_keys(key)
    ciphertext = _ctr(keys, iv, plaintext)
    return ciphertext + _tag(keys, iv, aad, ciphertext)


def gcm_decrypt(key: bytes, iv: bytes, sealed: bytes, aad: bytes) -> bytes | None:
    """The plaintext, or None when the tag does not match (altered, or another key, IV or associated data)."""
    if len(iv) != IV_BYTES or len(sealed) < TAG_BYTES:
        return None
    keys = _round_keys(key)
    ciphertext, tag = sealed[:-TAG_BYTES], sealed[-TAG_BYTES:]
    if not hmac.compare_digest(_tag(keys, iv, aad, ciphertext), tag):
        return None
    return _ctr(keys, iv, ciphertext)


# --- a share's transport ----------------------------------------------------------------------------------------

def shared_point(secret: int, other_key: Point) -> Point:
    """ECDH: own transport secret times the other device's transport key (the same point from either side)."""
    return other_key.mul(secret)


def share_key(shared: Point, aad: str) -> bytes:
    return hkdf_sha256(shared.to_bytes()[1:], SALT, aad.encode())


def encrypt_share(shared: Point, aad: str, share: int, iv: bytes) -> str:
    """What a dealer's device posts for one recipient (the server's tests and the demo do it as the page does)."""
    return (iv + gcm_encrypt(share_key(shared, aad), iv, share.to_bytes(SHARE_BYTES, "big"), aad.encode())).hex()


def open_share(shared: Point, aad: str, ciphertext_hex: str) -> int | None:
    """The 32 bytes in a posted ciphertext read as a number, or None if it does not open (or holds another
    length). Whether it is a scalar (below n) is Feldman's check's to say."""
    try:
        data = bytes.fromhex(ciphertext_hex)
    except (ValueError, TypeError):
        return None
    plain = gcm_decrypt(share_key(shared, aad), data[:IV_BYTES], data[IV_BYTES:], aad.encode())
    if plain is None or len(plain) != SHARE_BYTES:
        return None
    return int.from_bytes(plain, "big")


# --- the complaint's evidence ---------------------------------------------------------------------------------------

def _shared_items(term: str, round_: int, dealer: int, recipient: int, recipient_key: Point, dealer_key: Point,
                  shared: Point) -> tuple:
    return (term, round_, dealer, recipient, recipient_key, dealer_key, shared)


def prove_shared_point(term: str, round_: int, dealer: int, recipient: int, secret: int, dealer_key: Point,
                       rng) -> tuple[Point, Branch]:
    """The recipient discloses S = t·T_dealer with a Chaum–Pedersen proof that log_G T_recipient = log_T_dealer S
    (tag `complaint`): S opens exactly the share the dealer sent it, and nothing else the recipient holds."""
    recipient_key, shared = base_mul(secret), shared_point(secret, dealer_key)
    w = rng.scalar()
    c = hash_to_scalar("complaint", *_shared_items(term, round_, dealer, recipient, recipient_key, dealer_key,
                                                   shared), base_mul(w), dealer_key.mul(w))
    return shared, Branch(c, (w + c * secret) % N)


def verify_shared_point(term: str, round_: int, dealer: int, recipient: int, recipient_key: Point,
                        dealer_key: Point, shared: Point, proof: Branch) -> bool:
    minus_c = (N - proof.c) % N
    a = mul_add_base(minus_c, recipient_key, proof.s)
    b = point_sum((dealer_key.mul(proof.s), shared.mul(minus_c)))
    return hash_to_scalar("complaint", *_shared_items(term, round_, dealer, recipient, recipient_key, dealer_key,
                                                      shared), a, b) == proof.c


UPHELD, REJECTED = "upheld", "rejected"
DOES_NOT_OPEN, FAILS_CHECK, CHECKS = "does-not-open", "fails-check", "checks"


class BadEvidence(ValueError):
    """The complaint's disclosed point or its proof does not hold: nothing is decided."""


@dataclass(frozen=True)
class Verdict:
    outcome: str  # UPHELD (the dealer's share is bad) or REJECTED (it is good)
    reason: str  # DOES_NOT_OPEN, FAILS_CHECK (Feldman's) or CHECKS
    share: int | None  # the share as opened (public from now on), None if it did not open


def judge_complaint(term: str, round_: int, dealer: int, recipient: int, commitments: list[Point],
                    dealer_key: Point, recipient_key: Point, ciphertext_hex: str, shared_hex, proof_json) -> Verdict:
    """Anyone's decision on recipient's complaint against dealer, from public data and the evidence alone: open
    the ciphertext with the proven ECDH point and check the share against the dealer's commitments (Feldman:
    f(recipient)·G = Σⱼ recipientʲ·Cⱼ). Raises BadEvidence if the point or its proof does not hold."""
    try:
        shared = Point.from_hex(shared_hex)
        proof = Branch.from_json(proof_json)
    except (EncodingError, ValueError, TypeError):
        raise BadEvidence("the disclosed point or its proof is not well formed") from None
    if not verify_shared_point(term, round_, dealer, recipient, recipient_key, dealer_key, shared, proof):
        raise BadEvidence("the proof of the disclosed point does not verify")
    share = open_share(shared, associated_data(term, round_, dealer, recipient), ciphertext_hex)
    if share is None:
        return Verdict(UPHELD, DOES_NOT_OPEN, None)
    if not share_is_valid(commitments, recipient, share):
        return Verdict(UPHELD, FAILS_CHECK, share)
    return Verdict(REJECTED, CHECKS, share)
