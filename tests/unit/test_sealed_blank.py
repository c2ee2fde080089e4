"""Protocol salon-sealed-2 (docs/sealed-ballots.md, "The blank position of an approval question", "Versions"):
an approval question's hidden blank position b, proven 0 or 1 and, through the weighted sum K·b + Σx ∈ 1 … K, set
exactly when nothing is approved. Known answers (sealed.js reproduces them: tests/unit/test_sealed_js.py), every
way a cheating client could try to break the rule, the version domains, and boards of both versions."""
import copy
import json

import pytest

from salon.sealed import ballot as B
from salon.sealed import board as BD
from salon.sealed import elgamal as E
from salon.sealed import proofs as P
from salon.sealed import threshold as T
from salon.sealed.group import G, Point, SeededNonces, base_mul

KEY = base_mul(515151)
# an approval question of K = 2 among 3 options, then its blank position; a single-choice question
TOPICS = B.Question("topics", 4, 0, 2, True)
OVERALL = B.Question("overall", 3, 1, 1)
QUESTIONS = [TOPICS, OVERALL]

# Known answers of protocol 2: key from SeededNonces("salon-kat-2"), then two ballots on "poll-2" (tools/seal_ballot.mjs
# {"kat2": true} makes the same with sealed.js).
KAT2_KEY = "02cb8abbe5d40a19f028b2566d1919191bfb2bbb3797cbb8fb5b3eda92938b71d1"
KAT2_FINGERPRINTS = ["5f152eba66ed5619a62eb8e7a8c98699e653e646c2bab7d3e1f2b2b7be02f44e",
                     "9a64cf3b94759815044e339c5a438cbcc3344cd4551fceffcd503577d5f7d572"]
KAT2_CHOICES = [[[1, 0, 1, 0], [0, 1, 0]], [[0, 0, 0, 1], [0, 0, 1]]]  # the second: blank, both questions


def kat2_run():
    rng = SeededNonces("salon-kat-2")
    key = base_mul(rng.scalar())
    return key, [B.seal("poll-2", key, QUESTIONS, choices, rng, 2) for choices in KAT2_CHOICES]


def test_the_known_answers_of_protocol_2():
    key, ballots = kat2_run()
    assert key.hex() == KAT2_KEY
    assert [B.fingerprint(b) for b in ballots] == KAT2_FINGERPRINTS
    for ballot in ballots:
        assert ballot["protocol"] == "salon-sealed-2" and B.verify(ballot, "poll-2", key, QUESTIONS, 2) == []
        assert [len(a["choices"]) for a in ballot["answers"]] == [4, 3]
        assert [len(a["proof"]) for a in ballot["answers"]] == [2, 1]  # totals 1 … 2; exactly 1


def opened(ballot, secret=515151):
    """Each position decrypted with the test's secret (0, 1 or None for anything else)."""
    rows = []
    for answer in ballot["answers"]:
        row = []
        for choice in answer["choices"]:
            m = Point.from_hex(choice["beta"]) - Point.from_hex(choice["alpha"]).mul(secret)
            row.append(0 if m.is_identity else 1 if m == G else None)
        rows.append(row)
    return rows


@pytest.mark.parametrize("approvals, expected", [
    ([0, 0, 0], [0, 0, 0, 1]), ([1, 0, 0], [1, 0, 0, 0]), ([0, 1, 1], [0, 1, 1, 0])])
def test_the_blank_bit_is_exactly_this_ballot_approves_nothing(approvals, expected):
    ballot = B.seal("poll-1", KEY, QUESTIONS, [expected, [0, 0, 1]], SeededNonces(str(approvals)), 2)
    assert B.verify(ballot, "poll-1", KEY, QUESTIONS, 2) == []
    assert opened(ballot)[0] == expected


