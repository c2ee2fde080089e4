"""The group: secp256k1 points and scalars, their encodings, and the hash to a scalar.

Points wrap libsecp256k1 (coincurve). coincurve cannot hold the point at infinity, so the identity is a Point
without a key: sums that reach it, multiplications by 0 and the `00` encoding all produce it explicitly, and
equality compares encodings, never divides (docs/sealed-ballots.md, "Encodings").
"""
from __future__ import annotations

import hashlib
import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterable

from coincurve import PublicKey
from coincurve._libsecp256k1 import ffi, lib  # libsecp256k1 itself, for the hot paths below
from coincurve.context import GLOBAL_CONTEXT

VERSION = "salon-sealed-1"  # the domain of the key's and decryption's proofs (and of version 1 ballots)
PROTOCOLS = {1: "salon-sealed-1", 2: "salon-sealed-2"}  # protocol version → its name, the ballots' hash domain
LATEST = 2  # the version new polls open with (docs/sealed-ballots.md, "Versions")
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141  # the order of secp256k1
IDENTITY_BYTES = b"\x00"
_CTX = GLOBAL_CONTEXT.ctx


class EncodingError(ValueError):
    """A point or scalar that is not a valid encoding (or is the identity where that is forbidden)."""


class Point:
    """An element of the group; `Point(None)` is the identity."""

    __slots__ = ("_key", "_bytes")

    def __init__(self, key: PublicKey | None):
        self._key = key
        self._bytes = None

    @classmethod
    def from_bytes(cls, data: bytes, *, allow_identity: bool = False) -> Point:
        if data == IDENTITY_BYTES:
            if not allow_identity:
                raise EncodingError("the identity is not allowed here")
            return IDENTITY
        if len(data) != 33 or data[0] not in (2, 3):
            raise EncodingError("not a compressed point (33 bytes starting 02 or 03)")
        try:
            point = cls(PublicKey(bytes(data)))
        except ValueError:
            raise EncodingError("not a point of secp256k1") from None
        point._bytes = bytes(data)
        return point

    @classmethod
    def from_hex(cls, text: str, *, allow_identity: bool = False) -> Point:
        if not isinstance(text, str) or text != text.lower():
            raise EncodingError("a point is lowercase hex")
        try:
            data = bytes.fromhex(text)
        except ValueError:
            raise EncodingError("a point is lowercase hex") from None
        return cls.from_bytes(data, allow_identity=allow_identity)

    @property
    def is_identity(self) -> bool:
        return self._key is None

    def to_bytes(self) -> bytes:
        if self._bytes is None:
            self._bytes = IDENTITY_BYTES if self._key is None else self._key.format(compressed=True)
        return self._bytes

    def hex(self) -> str:
        return self.to_bytes().hex()

    def __add__(self, other: Point) -> Point:
        return point_sum((self, other))

    def __neg__(self) -> Point:
        if self._key is None:
            return IDENTITY
        encoded = self.to_bytes()  # −(x, y) = (x, −y): the other parity prefix, 02 ↔ 03
        return Point.from_bytes(bytes([encoded[0] ^ 1]) + encoded[1:])

    def __sub__(self, other: Point) -> Point:
        return point_sum((self, -other))

    def mul(self, k: int) -> Point:
        k %= N
        if k == 0 or self._key is None:
            return IDENTITY
        return Point(self._key.multiply(k.to_bytes(32, "big")))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Point) and self.to_bytes() == other.to_bytes()

    def __hash__(self) -> int:
        return hash(self.to_bytes())

    def __repr__(self) -> str:
        return f"Point({self.hex()})"


IDENTITY = Point(None)


def base_mul(k: int) -> Point:
    """k·G (the generator's precomputed table makes this cheaper than Point.mul)."""
    k %= N
    if k == 0:
        return IDENTITY
    return Point(PublicKey.from_secret(k.to_bytes(32, "big")))


G = base_mul(1)


