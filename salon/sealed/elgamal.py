"""Exponential ElGamal: Enc(m; r) = (r·G, m·G + r·h). Ciphertexts add, so the tally is the sum of the ballots."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .group import IDENTITY, G, Point, base_mul, key_mul_add, point_sum


@dataclass(frozen=True)
class Ciphertext:
    alpha: Point
    beta: Point

    def __add__(self, other: Ciphertext) -> Ciphertext:
        return Ciphertext(self.alpha + other.alpha, self.beta + other.beta)

    def to_json(self) -> dict:
        return {"alpha": self.alpha.hex(), "beta": self.beta.hex()}

    @classmethod
    def from_json(cls, data, *, allow_identity: bool = False) -> Ciphertext:
        if not isinstance(data, dict):
            raise ValueError("a ciphertext is an object")
        return cls(Point.from_hex(data.get("alpha"), allow_identity=allow_identity),
                   Point.from_hex(data.get("beta"), allow_identity=allow_identity))


ZERO = Ciphertext(IDENTITY, IDENTITY)


def encrypt(public_key: Point, m: int, r: int) -> Ciphertext:
    return Ciphertext(base_mul(r), key_mul_add(public_key, r, base_mul(m)))


def add_all(ciphertexts: Iterable[Ciphertext]) -> Ciphertext:
    alphas, betas = [], []
    for ciphertext in ciphertexts:
        alphas.append(ciphertext.alpha)
        betas.append(ciphertext.beta)
    return Ciphertext(point_sum(alphas), point_sum(betas))


class SmallLogs:
    """m·G for m = 0 … bound, to read counts out of decrypted tallies: a count is at most the number of ballots.

    beta − factor = m·G; m = 0 is the identity, which is found as such (beta == factor), never converted."""

    def __init__(self, bound: int):
        self.bound = bound
        self._logs: dict[bytes, int] = {}
        point = IDENTITY
        for m in range(bound + 1):
            self._logs[point.to_bytes()] = m
            point = point + G

    def log(self, beta: Point, factor: Point) -> int | None:
        """The m in 0 … bound with beta = factor + m·G, or None."""
        return self._logs.get((beta - factor).to_bytes())


def discrete_log(beta: Point, factor: Point, bound: int) -> int | None:
    return SmallLogs(bound).log(beta, factor)