@pytest.mark.parametrize("row, message", [
    ([0, 0, 0, 0], "the blank position is 1 exactly when nothing is approved"),
    ([1, 0, 0, 1], "the blank position is 1 exactly when nothing is approved"),
    ([1, 1, 1, 0], "between 0 and 2 answers"),
    ([0, 0, 0, 2], "4 answers of 0 or 1"),
])
def test_seal_refuses_a_blank_bit_that_contradicts_the_approvals(row, message):
    with pytest.raises(B.InvalidChoice, match=message):
        B.seal("poll-1", KEY, QUESTIONS, [row, [1, 0, 0]], SeededNonces("refuse"), 2)


def test_a_question_shape_that_does_not_fit_the_version_is_refused():
    with pytest.raises(ValueError):
        B.Question("q", 3, 0, 3, True)  # K must leave room for the blank position
    with pytest.raises(ValueError):
        B.Question("q", 3, 1, 1, True)  # only an approval question (min 0) has one
    with pytest.raises(B.InvalidChoice, match="no question has a blank position"):
        B.seal("poll-1", KEY, QUESTIONS, [[1, 0, 0, 0], [1, 0, 0]], SeededNonces("v1"), 1)
    with pytest.raises(B.InvalidChoice, match="ends with its blank position"):
        B.seal("poll-1", KEY, [B.Question("q", 3, 0, 2)], [[1, 0, 0]], SeededNonces("v2"), 2)


# --- a cheating client: ciphertexts of any values, proofs made as if they were allowed ---------------------------

def forged(poll, values, claimed, protocol=2, question=TOPICS, rng=None):
    """A v2 ballot of `question` whose positions encrypt `values`, each bit proof made as if it held `claimed`, and
    the weighted sum proof made for the nearest allowed total: what a client that skips seal()'s checks sends."""
    rng = rng or SeededNonces(f"forged-{values}")
    choices, nonces, ciphertexts = [], [], []
    for option, (value, claim) in enumerate(zip(values, claimed)):
        r = rng.scalar()
        ciphertext = E.encrypt(KEY, value, r)
        proof = P.prove_one_of(P.bit_context(poll, KEY, question.id, option, protocol), KEY, ciphertext, [0, 1],
                               claim, r, rng)
        choices.append({**ciphertext.to_json(), "proof": [b.to_json() for b in proof]})
        nonces.append(r * question.max if option == question.options - 1 else r)
        ciphertexts.append(ciphertext)
    total = question.weighted_total(values)
    claimed_total = min(max(total, question.totals[0]), question.totals[-1])
    sum_proof = P.prove_one_of(P.sum_context(poll, KEY, question.id, question.min, question.max, protocol), KEY,
                               B.weighted_sum(question, ciphertexts), question.totals, claimed_total, sum(nonces),
                               rng)
    return {"protocol": "salon-sealed-2", "poll": poll,
            "answers": [{"question": question.id, "choices": choices, "proof": [b.to_json() for b in sum_proof]}]}


SUM_PROBLEM = ("question topics: the number of answers is not proven to lie in 0 … 2 with its blank position set "
               "exactly when it is 0")


def test_an_honestly_forged_ballot_passes_so_the_forger_is_a_fair_cheater():
    assert B.verify(forged("poll-1", [1, 0, 1, 0], [1, 0, 1, 0]), "poll-1", KEY, [TOPICS], 2) == []
    assert B.verify(forged("poll-1", [0, 0, 0, 1], [0, 0, 0, 1]), "poll-1", KEY, [TOPICS], 2) == []


def test_a_blank_bit_of_two_is_rejected():
    problems = B.verify(forged("poll-1", [0, 0, 0, 2], [0, 0, 0, 1]), "poll-1", KEY, [TOPICS], 2)
    assert problems == ["question topics option 3: the answer is not proven 0 or 1", SUM_PROBLEM]


def test_blank_set_together_with_an_approval_is_rejected():
    # every bit proof holds (each position is 0 or 1): only the weighted sum (K + 1 = 3) gives it away
    assert B.verify(forged("poll-1", [1, 0, 0, 1], [1, 0, 0, 1]), "poll-1", KEY, [TOPICS], 2) == [SUM_PROBLEM]


