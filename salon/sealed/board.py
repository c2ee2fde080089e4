"""The bulletin board of a closed poll: built by the server, checked by anyone (SPEC §5.1).

`build_board` assembles it from the key ceremony's public record, the accepted ballots and the trustees'
decryption factors; `verify_board` recomputes everything from the board alone and lists every problem
(docs/sealed-ballots.md, "What the verifier checks"). The verifier's messages are for auditors reading a
terminal, in English like the protocol document.
"""
from __future__ import annotations

import json
from collections.abc import Sequence

from . import ballot as ballots
from . import threshold
from .elgamal import Ciphertext, SmallLogs, add_all
from .group import PROTOCOLS, EncodingError, Point
from .proofs import Branch

FORMAT = "salon-sealed-board-3"  # protocol salon-sealed-2: approval questions end with their blank position
FORMAT_2 = "salon-sealed-board-2"  # protocol salon-sealed-1 (a poll opened before version 2)
FORMAT_1 = "salon-sealed-board-1"  # protocol 1, before the publication minimum was kept: read as nothing withheld
FORMATS = {FORMAT: 2, FORMAT_2: 1, FORMAT_1: 1}  # board format → protocol version
SEALED_BY = ("voter", "server")


def key_record(term: str, k: int, dealings: Sequence[dict]) -> dict:
    """The key ceremony's public record: each trustee's commitments and proofs, and the joint key."""
    commitments = {d["index"]: [Point.from_hex(c) for c in d["commitments"]] for d in dealings}
    return {"term": term, "threshold": k, "public_key": threshold.joint_key(commitments).hex(),
            "trustees": sorted(dealings, key=lambda d: d["index"])}


def tally(questions: Sequence[ballots.Question], sealed: Sequence[dict]) -> list[list[Ciphertext]]:
    return tally_of_ciphertexts(questions, [ballots.ballot_ciphertexts(b, questions) for b in sealed])


def tally_of_ciphertexts(questions: Sequence[ballots.Question], rows: Sequence[list]) -> list[list[Ciphertext]]:
    return [[add_all(row[q][o] for row in rows) for o in range(question.options)]
            for q, question in enumerate(questions)]


def tally_json(sums: list[list[Ciphertext]]) -> list[list[dict]]:
    return [[c.to_json() for c in row] for row in sums]


def tally_from_json(rows) -> list[list[Ciphertext]]:
    """The inverse of tally_json (a sum of no ballots is the identity, allowed here)."""
    return [[Ciphertext.from_json(c, allow_identity=True) for c in row] for row in rows]


def nothing_withheld(questions: Sequence[ballots.Question]) -> list[list[bool]]:
    return [[False] * question.options for question in questions]


def request_factors(request: dict, trustee: int, secret: int, rng) -> dict:
    """trustee_factors for a decryption request as the server hands it to a device ({poll, public_key, questions,
    tally, undecrypted}): what trustees.js's trusteeFactors computes in the browser."""
    questions = [ballots.Question.from_json(q) for q in request["questions"]]
    return trustee_factors(request["poll"], Point.from_hex(request["public_key"]), questions,
                           tally_from_json(request["tally"]), trustee, secret, rng, request.get("undecrypted"))


def trustee_factors(poll: str, public_key: Point, questions: Sequence[ballots.Question],
                    sums: list[list[Ciphertext]], trustee: int, secret: int, rng,
                    undecrypted: Sequence[Sequence[bool]] | None = None) -> dict:
    """What one trustee's device sends after the close: a proven factor per tally ciphertext, and null for a sum
    marked `undecrypted[q][o]` (below SPEC §5's publication minimum, a count the outcome does not need): that sum
    is never decrypted."""
    undecrypted = undecrypted or nothing_withheld(questions)
    return {"trustee": trustee, "factors": [
        [None if undecrypted[q][o] else
         threshold.decryption_factor(poll, public_key, question.id, o, trustee, secret, sums[q][o], rng).to_json()
         for o in range(question.options)] for q, question in enumerate(questions)]}