def point_sum(points: Iterable[Point]) -> Point:
    keys = [p._key for p in points if p._key is not None]
    if not keys:
        return IDENTITY
    if len(keys) == 1:
        return Point(keys[0])
    try:
        return Point(PublicKey.combine_keys(keys))
    except ValueError:  # libsecp256k1 refuses a sum at infinity: that sum is the identity
        return IDENTITY


def mul_add_base(a: int, p: Point, b: int) -> Point:
    """a·P + b·G in one double multiplication.

    libsecp256k1 exposes that (Strauss–Shamir) only through ECDSA public-key recovery, which returns
    r⁻¹·(s·R − e·G) for the point R whose x-coordinate is r: with R = P, s = a·r and e = −b·r it is a·P + b·G.
    About 1.5 times faster than two multiplications and an addition (bench/README.md). Called on
    libsecp256k1 directly (coincurve's wrapper parses and checks in Python). Degenerate inputs take the plain
    path, which handles the identity.
    """
    a %= N
    b %= N
    if a == 0 or p.is_identity:
        return base_mul(b)
    if b == 0:
        return p.mul(a)
    encoded = p.to_bytes()
    x = int.from_bytes(encoded[1:], "big")
    r = x % N
    if r == 0:
        return point_sum((p.mul(a), base_mul(b)))
    recovery_id = (encoded[0] & 1) | (2 if x >= N else 0)
    signature = ffi.new("secp256k1_ecdsa_recoverable_signature *")
    out = ffi.new("secp256k1_pubkey *")
    if (lib.secp256k1_ecdsa_recoverable_signature_parse_compact(
            _CTX, signature, r.to_bytes(32, "big") + (a * r % N).to_bytes(32, "big"), recovery_id)
            and lib.secp256k1_ecdsa_recover(_CTX, out, signature, ((N - b) * r % N).to_bytes(32, "big"))):
        return Point(PublicKey(out))
    return point_sum((p.mul(a), base_mul(b)))  # the result is the identity, which recovery cannot return


class FixedBase:
    """A table of one point's multiples for a key multiplied thousands of times (the poll's key h: s·h in every
    proof): for each byte position i of the scalar, j·256ⁱ·P for j = 1 … 255 (32 × 255 points, 0.5 MB, built
    in about 25 ms). Then k·P + Σ extra is one libsecp256k1 call adding at most 32 table points and the extra
    points (secp256k1_ec_pubkey_combine), about a third of a variable-base multiplication. Public scalars
    only (the verifier's; the server's own sealing of a plain ballot too, whose nonces are as secret as
    the choice it already saw): the table lookup depends on the scalar's bytes."""

    def __init__(self, point: Point):
        self._table = ffi.new("secp256k1_pubkey[8160]")
        self._rows: list[list] = []
        base = ffi.new("secp256k1_pubkey *")
        ffi.memmove(base, point._key.public_key, 64)
        for w in range(32):
            row: list = [None]
            for j in range(255):
                cell = self._table + (w * 255 + j)
                if j == 0:
                    ffi.memmove(cell, base, 64)
                elif not lib.secp256k1_ec_pubkey_combine(_CTX, cell, [row[-1], base], 2):
                    raise ValueError("a multiple of a point of prime order is never the identity")
                row.append(cell)
            self._rows.append(row)
            following = ffi.new("secp256k1_pubkey *")
            lib.secp256k1_ec_pubkey_combine(_CTX, following, [row[-1], base], 2)  # 256 times this row's base
            base = following

    def mul_add(self, k: int, *extra: Point) -> Point:
        """k·P + Σ extra (the identity among them allowed)."""
        cells = [row[d] for row, d in zip(self._rows, (k % N).to_bytes(32, "little")) if d]
        cells += [p._key.public_key for p in extra if p._key is not None]
        if not cells:
            return IDENTITY
        out = ffi.new("secp256k1_pubkey *")
        if not lib.secp256k1_ec_pubkey_combine(_CTX, out, cells, len(cells)):
            return IDENTITY  # the sum is the identity
        return Point(PublicKey(out))