def test_no_approval_without_the_blank_bit_is_rejected():
    # the weighted sum is 0, outside 1 … K: a ballot cannot hide that it is blank
    assert B.verify(forged("poll-1", [0, 0, 0, 0], [0, 0, 0, 0]), "poll-1", KEY, [TOPICS], 2) == [SUM_PROBLEM]


def test_more_than_k_approvals_are_rejected():
    assert B.verify(forged("poll-1", [1, 1, 1, 0], [1, 1, 1, 0]), "poll-1", KEY, [TOPICS], 2) == [SUM_PROBLEM]


def test_a_version_1_proof_is_not_a_version_2_proof_nor_back():
    """The same single-choice question in both versions: the proofs are hashed in their version's domain."""
    v1 = B.seal("poll-1", KEY, [OVERALL], [[0, 1, 0]], SeededNonces("v1"), 1)
    assert "protocol" not in v1 and B.verify(v1, "poll-1", KEY, [OVERALL], 1) == []
    assert B.verify(v1, "poll-1", KEY, [OVERALL], 2) == [
        "the ballot is not of this poll's protocol (salon-sealed-2)"]
    relabelled = {**v1, "protocol": "salon-sealed-2"}
    assert len(B.verify(relabelled, "poll-1", KEY, [OVERALL], 2)) == 4  # three bit proofs and the sum proof
    v2 = B.seal("poll-1", KEY, [OVERALL], [[0, 1, 0]], SeededNonces("v2"), 2)
    assert B.verify(v2, "poll-1", KEY, [OVERALL], 1) == ["the ballot is not of this poll's protocol (salon-sealed-1)"]
    stripped = {k: v for k, v in v2.items() if k != "protocol"}
    assert len(B.verify(stripped, "poll-1", KEY, [OVERALL], 1)) == 4
    # a version 1 sum proof over the unweighted sum (0 … K) does not pass for a blank question either
    v1_sum = forged("poll-1", [0, 0, 0, 1], [0, 0, 0, 1], protocol=1)
    assert B.verify(v1_sum, "poll-1", KEY, [TOPICS], 2) == [
        f"question topics option {o}: the answer is not proven 0 or 1" for o in range(4)] + [SUM_PROBLEM]


def test_a_proof_replayed_from_another_poll_or_question_is_rejected():
    ballot = B.seal("poll-A", KEY, QUESTIONS, [[0, 0, 0, 1], [1, 0, 0]], SeededNonces("replay"), 2)
    relabelled = {**copy.deepcopy(ballot), "poll": "poll-B"}
    assert len(B.verify(relabelled, "poll-B", KEY, QUESTIONS, 2)) == 4 + 1 + 3 + 1
    other = B.Question("others", 4, 0, 2, True)
    moved = copy.deepcopy(ballot)
    moved["answers"] = [{**moved["answers"][0], "question": "others"}]
    assert len(B.verify(moved, "poll-A", KEY, [other], 2)) == 5


def test_a_tampered_blank_ciphertext_is_rejected():
    ballot = B.seal("poll-1", KEY, QUESTIONS, [[0, 0, 0, 1], [1, 0, 0]], SeededNonces("tamper"), 2)
    tampered = copy.deepcopy(ballot)
    blank = tampered["answers"][0]["choices"][3]
    blank["beta"] = (Point.from_hex(blank["beta"]) - G).hex()  # now encrypts 0: the blank ballot made to vanish
    assert B.verify(tampered, "poll-1", KEY, QUESTIONS, 2) == [
        "question topics option 3: the answer is not proven 0 or 1", SUM_PROBLEM]


# --- boards of both versions ---------------------------------------------------------------------------------------

def make_board(protocol, votes, seed="blank-board"):
    rng = SeededNonces(seed)
    dealings = [T.deal("term", i, 2, rng) for i in (1, 2, 3)]
    key = BD.key_record("term", 2, [d.public() for d in dealings])
    public_key = Point.from_hex(key["public_key"])
    secrets = {l: T.trustee_secret({d.index: d.share_for(l) for d in dealings}) for l in (1, 2, 3)}
    questions = QUESTIONS if protocol == 2 else [B.Question("topics", 3, 0, 2), OVERALL]
    sealed = [(B.seal("poll-9", public_key, questions, v, rng, protocol), "voter") for v in votes]
    sums = BD.tally(questions, [b for b, _ in sealed])
    factors = [BD.trustee_factors("poll-9", public_key, questions, sums, l, secrets[l], rng) for l in (1, 3)]
    return BD.build_board("poll-9", questions, key, sealed, factors, minimum=3, protocol=protocol)


