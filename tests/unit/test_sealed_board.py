"""The bulletin board and its verifier (SPEC §5.1): anyone recomputes everything from the board alone."""
import copy
import json
import random

import pytest

from salon.sealed import ballot as B
from salon.sealed import board as BD
from salon.sealed import threshold as T
from salon.sealed.group import G, Point, SeededNonces

POLL = "poll-9"
QUESTIONS = [B.Question("topics", 4, 0, 2), B.Question("overall", 3, 1, 1)]
VOTES = [[[1, 0, 1, 0], [1, 0, 0]], [[0, 0, 0, 0], [0, 1, 0]], [[0, 1, 1, 0], [1, 0, 0]]]


def make_board(votes, decrypting=(1, 3), seed="board", indexes=(1, 2, 3), minimum=3, undecrypted=None, withheld=None):
    """A board of `votes` with the publication minimum `minimum` (SPEC §5): the trustees decrypt all but the sums
    marked `undecrypted`, the board withholds those marked `withheld` (by default: the undecrypted ones)."""
    rng = SeededNonces(seed)
    dealings = [T.deal("term", i, 2, rng) for i in indexes]
    key = BD.key_record("term", 2, [d.public() for d in dealings])
    public_key = Point.from_hex(key["public_key"])
    secrets = {l: T.trustee_secret({d.index: d.share_for(l) for d in dealings}) for l in indexes}
    sealed = [(B.seal(POLL, public_key, QUESTIONS, v, rng), "server" if i == 1 else "voter")
              for i, v in enumerate(votes)]
    sums = BD.tally(QUESTIONS, [b for b, _ in sealed])
    factors = [BD.trustee_factors(POLL, public_key, QUESTIONS, sums, l, secrets[l], rng, undecrypted)
               for l in decrypting]
    return BD.build_board(POLL, QUESTIONS, key, sealed, factors, minimum=minimum,
                          withheld=withheld if withheld is not None else undecrypted), secrets


@pytest.fixture(scope="module")
def board():
    return make_board(VOTES)[0]


def test_a_correct_board_verifies_and_carries_the_counts(board):
    assert BD.verify_board(board) == []
    assert board["result"] == [[1, 1, 2, 0], [2, 1, 0]]
    assert [e["sealed_by"] for e in board["ballots"]].count("server") == 1
    fingerprints = [e["fingerprint"] for e in board["ballots"]]
    assert fingerprints == sorted(fingerprints)  # no order of casting


def test_a_poll_without_ballots_decrypts_to_zeros_through_the_identity():
    empty, _ = make_board([], seed="empty", minimum=0)
    assert empty["tally"][0][0] == {"alpha": "00", "beta": "00"}
    assert empty["result"] == [[0, 0, 0, 0], [0, 0, 0]]
    assert BD.verify_board(empty) == []


def test_any_k_trustees_give_the_same_board_result():
    for group in ((1, 2), (2, 3), (1, 2, 3)):
        other, _ = make_board(VOTES, decrypting=group)
        assert other["result"] == [[1, 1, 2, 0], [2, 1, 0]] and BD.verify_board(other) == []


def test_a_key_whose_trustee_2_was_dropped_from_the_ceremony_verifies_with_its_gap():
    # trustee 2's share was bad (docs/sealed-ballots.md, "Complaints"): 1, 3 and 4 made the key, k = 2
    gap, _ = make_board(VOTES, decrypting=(3, 4), seed="gap", indexes=(1, 3, 4))
    assert BD.verify_board(gap) == [] and gap["result"] == [[1, 1, 2, 0], [2, 1, 0]]
    repeated = copy.deepcopy(gap)
    repeated["key"]["trustees"][1]["index"] = 1  # two trustees 1
    assert BD.verify_board(repeated)
    zero = copy.deepcopy(gap)
    zero["key"]["trustees"][0]["index"] = 0  # index 0 would hold the secret itself
    assert BD.verify_board(zero)