def build_board(poll: str, questions: Sequence[ballots.Question], key: dict,
                sealed: Sequence[tuple[dict, str]], decryptions: Sequence[dict],
                sums: list[list[Ciphertext]] | None = None, minimum: int = 0,
                withheld: Sequence[Sequence[bool]] | None = None, protocol: int = 1) -> dict:
    """`sealed`: (ballot, "voter" | "server") pairs, in any order — the board sorts them by fingerprint, so
    it shows no order of casting. `decryptions`: the factors of at least k trustees (none when every count is
    withheld). `sums`: the tally the trustees decrypted, if already at hand (the sum does not depend on the
    order). `minimum`: the poll's publication minimum (SPEC §5); `withheld[q][o]`: the sums whose counts are not
    published because fewer ballots than the minimum were cast: their factors (if any) are left off the board
    and their result is null. `protocol`: the poll's version, 1 (board-2) or 2 (board-3)."""
    entries = sorted(({"fingerprint": ballots.fingerprint(b), "sealed_by": by, "ballot": b} for b, by in sealed),
                     key=lambda e: e["fingerprint"])
    if sums is None:
        sums = tally(questions, [e["ballot"] for e in entries])
    withheld = [list(map(bool, row)) for row in (withheld or nothing_withheld(questions))]
    shown = [] if all(all(row) for row in withheld) else [
        {"trustee": d["trustee"], "factors": [[None if withheld[q][o] else f for o, f in enumerate(row)]
                                              for q, row in enumerate(d["factors"])]} for d in decryptions]
    logs = SmallLogs(len(entries))
    if protocol >= 2:
        head = {"format": FORMAT, "protocol": PROTOCOLS[protocol],
                "questions": [{**q.to_json(), "blank": q.blank} for q in questions]}
    else:
        head = {"format": FORMAT_2, "questions": [q.to_json() for q in questions]}
    board = {**head, "poll": poll, "key": key,
             "minimum": minimum, "withheld": withheld, "ballots": entries, "tally": tally_json(sums),
             "decryptions": sorted(shown, key=lambda d: d["trustee"])}
    factors = {d["trustee"]: d["factors"] for d in shown}
    board["result"] = [
        [None if withheld[q][o] else logs.log(sums[q][o].beta, threshold.combine(
            {t: Point.from_hex(f[q][o]["factor"], allow_identity=True) for t, f in factors.items()},
            key["threshold"])) for o in range(question.options)]
        for q, question in enumerate(questions)]
    return board


def find_receipt(board: dict, receipt: str) -> bool:
    return any(isinstance(e, dict) and e.get("fingerprint") == receipt for e in board.get("ballots") or [])


def report(text: str | bytes, receipt: str | None = None) -> tuple[bool, list[str]]:
    """What `tools/verify_board.py` and `salon verify` print: OK and the counts, or every problem; then, given
    a receipt, whether that ballot is on the board."""
    problems = verify_board_json(text)
    if problems:
        return False, problems
    board = json.loads(text)
    lines = [f"OK: poll {board['poll']}, {len(board['ballots'])} ballots, "
             f"{len(board['decryptions'])} of {len(board['key']['trustees'])} trustees decrypted "
             f"(k = {board['key']['threshold']})"]
    withheld = any(n is None for counts in board["result"] for n in counts)
    if withheld:
        lines.append(f"  fewer ballots than the minimum of {board['minimum']}: the counts marked withheld are not "
                     f"published (SPEC §5)")
    lines += [f"  {q['id']}: [{', '.join('withheld' if n is None else str(n) for n in counts)}]"
              + (" (the last: blank ballots)" if q.get("blank") else "")
              for q, counts in zip(board["questions"], board["result"])]
    if receipt is None:
        return True, lines
    found = find_receipt(board, receipt.strip().lower())
    lines.append(f"receipt {receipt}: {'on the board' if found else 'NOT on the board'}")
    return found, lines


class _Problem(Exception):
    pass


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise _Problem(message)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def verify_board_json(text: str | bytes) -> list[str]:
    try:
        board = json.loads(text)
    except ValueError as error:
        return [f"the board is not JSON: {error}"]
    return verify_board(board)


def verify_board(board) -> list[str]:
    """Every problem found on the board; an empty list means everything on it checks out. A problem that stops
    the check (a missing or malformed part) comes last, after those found before it."""
    problems: list[str] = []
    try:
        _verify(board, problems)
    except _Problem as problem:
        problems.append(str(problem))
    except (ValueError, EncodingError, TypeError, KeyError, AttributeError, IndexError) as error:
        problems.append(f"malformed board: {error}")
    return problems