V2_VOTES = [[[1, 0, 1, 0], [1, 0, 0]], [[0, 0, 0, 1], [0, 0, 1]], [[0, 1, 1, 0], [1, 0, 0]], [[0, 0, 0, 1], [0, 1, 0]]]


@pytest.fixture(scope="module")
def boards():
    return {1: make_board(1, [[v[0][:3], v[1]] for v in V2_VOTES]), 2: make_board(2, V2_VOTES)}


def test_boards_of_both_versions_verify_and_the_new_one_counts_blank_ballots(boards):
    v1, v2 = boards[1], boards[2]
    assert BD.verify_board(v1) == [] and BD.verify_board(v2) == []
    assert v1["format"] == "salon-sealed-board-2" and "protocol" not in v1
    assert [set(q) for q in v1["questions"]] == [{"id", "options", "min", "max"}] * 2
    assert v1["result"] == [[1, 1, 2], [2, 1, 1]]  # version 1: no blank count
    assert v2["format"] == "salon-sealed-board-3" and v2["protocol"] == "salon-sealed-2"
    assert [q["blank"] for q in v2["questions"]] == [True, False]
    assert v2["result"] == [[1, 1, 2, 2], [2, 1, 1]]  # two blank ballots
    ok, lines = BD.report(json.dumps(v2))
    assert ok and lines[-2] == "  topics: [1, 1, 2, 2] (the last: blank ballots)"


@pytest.mark.parametrize("version", [1, 2])
def test_one_byte_changed_on_a_board_of_either_version_fails(boards, version):
    text = json.dumps(boards[version], sort_keys=True)
    assert BD.verify_board_json(text) == []
    # a hex digit of a blank position's ciphertext (version 2) or of an option's (version 1)
    entry = boards[version]["ballots"][0]["ballot"]["answers"][0]["choices"][-1]["beta"]
    at = text.index(entry) + 10
    changed = text[:at] + ("0" if text[at] != "0" else "1") + text[at + 1:]
    assert BD.verify_board_json(changed)


@pytest.mark.parametrize("damage, message", [
    (lambda b: b.pop("protocol"), "is of protocol salon-sealed-2"),
    (lambda b: b.update(format="salon-sealed-board-2"), "names no protocol"),
    (lambda b: b["questions"][0].pop("blank"), "blank: true or false"),
    (lambda b: b["questions"][0].update(blank=False), "ends with its blank position"),
])
def test_a_board_whose_version_does_not_hold_together_fails(boards, damage, message):
    board = copy.deepcopy(boards[2])
    damage(board)
    problems = BD.verify_board(board)
    assert problems and message in problems[-1]


# --- below the publication minimum: the blank position is left out unless a kind names it -------------------------

def test_below_the_minimum_every_option_does_not_cover_the_blank_position():
    from salon.rules import ballots as rules

    positions = [[("q", None), ("q", None), ("q", rules.BLANK_ANSWER)], [("r", "keep"), ("r", "oppose"), ("r", None)]]
    # an election: every candidate decrypted, not the blank count
    assert rules.left_out_below_minimum(2, 3, positions, {("q", rules.EVERY_OPTION)}) == [
        [False, False, True], [True, True, True]]
    # a kind that names the blank position keeps it; at the minimum nothing is left out
    assert rules.left_out_below_minimum(2, 3, positions, {("q", rules.BLANK_ANSWER), ("r", "oppose")}) == [
        [True, True, False], [True, False, True]]
    assert rules.left_out_below_minimum(3, 3, positions, set()) == [[False] * 3, [False] * 3]
