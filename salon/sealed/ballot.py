"""A sealed ballot: one ciphertext per option with its bit proof, and one sum proof per question that the
question's rule is kept (SPEC §5.1; docs/sealed-ballots.md, "Objects"). Its fingerprint is the voter's receipt."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from .elgamal import Ciphertext, add_all, encrypt
from .group import PROTOCOLS, EncodingError, Point, RandomNonces
from .proofs import Branch, bit_context, prove_one_of, sum_context, verify_one_of

MAX_OPTIONS = 200  # a topic poll's nominations or an election's candidates; bounds the verifier's work


@dataclass(frozen=True)
class Question:
    """`options` ballot positions, answers of 0 or 1 whose total lies in min … max (approval of K: 0 … K; single
    choice: 1 … 1). `blank` (version 2, every approval question): the last position is the blank one, b = 1
    exactly when none of the others is approved; its sum proof is over K·b + Σ others, proven in 1 … K."""
    id: str
    options: int
    min: int
    max: int
    blank: bool = False

    def __post_init__(self):
        if not (isinstance(self.id, str) and self.id):
            raise ValueError("a question needs an id")
        if not isinstance(self.blank, bool):
            raise ValueError(f"question {self.id}: blank is true or false")
        most = MAX_OPTIONS + (1 if self.blank else 0)
        if not (1 <= self.options <= most and 0 <= self.min <= self.max <= self.options):
            raise ValueError(f"question {self.id}: need 1 ≤ options ≤ {MAX_OPTIONS} and 0 ≤ min ≤ max ≤ options")
        if self.blank and not (self.min == 0 and 1 <= self.max <= self.options - 1):
            raise ValueError(f"question {self.id}: a blank position needs min 0 and 1 ≤ max < options")

    @property
    def totals(self) -> list[int]:
        """The totals the sum proof allows: min … max, or 1 … max over a blank question's weighted sum."""
        return list(range(1 if self.blank else self.min, self.max + 1))

    @property
    def approvals(self) -> int:
        """The positions that are options (the blank one left out)."""
        return self.options - 1 if self.blank else self.options

    def weighted_total(self, answer: Sequence[int]) -> int:
        """What the sum proof proves of the answers: their sum, or K·b + Σ others with a blank position."""
        if self.blank:
            return self.max * answer[-1] + sum(answer[:-1])
        return sum(answer)

    def to_json(self) -> dict:
        return {"id": self.id, "options": self.options, "min": self.min, "max": self.max,
                **({"blank": True} if self.blank else {})}

    @classmethod
    def from_json(cls, data) -> Question:
        if not isinstance(data, dict) or not all(isinstance(data.get(f), int) and not isinstance(data.get(f), bool)
                                                 for f in ("options", "min", "max")):
            raise ValueError("a question is {id, options, min, max}")
        blank = data.get("blank", False)
        if blank is None or (isinstance(blank, int) and not isinstance(blank, bool)):
            # a seal spec's question, whose `blank` is the position of its blank answer: an approval question's
            # (min 0) is the blank position b of version 2; a single-choice question's is one of its answers
            blank = blank is not None and data["min"] == 0
        if not isinstance(blank, bool):
            raise ValueError(f"question {data.get('id')}: blank is true or false")
        return cls(data.get("id"), data["options"], data["min"], data["max"], blank)


def protocol_of(name) -> int:
    """The version number of a protocol's name ("salon-sealed-2" → 2); ValueError for another."""
    for number, known in PROTOCOLS.items():
        if name == known:
            return number
    raise ValueError(f"unknown protocol {name!r}")


def check_shape(questions: Sequence[Question], protocol: int) -> None:
    """Version 2: every approval question (min 0) has its blank position; version 1: none has one."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol version {protocol!r}")
    for question in questions:
        if question.blank != (protocol >= 2 and question.min == 0):
            raise ValueError(f"question {question.id}: in {PROTOCOLS[protocol]} " + (
                "an approval question (min 0) ends with its blank position" if protocol >= 2
                else "no question has a blank position"))


class InvalidChoice(ValueError):
    """The plain choices do not keep the question's rule; nothing is sealed."""


