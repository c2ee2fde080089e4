"""Threshold keys, k of n, without a dealer (SPEC §5.1; docs/sealed-ballots.md, "Election key").

Each trustee deals a Feldman VSS of a random secret on their own device; the joint key is the sum of the
dealt secrets' commitments, so no one ever holds the joint secret. Any k trustees decrypt a tally ciphertext
with Lagrange coefficients; fewer than k learn nothing.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .elgamal import Ciphertext
from .group import N, Point, base_mul, point_sum
from .proofs import Branch, prove_decryption, prove_knowledge, verify_decryption, verify_knowledge


class NotEnoughTrustees(ValueError):
    """Fewer than k distinct trustees' decryption factors: the tally cannot be decrypted."""


@dataclass(frozen=True)
class Dealing:
    """What trustee `index` deals: the secret polynomial (kept on their device) and its public commitments."""
    term: str
    index: int
    coefficients: tuple[int, ...]
    commitments: tuple[Point, ...]
    proofs: tuple[Branch, ...]

    def share_for(self, recipient: int) -> int:
        """f(recipient): sent privately to that trustee."""
        return evaluate(self.coefficients, recipient)

    def public(self) -> dict:
        return {"index": self.index, "commitments": [c.hex() for c in self.commitments],
                "proofs": [p.to_json() for p in self.proofs]}


def check_parameters(threshold: int, trustees: int) -> None:
    if not 2 <= threshold <= trustees:
        raise ValueError("need 2 ≤ k ≤ n (SPEC §5.1: no single trustee decrypts)")


def deal(term: str, index: int, threshold: int, rng) -> Dealing:
    coefficients = tuple(rng.scalar() for _ in range(threshold))
    commitments = tuple(base_mul(a) for a in coefficients)
    proofs = tuple(prove_knowledge(term, index, j, a, c, rng)
                   for j, (a, c) in enumerate(zip(coefficients, commitments)))
    return Dealing(term, index, coefficients, commitments, proofs)


def evaluate(coefficients: Sequence[int], at: int) -> int:
    value = 0
    for a in reversed(coefficients):
        value = (value * at + a) % N
    return value


def committed_value(commitments: Sequence[Point], at: int) -> Point:
    """Σⱼ atʲ·Cⱼ = f(at)·G, computed from the public commitments alone."""
    return point_sum(c.mul(pow(at, j, N)) for j, c in enumerate(commitments))


def share_is_valid(commitments: Sequence[Point], recipient: int, share: int) -> bool:
    """Feldman's check, done by the recipient before accepting a dealt share."""
    return 0 <= share < N and base_mul(share) == committed_value(commitments, recipient)


def coefficients_are_proven(term: str, index: int, commitments: Sequence[Point], proofs: Sequence[Branch]) -> bool:
    return len(proofs) == len(commitments) and all(
        verify_knowledge(term, index, j, c, p) for j, (c, p) in enumerate(zip(commitments, proofs)))


def joint_key(all_commitments: Mapping[int, Sequence[Point]]) -> Point:
    return point_sum(commitments[0] for commitments in all_commitments.values())


def verification_key(all_commitments: Mapping[int, Sequence[Point]], trustee: int) -> Point:
    """Xₗ = xₗ·G, from every dealer's commitments."""
    return point_sum(committed_value(commitments, trustee) for commitments in all_commitments.values())


def trustee_secret(received_shares: Mapping[int, int]) -> int:
    """xₗ: the sum of the shares trustee l received from every dealer (its own included)."""
    return sum(received_shares.values()) % N


def lagrange_at_zero(trustee: int, group: Sequence[int]) -> int:
    numerator, denominator = 1, 1
    for other in group:
        if other != trustee:
            numerator = numerator * other % N
            denominator = denominator * (other - trustee) % N
    return numerator * pow(denominator, -1, N) % N


@dataclass(frozen=True)
class Factor:
    trustee: int
    factor: Point
    proof: Branch

    def to_json(self) -> dict:
        return {"factor": self.factor.hex(), "proof": self.proof.to_json()}


def decryption_factor(poll: str, public_key: Point, question: str, option: int, trustee: int, secret: int,
                      ciphertext: Ciphertext, rng) -> Factor:
    """Trustee l's factor xₗ·A of a tally ciphertext, with its proof against Xₗ = xₗ·G."""
    factor = ciphertext.alpha.mul(secret)
    proof = prove_decryption(poll, public_key, question, option, trustee, secret, base_mul(secret), ciphertext,
                             factor, rng)
    return Factor(trustee, factor, proof)


def factor_is_valid(poll: str, public_key: Point, question: str, option: int, verification_key_: Point,
                    ciphertext: Ciphertext, factor: Factor) -> bool:
    return verify_decryption(poll, public_key, question, option, factor.trustee, verification_key_, ciphertext,
                             factor.factor, factor.proof)


def combine(factors: Mapping[int, Point], threshold: int) -> Point:
    """x·A from the factors of at least k distinct trustees (any k of them give the same point)."""
    if len(factors) < threshold:
        raise NotEnoughTrustees(f"{len(factors)} of the {threshold} trustees needed have decrypted")
    group = sorted(factors)
    return point_sum(factors[t].mul(lagrange_at_zero(t, group)) for t in group)