def _verify(board, problems: list[str]) -> None:
    _require(isinstance(board, dict) and board.get("format") in FORMATS,
             f"not a board of format {FORMAT} (nor {FORMAT_2} or {FORMAT_1})")
    protocol = FORMATS[board["format"]]
    if protocol >= 2:
        _require(board.get("protocol") == PROTOCOLS[protocol],
                 f"a board of format {board['format']} is of protocol {PROTOCOLS[protocol]}")
    else:
        _require("protocol" not in board, f"a board of format {board['format']} names no protocol")
    poll = board.get("poll")
    _require(isinstance(poll, str) and poll != "", "the board names no poll")
    _require(isinstance(board.get("questions"), list) and board["questions"], "the board lists no questions")
    _require(all(isinstance(q, dict) and isinstance(q.get("blank"), bool) == (protocol >= 2)
                 for q in board["questions"]),
             "each question says whether it has a blank position (blank: true or false), in board-3 only")
    questions = [ballots.Question.from_json(q) for q in board["questions"]]
    _require(len({q.id for q in questions}) == len(questions), "two questions share an id")
    ballots.check_shape(questions, protocol)

    # the publication minimum (SPEC §5): which sums were left undecrypted
    if board["format"] == FORMAT_1:
        minimum, withheld = None, nothing_withheld(questions)
    else:
        minimum, withheld = board.get("minimum"), board.get("withheld")
        _require(_is_int(minimum) and minimum >= 0, "the publication minimum is not a whole number")
        _require(isinstance(withheld, list) and len(withheld) == len(questions)
                 and all(isinstance(row, list) and len(row) == q.options and all(isinstance(w, bool) for w in row)
                         for row, q in zip(withheld, questions)),
                 "withheld must say, for each sum of the tally, true or false")

    # the key (docs/sealed-ballots.md, "Election key")
    key = board.get("key")
    _require(isinstance(key, dict) and isinstance(key.get("term"), str) and _is_int(key.get("threshold"))
             and isinstance(key.get("trustees"), list), "the key record is malformed")
    k, term, trustees = key["threshold"], key["term"], key["trustees"]
    _require(2 <= k <= len(trustees), "the key needs 2 ≤ k ≤ n trustees")
    commitments: dict[int, list[Point]] = {}
    previous = 0
    for trustee in trustees:
        # Indexes are 1 … n, save those of trustees dropped from the ceremony (a bad share): distinct, increasing.
        _require(isinstance(trustee, dict) and _is_int(trustee.get("index")) and trustee["index"] > previous,
                 f"trustee after {previous}: indexes must be positive and increasing")
        position = previous = trustee["index"]
        points = trustee.get("commitments")
        _require(isinstance(points, list) and len(points) == k, f"trustee {position}: {k} commitments expected")
        commitments[position] = [Point.from_hex(c) for c in points]
        proofs = trustee.get("proofs")
        _require(isinstance(proofs, list), f"trustee {position}: proofs missing")
        if not threshold.coefficients_are_proven(term, position, commitments[position],
                                                 [Branch.from_json(p) for p in proofs]):
            problems.append(f"trustee {position}: a key coefficient is not proven")
    public_key = threshold.joint_key(commitments)
    _require(not public_key.is_identity, "the joint key is the identity")
    if key.get("public_key") != public_key.hex():
        problems.append("the public key is not the sum of the trustees' commitments")

    # the ballots
    entries = board.get("ballots")
    _require(isinstance(entries, list), "the ballots are missing")
    seen_fingerprints: set[str] = set()
    seen_alphas: set[Point] = set()
    previous = ""
    sealed = []
    for number, entry in enumerate(entries, start=1):
        _require(isinstance(entry, dict), f"ballot {number}: malformed")
        claimed = entry.get("fingerprint")
        name = f"ballot {claimed}" if isinstance(claimed, str) else f"ballot {number}"
        _require(entry.get("sealed_by") in SEALED_BY, f"{name}: sealed_by must be voter or server")
        ballot = entry.get("ballot")
        if ballots.fingerprint(ballot) != claimed:
            problems.append(f"{name}: the fingerprint does not match the ballot")
        if not isinstance(claimed, str) or claimed <= previous:
            problems.append(f"{name}: ballots must be sorted by fingerprint, each once")
        previous = claimed if isinstance(claimed, str) else previous
        seen_fingerprints.add(claimed)
        found, rows = ballots.check(ballot, poll, public_key, questions, protocol)
        problems += [f"{name}: {p}" for p in found]
        if rows is None:
            continue  # malformed, reported just above; left out of the expected tally
        for row in rows:
            for ciphertext in row:
                if ciphertext.alpha in seen_alphas:
                    problems.append(f"{name}: repeats a ciphertext already on the board (a copied ballot)")
                seen_alphas.add(ciphertext.alpha)
        sealed.append(rows)
    below = minimum is not None and len(entries) < minimum
    if any(any(row) for row in withheld) and not below:
        problems.append(f"counts are withheld although {len(entries)} ballots reach the publication minimum "
                        f"({minimum})")
    if below and not any(any(row) for row in withheld):
        problems.append(f"every count is published although {len(entries)} ballots are fewer than the publication "
                        f"minimum ({minimum})")

    # the tally: the sum of the ballots
    expected = tally_of_ciphertexts(questions, sealed)
    published = board.get("tally")
    _require(isinstance(published, list) and len(published) == len(questions)
             and all(isinstance(row, list) and len(row) == q.options for row, q in zip(published, questions)),
             "the tally does not have one sum per option")
    for q, question in enumerate(questions):
        for o in range(question.options):
            if Ciphertext.from_json(published[q][o], allow_identity=True) != expected[q][o]:
                problems.append(f"question {question.id} option {o}: the tally is not the sum of the ballots")

    # the decryption factors and the result
    decryptions = board.get("decryptions")
    _require(isinstance(decryptions, list), "the decryptions are missing")
    valid: dict[int, list[list[Point]]] = {}
    for decryption in decryptions:
        _require(isinstance(decryption, dict) and _is_int(decryption.get("trustee"))
                 and decryption["trustee"] in commitments, "a decryption names no trustee of the key")
        trustee = decryption["trustee"]
        _require(trustee not in valid, f"trustee {trustee} decrypted twice")
        verification_key = threshold.verification_key(commitments, trustee)
        factors = decryption.get("factors")
        _require(isinstance(factors, list) and len(factors) == len(questions)
                 and all(isinstance(row, list) and len(row) == q.options for row, q in zip(factors, questions)),
                 f"trustee {trustee}: one factor per tally sum expected")
        points, good = [], True
        for q, question in enumerate(questions):
            points.append([])
            for o in range(question.options):
                item = factors[q][o]
                if withheld[q][o]:
                    if item is not None:
                        problems.append(f"trustee {trustee}: a decryption of question {question.id} option {o} is "
                                        f"published, whose count is withheld")
                    points[-1].append(None)
                    continue
                _require(isinstance(item, dict), f"trustee {trustee}: malformed factor")
                factor = threshold.Factor(trustee, Point.from_hex(item.get("factor"), allow_identity=True),
                                          Branch.from_json(item.get("proof")))
                if not threshold.factor_is_valid(poll, public_key, question.id, o, verification_key,
                                                 expected[q][o], factor):
                    problems.append(f"trustee {trustee}: the decryption of question {question.id} option {o} "
                                    f"is not proven")
                    good = False
                points[-1].append(factor.factor)
        if good:
            valid[trustee] = points
    decrypted = not all(all(row) for row in withheld)
    if decrypted and len(valid) < k:
        problems.append(f"only {len(valid)} of the {k} trustees needed decrypted with valid proofs")
        return

    result = board.get("result")
    _require(isinstance(result, list) and len(result) == len(questions)
             and all(isinstance(row, list) and len(row) == q.options for row, q in zip(result, questions)),
             "the result does not have one count per option")
    logs = SmallLogs(len(entries))
    for q, question in enumerate(questions):
        for o in range(question.options):
            if withheld[q][o]:
                if result[q][o] is not None:
                    problems.append(f"question {question.id} option {o}: a count is published although withheld "
                                    f"({result[q][o]!r})")
                continue
            combined = threshold.combine({t: points[q][o] for t, points in valid.items()}, k)
            count = logs.log(expected[q][o].beta, combined)
            if count is None or result[q][o] != count or not _is_int(result[q][o]):
                problems.append(f"question {question.id} option {o}: the published count "
                                f"{result[q][o]!r} is not what the trustees decrypted ({count})")