def canonical_json(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("utf-8")


def fingerprint(ballot: dict) -> str:
    """The receipt: SHA-256 of the ballot's canonical JSON (its ciphertexts and proofs)."""
    return hashlib.sha256(canonical_json(ballot)).hexdigest()


def weighted_sum(question: Question, row: Sequence[Ciphertext]) -> Ciphertext:
    """The ciphertext the question's sum proof is about: Σ of its positions, or K·blank + Σ options."""
    if not question.blank:
        return add_all(row)
    blank = row[-1]
    return add_all([*row[:-1], Ciphertext(blank.alpha.mul(question.max), blank.beta.mul(question.max))])


def _answer_problem(question: Question, answer) -> str | None:
    if len(answer) != question.options or any(v not in (0, 1) or isinstance(v, bool) for v in answer):
        return f"question {question.id}: {question.options} answers of 0 or 1"
    if question.blank:
        approved = sum(answer[:-1])
        if approved > question.max:
            return f"question {question.id}: between {question.min} and {question.max} answers"
        if answer[-1] != (1 if approved == 0 else 0):
            return f"question {question.id}: the blank position is 1 exactly when nothing is approved"
        return None
    if not question.min <= sum(answer) <= question.max:
        return f"question {question.id}: between {question.min} and {question.max} answers"
    return None


def seal(poll: str, public_key: Point, questions: list[Question], choices: list[list[int]],
         rng=None, protocol: int = 1) -> dict:
    """Encrypt each answer and prove the ballot well formed. `choices[q][o]` is 0 or 1 (a blank question's last
    position is its blank bit). The server seals this way when a ballot arrives plain (SPEC §5.1); `rng` is for
    known-answer tests only. `protocol`: the poll's version (docs/sealed-ballots.md, "Versions")."""
    rng = rng or RandomNonces()
    try:
        check_shape(questions, protocol)
    except ValueError as error:
        raise InvalidChoice(str(error)) from None
    if len(choices) != len(questions):
        raise InvalidChoice("one list of answers per question")
    answers = []
    for question, answer in zip(questions, choices):
        problem = _answer_problem(question, answer)
        if problem:
            raise InvalidChoice(problem)
        nonces, ciphertexts, sealed_choices = [], [], []
        for option, value in enumerate(answer):
            r = rng.scalar()
            ciphertext = encrypt(public_key, value, r)
            proof = prove_one_of(bit_context(poll, public_key, question.id, option, protocol), public_key,
                                 ciphertext, [0, 1], value, r, rng)
            nonces.append(r)
            ciphertexts.append(ciphertext)
            sealed_choices.append({**ciphertext.to_json(), "proof": [b.to_json() for b in proof]})
        if question.blank:
            nonces[-1] = nonces[-1] * question.max
        context = sum_context(poll, public_key, question.id, question.min, question.max, protocol)
        sum_proof = prove_one_of(context, public_key, weighted_sum(question, ciphertexts), question.totals,
                                 question.weighted_total(answer), sum(nonces), rng)
        answers.append({"question": question.id, "choices": sealed_choices,
                        "proof": [b.to_json() for b in sum_proof]})
    ballot = {"poll": poll, "answers": answers}
    if protocol >= 2:
        ballot["protocol"] = PROTOCOLS[protocol]
    return ballot


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


def verify(ballot, poll: str, public_key: Point, questions: list[Question], protocol: int | None = None) -> list[str]:
    """Every problem of a sealed ballot; an empty list means it is well formed and keeps every rule."""
    return check(ballot, poll, public_key, questions, protocol)[0]


def check(ballot, poll: str, public_key: Point, questions: list[Question],
          protocol: int | None = None) -> tuple[list[str], list | None]:
    """verify(), and the ballot's ciphertexts when it is well formed (None otherwise) so callers parse once.
    `protocol`: the poll's version, which the server and the verifier always give: a ballot of another version
    is refused (its proofs are in another domain). None (for tests and tools): the version the ballot names."""
    try:
        if protocol is None:
            protocol = protocol_of(ballot.get("protocol", PROTOCOLS[1]) if isinstance(ballot, dict) else PROTOCOLS[1])
        check_shape(questions, protocol)
        if not isinstance(ballot, dict) or ballot.get("poll") != poll:
            return ["the ballot belongs to another poll"], None
        if ballot.get("protocol", PROTOCOLS[1]) != PROTOCOLS[protocol] or (protocol == 1 and "protocol" in ballot):
            return [f"the ballot is not of this poll's protocol ({PROTOCOLS[protocol]})"], None
        ciphertexts = ballot_ciphertexts(ballot, questions)
        problems = []
        for question, answer, row in zip(questions, ballot["answers"], ciphertexts):
            for option, (choice, ciphertext) in enumerate(zip(answer["choices"], row)):
                proof = _branches(choice.get("proof"), 2, f"question {question.id} option {option}")
                if not verify_one_of(bit_context(poll, public_key, question.id, option, protocol), public_key,
                                     ciphertext, [0, 1], proof):
                    problems.append(f"question {question.id} option {option}: the answer is not proven 0 or 1")
            proof = _branches(answer.get("proof"), len(question.totals), f"question {question.id}")
            context = sum_context(poll, public_key, question.id, question.min, question.max, protocol)
            if not verify_one_of(context, public_key, weighted_sum(question, row), question.totals, proof):
                problems.append(f"question {question.id}: the number of answers is not proven to lie in "
                                f"{question.min} … {question.max}"
                                + (" with its blank position set exactly when it is 0" if question.blank else ""))
        return problems, ciphertexts
    except (ValueError, EncodingError, AttributeError, TypeError) as error:
        return [f"malformed ballot: {error}"], None