def test_a_voter_finds_their_fingerprint(board):
    receipt = board["ballots"][0]["fingerprint"]
    assert BD.find_receipt(board, receipt)
    assert not BD.find_receipt(board, "0" * 64)
    ok, lines = BD.report(json.dumps(board), receipt)
    assert ok and lines[0].startswith("OK: poll poll-9, 3 ballots") and lines[-1] == f"receipt {receipt}: on the board"
    ok, lines = BD.report(json.dumps(board), "0" * 64)
    assert not ok and lines[-1] == f"receipt {'0' * 64}: NOT on the board"


def test_a_board_with_one_byte_changed_fails_the_verifier(board):
    text = json.dumps(board, sort_keys=True, separators=(",", ":"))
    assert BD.verify_board_json(text) == []
    sample = random.Random(17)  # seeded: the same positions every run, spread over the whole document
    positions = sorted(sample.sample(range(len(text)), 90))
    for section in ("decryptions", "format", "key", "minimum", "poll", "public_key", "questions", "result", "tally",
                    "threshold", "sealed_by", "fingerprint", "withheld"):  # and a few bytes into every part, by name
        start = text.index(f'"{section}":') + len(section) + 3
        positions += range(start, start + 6)
    hexdigits = "0123456789abcdef"
    for position in positions:
        old = text[position]
        new = hexdigits[(hexdigits.index(old) + 1) % 16] if old in hexdigits else ("x" if old != "x" else "y")
        changed = text[:position] + new + text[position + 1:]
        assert BD.verify_board_json(changed), f"byte {position} ({old!r} → {new!r}) went unnoticed"


def test_a_wrong_decryption_share_on_the_board_is_named(board):
    bad = copy.deepcopy(board)
    item = bad["decryptions"][1]["factors"][0][2]
    item["factor"] = (Point.from_hex(item["factor"]) + G).hex()
    problems = BD.verify_board(bad)
    assert "trustee 3: the decryption of question topics option 2 is not proven" in problems
    assert "only 1 of the 2 trustees needed decrypted with valid proofs" in problems


def test_fewer_than_k_decrypting_trustees_fail():
    short, _ = make_board(VOTES, decrypting=(1, 2))
    short["decryptions"] = short["decryptions"][:1]
    assert BD.verify_board(short) == ["only 1 of the 2 trustees needed decrypted with valid proofs"]


def test_a_changed_count_a_removed_or_copied_ballot_are_found(board):
    changed = copy.deepcopy(board)
    changed["result"][0][0] = 2
    assert BD.verify_board(changed) == [
        "question topics option 0: the published count 2 is not what the trustees decrypted (1)"]

    removed = copy.deepcopy(board)
    removed["ballots"].pop()
    assert "question topics option 0: the tally is not the sum of the ballots" in BD.verify_board(removed) or \
        "question topics option 1: the tally is not the sum of the ballots" in BD.verify_board(removed)

    copied = copy.deepcopy(board)
    copied["ballots"].insert(1, copy.deepcopy(copied["ballots"][0]))
    problems = BD.verify_board(copied)
    name = f"ballot {board['ballots'][0]['fingerprint']}"
    assert f"{name}: ballots must be sorted by fingerprint, each once" in problems
    assert f"{name}: repeats a ciphertext already on the board (a copied ballot)" in problems


def test_a_ballot_of_another_poll_on_the_board_is_found(board):
    foreign = copy.deepcopy(board)
    key = Point.from_hex(board["key"]["public_key"])
    ballot = B.seal("poll-8", key, QUESTIONS, VOTES[0], SeededNonces("foreign"))
    foreign["ballots"][0] = {"fingerprint": B.fingerprint(ballot), "sealed_by": "voter", "ballot": ballot}
    foreign["ballots"].sort(key=lambda e: e["fingerprint"])
    assert f"ballot {B.fingerprint(ballot)}: the ballot belongs to another poll" in BD.verify_board(foreign)


