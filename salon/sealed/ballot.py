"""A sealed ballot: one ciphertext per option with its bit proof, and one sum proof per question that the
question's rule is kept (SPEC §5.1; docs/sealed-ballots.md, "Objects"). Its fingerprint is the voter's receipt."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from .elgamal import Ciphertext, add_all, encrypt
from .group import EncodingError, Point, RandomNonces
from .proofs import Branch, bit_context, prove_one_of, sum_context, verify_one_of

MAX_OPTIONS = 200  # a topic poll's nominations or an election's candidates; bounds the verifier's work


@dataclass(frozen=True)
class Question:
    """`options` answers of 0 or 1 whose total lies in min … max (approval of K: 0 … K; single choice: 1 … 1)."""
    id: str
    options: int
    min: int
    max: int

    def __post_init__(self):
        if not (isinstance(self.id, str) and self.id):
            raise ValueError("a question needs an id")
        if not (1 <= self.options <= MAX_OPTIONS and 0 <= self.min <= self.max <= self.options):
            raise ValueError(f"question {self.id}: need 1 ≤ options ≤ {MAX_OPTIONS} and 0 ≤ min ≤ max ≤ options")

    @property
    def totals(self) -> list[int]:
        return list(range(self.min, self.max + 1))

    def to_json(self) -> dict:
        return {"id": self.id, "options": self.options, "min": self.min, "max": self.max}

    @classmethod
    def from_json(cls, data) -> Question:
        if not isinstance(data, dict) or not all(isinstance(data.get(f), int) and not isinstance(data.get(f), bool)
                                                 for f in ("options", "min", "max")):
            raise ValueError("a question is {id, options, min, max}")
        return cls(data.get("id"), data["options"], data["min"], data["max"])


class InvalidChoice(ValueError):
    """The plain choices do not keep the question's rule; nothing is sealed."""


def canonical_json(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("utf-8")


def fingerprint(ballot: dict) -> str:
    """The receipt: SHA-256 of the ballot's canonical JSON (its ciphertexts and proofs)."""
    return hashlib.sha256(canonical_json(ballot)).hexdigest()


def seal(poll: str, public_key: Point, questions: list[Question], choices: list[list[int]],
         rng=None) -> dict:
    """Encrypt each answer and prove the ballot well formed. `choices[q][o]` is 0 or 1. The server seals this
    way when a ballot arrives plain (SPEC §5.1); `rng` is for known-answer tests only."""
    rng = rng or RandomNonces()
    if len(choices) != len(questions):
        raise InvalidChoice("one list of answers per question")
    answers = []
    for question, answer in zip(questions, choices):
        if len(answer) != question.options or any(v not in (0, 1) or isinstance(v, bool) for v in answer):
            raise InvalidChoice(f"question {question.id}: {question.options} answers of 0 or 1")
        total = sum(answer)
        if not question.min <= total <= question.max:
            raise InvalidChoice(f"question {question.id}: between {question.min} and {question.max} answers")
        nonces, ciphertexts, sealed_choices = [], [], []
        for option, value in enumerate(answer):
            r = rng.scalar()
            ciphertext = encrypt(public_key, value, r)
            proof = prove_one_of(bit_context(poll, public_key, question.id, option), public_key, ciphertext,
                                 [0, 1], value, r, rng)
            nonces.append(r)
            ciphertexts.append(ciphertext)
            sealed_choices.append({**ciphertext.to_json(), "proof": [b.to_json() for b in proof]})
        context = sum_context(poll, public_key, question.id, question.min, question.max)
        sum_proof = prove_one_of(context, public_key, add_all(ciphertexts), question.totals, total, sum(nonces), rng)
        answers.append({"question": question.id, "choices": sealed_choices,
                        "proof": [b.to_json() for b in sum_proof]})
    return {"poll": poll, "answers": answers}


def ballot_ciphertexts(ballot, questions: list[Question]) -> list[list[Ciphertext]]:
    """The ciphertexts of a ballot whose shape matches the questions (raises ValueError otherwise)."""
    if not isinstance(ballot, dict) or not isinstance(ballot.get("answers"), list):
        raise ValueError("a ballot is {poll, answers}")
    if len(ballot["answers"]) != len(questions):
        raise ValueError(f"{len(questions)} answers expected")
    result = []
    for question, answer in zip(questions, ballot["answers"]):
        if not isinstance(answer, dict) or answer.get("question") != question.id:
            raise ValueError(f"the answer to question {question.id} is missing or out of order")
        choices = answer.get("choices")
        if not isinstance(choices, list) or len(choices) != question.options:
            raise ValueError(f"question {question.id}: {question.options} choices expected")
        result.append([Ciphertext.from_json(choice) for choice in choices])
    return result


def _branches(data, count: int, where: str) -> list[Branch]:
    if not isinstance(data, list) or len(data) != count:
        raise ValueError(f"{where}: a proof of {count} branches expected")
    return [Branch.from_json(branch) for branch in data]


def verify(ballot, poll: str, public_key: Point, questions: list[Question]) -> list[str]:
    """Every problem of a sealed ballot; an empty list means it is well formed and keeps every rule."""
    return check(ballot, poll, public_key, questions)[0]


def check(ballot, poll: str, public_key: Point, questions: list[Question]) -> tuple[list[str], list | None]:
    """verify(), and the ballot's ciphertexts when it is well formed (None otherwise) so callers parse once."""
    try:
        if not isinstance(ballot, dict) or ballot.get("poll") != poll:
            return ["the ballot belongs to another poll"], None
        ciphertexts = ballot_ciphertexts(ballot, questions)
        problems = []
        for question, answer, row in zip(questions, ballot["answers"], ciphertexts):
            for option, (choice, ciphertext) in enumerate(zip(answer["choices"], row)):
                proof = _branches(choice.get("proof"), 2, f"question {question.id} option {option}")
                if not verify_one_of(bit_context(poll, public_key, question.id, option), public_key,
                                     ciphertext, [0, 1], proof):
                    problems.append(f"question {question.id} option {option}: the answer is not proven 0 or 1")
            proof = _branches(answer.get("proof"), len(question.totals), f"question {question.id}")
            context = sum_context(poll, public_key, question.id, question.min, question.max)
            if not verify_one_of(context, public_key, add_all(row), question.totals, proof):
                problems.append(f"question {question.id}: the number of answers is not proven to lie in "
                                f"{question.min} … {question.max}")
        return problems, ciphertexts
    except (ValueError, EncodingError, AttributeError, TypeError) as error:
        return [f"malformed ballot: {error}"], None
