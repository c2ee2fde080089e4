"""Seal a ballot outside the browser (SPEC §5.1): what an API client needs, in Python's standard library plus
coincurve, like the verifier (tools/seal_ballot.py loads it without the rest of Salon; `salon ballot seal` is
the same code on the command line).

    spec = client.spec_from_json(json.loads(text))    # the seal spec, or the API's poll JSON holding it
    answers = spec.answers_for_options([12, 15])      # option ids, as a plain cast sends them
    ballot = client.seal_ballot(spec, answers)        # POST {"sealed": ballot} to /api/v1/polls/{id}/ballot
    receipt = client.fingerprint(ballot)              # the receipt: find it on the poll's bulletin board

The seal spec (`salon-seal-spec-2`, or `salon-seal-spec-1` of a poll opened before protocol version 2;
docs/sealed-ballots.md "Integration" and "Versions") gives the poll's proof context, its protocol version, its
joint public key and each question's rule; `option_ids` maps a question's ballot positions to the option ids of
the API (null for a question's blank answer, at the position `blank`: given as option ids, a question with none
chosen is answered blank, as a plain cast is; in version 2 every approval question has one). Choices are checked
here first, so a refusal names the question and says what is wrong (an answer of 2, more approvals than allowed,
no answer or two to a single-choice question, a blank position that contradicts the approvals) before anything
is sealed; the proofs could not be made for such a ballot anyway.
Messages are English, for the developer at a terminal, like the verifier's.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .ballot import InvalidChoice, Question, fingerprint, seal
from .group import PROTOCOLS, EncodingError, Point

FORMAT = "salon-seal-spec-2"  # protocol salon-sealed-2 (approval questions count blank ballots)
FORMAT_1 = "salon-seal-spec-1"  # protocol salon-sealed-1: a poll opened before version 2, sealed as such

__all__ = ["FORMAT", "InvalidChoice", "SealSpec", "SpecError", "answers_from_text", "fetch_spec", "fingerprint",
           "request_body", "seal_ballot", "spec_from_json", "spec_from_text"]


class SpecError(ValueError):
    """The seal spec is missing or malformed (or the poll is not sealed); nothing is sealed."""


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class SealSpec:
    poll: str
    public_key: Point
    threshold: int
    questions: tuple[Question, ...]
    option_ids: tuple[tuple[int | None, ...], ...]  # per question, ballot position → option id (None: blank)
    blanks: tuple[int | None, ...]  # per question, the position of its blank answer, if it has one
    protocol: int = 1  # the poll's protocol version (2: approval questions end with their blank position)

    def answers_for_options(self, chosen: Iterable[int]) -> list[list[int]]:
        """Per-question 0/1 lists from the option ids a plain cast sends ([] is a blank ballot), checked. A
        question with none chosen is answered blank: its blank position (a single-choice question's) is set."""
        where = {option: (q, o) for q, ids in enumerate(self.option_ids) for o, option in enumerate(ids)
                 if option is not None}
        answers = [[0] * question.options for question in self.questions]
        problems = []
        for option in chosen:
            if not _is_int(option):
                problems.append(f"option {option!r}: an option id is a whole number")
            elif option not in where:
                problems.append(f"option {option} is on none of this poll's questions")
            else:
                q, o = where[option]
                if answers[q][o]:
                    problems.append(f"question {self.questions[q].id}: option {option} chosen twice")
                answers[q][o] += 1
        if problems:
            raise InvalidChoice("; ".join(problems))
        for answer, blank in zip(answers, self.blanks):
            if blank is not None and not any(answer):
                answer[blank] = 1
        return self.check(answers, names=self.option_ids)

    def check(self, answers, names: Sequence[Sequence] | None = None) -> list[list[int]]:
        """The per-question 0/1 lists (a single-choice question's blank answer is its blank position), if they
        keep every question's rule; InvalidChoice naming each question that does not. `names[q][o]` is how
        option o of question q is called in messages (default: its position, from 0)."""
        if not isinstance(answers, list) or len(answers) != len(self.questions):
            raise InvalidChoice(f"one list of answers per question: {len(self.questions)} lists expected "
                                f"(questions {', '.join(q.id for q in self.questions)})")
        problems = []
        answers = list(answers)
        for q, (question, answer) in enumerate(zip(self.questions, answers)):
            label = f"question {question.id}"
            if (question.blank and isinstance(answer, list) and len(answer) == question.approvals
                    and all(_is_int(v) for v in answer)):
                answer = answers[q] = [*answer, 1 if not any(answer) else 0]  # its blank position, from the approvals
            if not isinstance(answer, list) or len(answer) != question.options:
                problems.append(f"{label}: {question.options} answers expected, one 0 or 1 per position")
                continue
            bad = [o for o, value in enumerate(answer) if not _is_int(value) or value not in (0, 1)]
            for o in bad:
                name = f"option {names[q][o]}" if names and names[q][o] is not None else f"position {o}"
                problems.append(f"{label}, {name}: an answer of {answer[o]!r}; each answer is 0 or 1")
            if bad:
                continue
            problems += _rule_problems(question, answer, self.blanks[q])
        if problems:
            raise InvalidChoice("; ".join(problems))
        return [list(answer) for answer in answers]


def _rule_problems(question: Question, answer: list[int], blank: int | None) -> list[str]:
    label = f"question {question.id}"
    total = sum(answer)
    if question.blank:
        approved = sum(answer[:-1])
        if approved > question.max:
            return [f"{label}: {approved} approvals; at most {question.max} allowed"]
        if answer[-1] == 1 and approved:
            return [f"{label}: {approved} approvals and its blank position {blank} set; a blank ballot approves "
                    f"nothing"]
        if answer[-1] == 0 and not approved:
            return [f"{label}: no approval and its blank position {blank} not set; a ballot that approves nothing "
                    f"sets it (or leave the position out)"]
        return []
    if question.min == question.max:
        if total == question.min:
            return []
        takes = "exactly one answer" if question.min == 1 else f"exactly {question.min} answers"
        given = "no answer" if total == 0 else f"{total} answers"
        hint = f" (position {blank} is its blank answer)" if blank is not None and total == 0 else ""
        return [f"{label}: {given}; this question takes {takes}{hint}"]
    if total > question.max:
        return [f"{label}: {total} approvals; at most {question.max} allowed"]
    if total < question.min:
        given = "no answer" if total == 0 else f"{total} answers"
        return [f"{label}: {given}; at least {question.min} needed"]
    return []


def spec_from_json(data) -> SealSpec:
    """The seal spec, given either itself or the API's poll JSON (GET /api/v1/polls/{id}, its `sealed`
    member). SpecError says what is wrong."""
    if isinstance(data, dict) and "format" not in data and "sealed" in data:
        poll = data.get("id", "?")
        if data["sealed"] is None:
            raise SpecError(f"poll {poll} is not sealed (opened before Salon sealed every poll): "
                            f"cast plain choices instead")
        data = data["sealed"]
    if not isinstance(data, dict) or data.get("format") not in (FORMAT, FORMAT_1):
        raise SpecError(f"not a seal spec (format {FORMAT} or {FORMAT_1}) nor a poll whose `sealed` member is one")
    protocol = 1
    if data["format"] == FORMAT:
        if data.get("protocol") != PROTOCOLS[2]:
            raise SpecError(f"seal spec: `protocol` must be {PROTOCOLS[2]} in a spec of format {FORMAT}")
        protocol = 2
    poll, threshold, questions = data.get("poll"), data.get("threshold"), data.get("questions")
    if not isinstance(poll, str) or not poll:
        raise SpecError("seal spec: `poll` (the proof context) must be a non-empty string")
    try:
        public_key = Point.from_hex(data.get("public_key"))
    except EncodingError as error:
        raise SpecError(f"seal spec: `public_key`: {error}") from None
    if not _is_int(threshold) or threshold < 2:
        raise SpecError("seal spec: `threshold` must be a whole number of at least 2")
    if not isinstance(questions, list) or not questions:
        raise SpecError("seal spec: `questions` must be a non-empty list")
    parsed, ids, blanks, seen = [], [], [], {}
    for number, item in enumerate(questions, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise SpecError(f"seal spec: question {number} needs a string `id`")
        try:
            question = Question.from_json(item)  # its `blank` is a position: an approval question's is b
        except ValueError as error:
            raise SpecError(f"seal spec: {error}") from None
        options = item.get("option_ids")
        if (not isinstance(options, list) or len(options) != question.options
                or not all(_is_int(o) or o is None for o in options) or len(set(options)) != len(options)):
            raise SpecError(f"seal spec: question {question.id}: `option_ids` must list {question.options} "
                            f"distinct option ids, one per position (null once at most: the blank answer)")
        blank = options.index(None) if None in options else None
        if item.get("blank", blank) != blank:
            raise SpecError(f"seal spec: question {question.id}: `blank` must be the position of the null "
                            f"option id")
        if question.blank and protocol < 2:
            raise SpecError(f"seal spec: question {question.id}: an approval question has no blank position in "
                            f"{PROTOCOLS[1]}")
        if protocol >= 2 and question.min == 0 and not question.blank:
            raise SpecError(f"seal spec: question {question.id}: an approval question has its blank position in "
                            f"{PROTOCOLS[2]} (a null option id, last)")
        if question.blank and blank != question.options - 1:
            raise SpecError(f"seal spec: question {question.id}: an approval question ends with its blank "
                            f"position (a null option id, last)")
        for option in options:
            if option is None:
                continue
            if option in seen:
                raise SpecError(f"seal spec: option {option} is in questions {seen[option]} and {question.id}")
            seen[option] = question.id
        if question.id in {q.id for q in parsed}:
            raise SpecError(f"seal spec: two questions have the id {question.id}")
        parsed.append(question)
        ids.append(tuple(options))
        blanks.append(blank)
    return SealSpec(poll, public_key, threshold, tuple(parsed), tuple(ids), tuple(blanks), protocol)


def spec_from_text(text: str | bytes, where: str = "the seal spec") -> SealSpec:
    try:
        data = json.loads(text)
    except ValueError as error:
        raise SpecError(f"{where} is not JSON: {error}") from None
    return spec_from_json(data)


def fetch_spec(url: str, token: str | None = None, timeout: float = 30) -> SealSpec:
    """GET the poll's JSON from the API (Authorization: Bearer TOKEN) and read its seal spec."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise SpecError(f"{url}: only http:// or https:// addresses")
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        hint = " (is the token right?)" if error.code in (401, 403) else ""
        raise SpecError(f"{url}: HTTP {error.code} {error.reason}{hint}") from None
    except (urllib.error.URLError, OSError) as error:
        raise SpecError(f"{url}: {getattr(error, 'reason', error)}") from None
    return spec_from_text(body, f"the answer of {url}")


def seal_ballot(spec: SealSpec, answers: list[list[int]], rng=None) -> dict:
    """The sealed ballot (docs/sealed-ballots.md, "Ballot") of checked per-question 0/1 lists; fresh random
    nonces from the operating system (`rng` is for known-answer tests only)."""
    return seal(spec.poll, spec.public_key, list(spec.questions), spec.check(answers), rng, spec.protocol)


def answers_from_text(spec: SealSpec, choose: str | None = None, answers: str | None = None) -> list[list[int]]:
    """The command line's choices: `choose` is option ids separated by commas ("12,15"; "" is a blank
    ballot), `answers` per-question 0/1 lists as JSON ("[[0,1,0],[1,0]]"); exactly one of them."""
    if (choose is None) == (answers is None):
        raise InvalidChoice("give the choices either as option ids (--choose 12,15) or as per-question lists "
                            "of 0 and 1 (--answers '[[0,1,0],[1,0]]'), not both")
    if answers is not None:
        try:
            return spec.check(json.loads(answers))
        except ValueError as error:
            if isinstance(error, InvalidChoice):
                raise
            raise InvalidChoice(f"--answers is not JSON: {error}") from None
    ids = []
    for part in choose.replace(" ", "").split(","):
        if part == "":
            continue
        if not part.isdigit():
            raise InvalidChoice(f"{part!r} is not an option id (whole numbers separated by commas)")
        ids.append(int(part))
    return spec.answers_for_options(ids)


def request_body(ballot: dict) -> dict:
    """What to POST to /api/v1/polls/{id}/ballot."""
    return {"sealed": ballot}
