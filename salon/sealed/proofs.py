"""Zero-knowledge proofs, made non-interactive by a domain-separated Fiat–Shamir hash (docs/sealed-ballots.md).

- disjunctive Chaum–Pedersen (CDS): a ciphertext encrypts one of a list of values (bit proofs: 0 or 1; sum
  proofs: a total the question allows);
- Chaum–Pedersen equality of discrete logs: a trustee's decryption factor;
- Schnorr: knowledge of a key coefficient.
Every proof is a list of (c, s) pairs; the verifier recomputes the commitments and the challenge.
"""
from __future__ import annotations

from dataclasses import dataclass

from .elgamal import Ciphertext
from .group import (N, Point, base_mul, domain_tag, hash_to_scalar, key_mul_add, mul_add_base, point_sum,
                    scalar_from_hex, scalar_hex)


@dataclass(frozen=True)
class Branch:
    c: int
    s: int

    def to_json(self) -> dict:
        return {"c": scalar_hex(self.c), "s": scalar_hex(self.s)}

    @classmethod
    def from_json(cls, data) -> Branch:
        if not isinstance(data, dict):
            raise ValueError("a proof branch is an object with c and s")
        return cls(scalar_from_hex(data.get("c")), scalar_from_hex(data.get("s")))


def _commitments(public_key: Point, ciphertext: Ciphertext, value: int, c: int, s: int) -> tuple[Point, Point]:
    """A = s·G − c·α and B = s·h − c·(β − value·G): what an honest prover committed to in this branch.
    s·h through the key's table once the key is in steady use (group.key_mul_add)."""
    minus_c = (N - c) % N
    a = mul_add_base(minus_c, ciphertext.alpha, s)
    b = key_mul_add(public_key, s, mul_add_base(minus_c, ciphertext.beta, c * value))
    return a, b


def prove_one_of(context: tuple, public_key: Point, ciphertext: Ciphertext, values: list[int], value: int,
                 nonce: int, rng) -> list[Branch]:
    """Prove that `ciphertext` = Enc(value; nonce) with value among `values`, without saying which.
    `context` starts the hashed items: (tag, poll, …) — see bit_context and sum_context."""
    tag, *items = context
    true_index = values.index(value)
    simulated: dict[int, Branch] = {}
    commitments: list[Point] = []
    w = rng.scalar()
    for index, candidate in enumerate(values):
        if index == true_index:
            commitments += [base_mul(w), key_mul_add(public_key, w)]
        else:
            branch = Branch(rng.scalar(), rng.scalar())
            simulated[index] = branch
            commitments += list(_commitments(public_key, ciphertext, candidate, branch.c, branch.s))
    challenge = hash_to_scalar(tag, *items, ciphertext.alpha, ciphertext.beta, *commitments)
    c_true = (challenge - sum(b.c for b in simulated.values())) % N
    s_true = (w + c_true * nonce) % N
    return [simulated.get(index) or Branch(c_true, s_true) for index in range(len(values))]


def verify_one_of(context: tuple, public_key: Point, ciphertext: Ciphertext, values: list[int],
                  proof: list[Branch]) -> bool:
    if len(proof) != len(values):
        return False
    tag, *items = context
    commitments: list[Point] = []
    for candidate, branch in zip(values, proof):
        commitments += list(_commitments(public_key, ciphertext, candidate, branch.c, branch.s))
    challenge = hash_to_scalar(tag, *items, ciphertext.alpha, ciphertext.beta, *commitments)
    return sum(b.c for b in proof) % N == challenge


def bit_context(poll: str, public_key: Point, question: str, option: int, protocol: int = 1) -> tuple:
    """A ballot proof's hashed items start in its protocol version's domain (docs/sealed-ballots.md, "Versions")."""
    return (domain_tag(protocol, "bit"), poll, public_key, question, option)


def sum_context(poll: str, public_key: Point, question: str, least: int, most: int, protocol: int = 1) -> tuple:
    return (domain_tag(protocol, "sum"), poll, public_key, question, least, most)


def prove_decryption(poll: str, public_key: Point, question: str, option: int, trustee: int, secret: int,
                     verification_key: Point, ciphertext: Ciphertext, factor: Point, rng) -> Branch:
    """Chaum–Pedersen: log_G(verification_key) = log_alpha(factor), i.e. factor = secret·alpha."""
    w = rng.scalar()
    a, b = base_mul(w), ciphertext.alpha.mul(w)
    c = hash_to_scalar("decrypt", poll, public_key, question, option, trustee, verification_key,
                       ciphertext.alpha, ciphertext.beta, factor, a, b)
    return Branch(c, (w + c * secret) % N)


def verify_decryption(poll: str, public_key: Point, question: str, option: int, trustee: int,
                      verification_key: Point, ciphertext: Ciphertext, factor: Point, proof: Branch) -> bool:
    minus_c = (N - proof.c) % N
    a = mul_add_base(minus_c, verification_key, proof.s)
    b = point_sum((ciphertext.alpha.mul(proof.s), factor.mul(minus_c)))
    c = hash_to_scalar("decrypt", poll, public_key, question, option, trustee, verification_key,
                       ciphertext.alpha, ciphertext.beta, factor, a, b)
    return c == proof.c


def prove_knowledge(term: str, trustee: int, index: int, secret: int, commitment: Point, rng) -> Branch:
    """Schnorr: the dealer knows the coefficient behind `commitment` (no key chosen from others' keys)."""
    w = rng.scalar()
    c = hash_to_scalar("coefficient", term, trustee, index, commitment, base_mul(w))
    return Branch(c, (w + c * secret) % N)


def verify_knowledge(term: str, trustee: int, index: int, commitment: Point, proof: Branch) -> bool:
    a = mul_add_base((N - proof.c) % N, commitment, proof.s)
    return hash_to_scalar("coefficient", term, trustee, index, commitment, a) == proof.c