@pytest.mark.parametrize("damage", [
    lambda b: b.update(format="other"),
    lambda b: b.update(questions=[]),
    lambda b: b["key"].update(threshold=1),
    lambda b: b["key"]["trustees"].reverse(),
    lambda b: b["key"].update(public_key=b["key"]["trustees"][0]["commitments"][0]),
    lambda b: b["ballots"][0].update(sealed_by="nobody"),
    lambda b: b["ballots"][0].update(ballot=None),
    lambda b: b["decryptions"][0].update(trustee=7),
    lambda b: b["decryptions"].append(copy.deepcopy(b["decryptions"][0])),
    lambda b: b.update(tally=[]),
    lambda b: b.update(result=None),
    lambda b: b.pop("key"),
])
def test_malformed_boards_give_problems_not_exceptions(board, damage):
    bad = copy.deepcopy(board)
    damage(bad)
    assert BD.verify_board(bad)
    assert BD.verify_board_json("{not json") and BD.verify_board([]) and BD.verify_board(None)


# --- SPEC §5's publication minimum: sums never decrypted, counts withheld ----------------------------------------

TWO = VOTES[:2]  # one ballot fewer than the minimum of 3
ONLY_OPPOSE = [[True] * 4, [True, False, True]]  # a review's way: only the overall question's second option


def test_below_the_minimum_the_trustees_leave_the_undecrypted_sums_alone_and_the_board_verifies():
    board, _ = make_board(TWO, undecrypted=ONLY_OPPOSE)
    assert BD.verify_board(board) == []
    assert board["minimum"] == 3 and board["withheld"] == ONLY_OPPOSE
    assert board["result"] == [[None] * 4, [None, 1, None]]
    for decryption in board["decryptions"]:
        assert [[f is not None for f in row] for row in decryption["factors"]] == [[False] * 4, [False, True, False]]
    ok, lines = BD.report(json.dumps(board))
    assert ok and "  topics: [withheld, withheld, withheld, withheld]" in lines
    assert "  overall: [withheld, 1, withheld]" in lines
    assert any("fewer ballots than the minimum of 3" in line for line in lines)


def test_a_board_with_nothing_decrypted_needs_no_trustee():
    everything = [[True] * 4, [True] * 3]
    board, _ = make_board(TWO, decrypting=(), undecrypted=everything)
    assert board["decryptions"] == [] and BD.verify_board(board) == []


def test_counts_decrypted_for_the_outcome_but_withheld_leave_their_factors_off_the_board():
    """An election below the minimum: decrypted (who won needs them), not published."""
    everything = [[True] * 4, [True] * 3]
    board, _ = make_board(TWO, withheld=everything)
    assert board["decryptions"] == [] and board["result"] == [[None] * 4, [None] * 3]
    assert BD.verify_board(board) == []


def test_withholding_that_does_not_keep_the_minimum_is_found():
    at_minimum, _ = make_board(VOTES, undecrypted=ONLY_OPPOSE)  # 3 ballots: nothing may be withheld
    assert BD.verify_board(at_minimum) == [
        "counts are withheld although 3 ballots reach the publication minimum (3)"]
    below, _ = make_board(TWO)  # 2 ballots, every count published
    assert BD.verify_board(below) == [
        "every count is published although 2 ballots are fewer than the publication minimum (3)"]


def test_a_withheld_count_or_its_decryption_on_the_board_is_found():
    board, _ = make_board(TWO, undecrypted=ONLY_OPPOSE)
    full, _ = make_board(TWO, withheld=ONLY_OPPOSE)
    leaked = copy.deepcopy(board)
    leaked["result"][0][0] = 1
    assert BD.verify_board(leaked) == ["question topics option 0: a count is published although withheld (1)"]
    factors = copy.deepcopy(board)
    factors["decryptions"][0]["factors"][0][0] = make_board(TWO, minimum=0)[0]["decryptions"][0]["factors"][0][0]
    assert "trustee 1: a decryption of question topics option 0 is published, whose count is withheld" in \
        BD.verify_board(factors)
    # the server leaves decrypted-but-withheld factors off: the same factors shown as if never decrypted
    shown = [[[f and f["factor"] for f in row] for row in d["factors"]] for d in full["decryptions"]]
    assert shown == [[[f and f["factor"] for f in row] for row in d["factors"]] for d in board["decryptions"]]


def test_a_board_of_the_first_format_is_read_as_nothing_withheld(board):
    old = copy.deepcopy(board)
    old["format"] = "salon-sealed-board-1"
    del old["minimum"], old["withheld"]
    assert BD.verify_board(old) == []