FIXED_BASE_AFTER = 1000  # a key's table is built once it has been multiplied this often (~16 ballots verified)
_fixed: OrderedDict[bytes, FixedBase] = OrderedDict()
_uses: dict[bytes, int] = {}
_fixed_lock = threading.Lock()


def key_mul_add(key: Point, k: int, *extra: Point) -> Point:
    """k·key + Σ extra for a key multiplied again and again (the poll's public key): through the key's
    FixedBase table once it has been used FIXED_BASE_AFTER times (the last 8 keys' tables are kept), before
    that a plain multiplication. Same point either way."""
    if key._key is None:
        return point_sum(extra)
    encoded = key.to_bytes()
    table = _fixed.get(encoded)
    if table is None:
        uses = _uses.get(encoded, 0) + 1
        if len(_uses) > 4096:
            _uses.clear()
        _uses[encoded] = uses
        if uses < FIXED_BASE_AFTER:
            return point_sum((key.mul(k), *extra))
        with _fixed_lock:
            table = _fixed.get(encoded)
            if table is None:
                table = FixedBase(key)
                _fixed[encoded] = table
                while len(_fixed) > 8:
                    _fixed.popitem(last=False)
    return table.mul_add(k, *extra)


def scalar_from_hex(text: str) -> int:
    if not isinstance(text, str) or len(text) != 64 or text != text.lower():
        raise EncodingError("a scalar is 64 lowercase hex characters")
    try:
        value = int(text, 16)
    except ValueError:
        raise EncodingError("a scalar is 64 lowercase hex characters") from None
    if value >= N:
        raise EncodingError("a scalar is below the group order")
    return value


def scalar_hex(k: int) -> str:
    return (k % N).to_bytes(32, "big").hex()


def _item_bytes(item) -> bytes:
    if isinstance(item, Point):
        return item.to_bytes()
    if isinstance(item, str):
        return item.encode("utf-8")
    if isinstance(item, bool):
        raise TypeError("no booleans in a transcript")
    if isinstance(item, int):
        return item.to_bytes(8, "big")
    if isinstance(item, bytes):
        return item
    raise TypeError(f"cannot hash {type(item).__name__}")


def domain_tag(protocol: int, tag: str) -> str:
    """The tag of a ballot proof in a protocol version's hash domain: "salon-sealed-2/sum"."""
    return f"{PROTOCOLS[protocol]}/{tag}"


def hash_to_scalar(tag: str, *items) -> int:
    """H(tag, items…): SHA-256 of the domain tag and each item length-prefixed, read big-endian, mod N. A tag
    holding a "/" is the whole domain tag ("salon-sealed-2/bit", see domain_tag); otherwise it is VERSION's."""
    digest = hashlib.sha256()
    digest.update((tag if "/" in tag else f"{VERSION}/{tag}").encode("ascii"))
    for item in items:
        data = _item_bytes(item)
        digest.update(len(data).to_bytes(4, "big"))
        digest.update(data)
    return int.from_bytes(digest.digest(), "big") % N


class RandomNonces:
    """Nonces for real ballots and shares: uniform in 1 … N-1 from the operating system."""

    def scalar(self) -> int:
        return secrets.randbelow(N - 1) + 1


class SeededNonces:
    """Deterministic nonces for known-answer tests only: SHA-256(tag ‖ seed ‖ counter) mod N, skipping 0.
    sealed.js implements the same sequence so both sides reproduce the same vectors."""

    def __init__(self, seed: str):
        self._seed = seed.encode("utf-8")
        self._counter = 0

    def scalar(self) -> int:
        while True:
            self._counter += 1
            block = f"{VERSION}/test-nonce".encode("ascii") + self._seed + self._counter.to_bytes(8, "big")
            value = int.from_bytes(hashlib.sha256(block).digest(), "big") % N
            if value:
                return value
