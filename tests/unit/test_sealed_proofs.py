"""The sealed-ballot group, ElGamal and proofs (SPEC §5.1, docs/sealed-ballots.md): known answers and rejections.

The vectors below were produced once with the seeded test nonces and are written here as literals; the
browser's sealed.js reproduces them byte for byte (tests/unit/test_sealed_js.py), so they do not only check the
Python against itself.
"""
import copy

import pytest

from salon.sealed import ballot as B
from salon.sealed import elgamal as E
from salon.sealed import proofs as P
from salon.sealed.group import (
    IDENTITY, N, EncodingError, G, Point, SeededNonces, base_mul, hash_to_scalar, mul_add_base, point_sum,
    scalar_from_hex, scalar_hex,
)

KAT_SECRET = "79f6e3b4f73592d6bf6ba5952451e856c4b757ae4b89cfa385442343fee4376f"
KAT_KEY = "03e4419bffd1d5f3c69966ef6277bdbb9f8c00e968016eabf97fc04457df84a307"
KAT_NONCE = "f48470af57a4b601ed14332f3e0693bcdec4629ecd6099a4b83f205558a5a172"
KAT_CIPHERTEXT_OF_1 = {"alpha": "0371ea808615b143cb80f73e65c4fcd04469e08a307227d4ae40ee10b354c659bf",
                       "beta": "036c35a1e4022b00b2eeb8503817a29baaf1a5ef0cbb6ca1763df10ea4f441cfed"}
KAT_BIT_PROOF = [
    {"c": "488b3aad758606955d5c7d3d1a31dc30a7048a29a6f1b2dccff99f6f7e814f06",
     "s": "ceff4364053fdfdc49dfcde6a21ee1aa89bfdfb0eefa7c1c884a263869c4b672"},
    {"c": "f8912581b5476a17fe42b2f98aaee61a512b2c24f96c63fe664664f1e7aece75",
     "s": "f8d0adeafafba2f285e0feef91b830b3b153f52bbde4cf7a35cf01f1f7aeb9dc"},
]
KAT_BALLOT_FINGERPRINT = "566801bf55e4d349ceecda3a3c12d43a9d2fd53ecdf419a6e7067e978b6022c6"
KAT_SINGLE_CHOICE_PROOF = [{"c": "4c14b5239945807d07f232aa78dd5397e27839604d50a038f8f72eaa33151b03",
                            "s": "4b0e167b60d5adbe623269f9f87e7e564fb0f6360da6ad784eb77edbd6f8e214"}]
KAT_QUESTIONS = [B.Question("topics", 3, 0, 2), B.Question("overall", 3, 1, 1)]
KAT_CHOICES = [[1, 0, 1], [0, 1, 0]]


def kat_run():
    """The known-answer run: key, one ciphertext with its bit proof, then a whole ballot, from one nonce stream."""
    rng = SeededNonces("salon-kat")
    secret = rng.scalar()
    key = base_mul(secret)
    nonce = rng.scalar()
    ciphertext = E.encrypt(key, 1, nonce)
    proof = P.prove_one_of(P.bit_context("poll-1", key, "q", 0), key, ciphertext, [0, 1], 1, nonce, rng)
    ballot = B.seal("poll-1", key, KAT_QUESTIONS, KAT_CHOICES, rng)
    return secret, key, nonce, ciphertext, proof, ballot


@pytest.fixture(scope="module")
def kat():
    return kat_run()


def test_the_generator_and_its_double_are_the_standard_points():
    assert G.hex() == "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    assert base_mul(2).hex() == "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5"
    assert (G + G) == base_mul(2) == G.mul(2)


def test_the_identity_is_handled_explicitly():
    p = base_mul(12345)
    assert (p - p).is_identity and (p - p) == IDENTITY
    assert p.mul(0).is_identity and p.mul(N).is_identity and base_mul(0).is_identity
    assert p + IDENTITY == p and IDENTITY.hex() == "00"
    assert point_sum([]) == IDENTITY
    assert Point.from_hex("00", allow_identity=True) == IDENTITY
    with pytest.raises(EncodingError):
        Point.from_hex("00")
    assert mul_add_base(5, p, N - 5 * 12345) == IDENTITY  # 5·(12345·G) − 61725·G
    assert mul_add_base(3, p, 7) == p.mul(3) + base_mul(7)


def test_negation_flips_the_parity_and_the_double_multiplication_matches_the_plain_one():
    p = base_mul(777)
    assert -p == base_mul(N - 777) and (-IDENTITY).is_identity and p - p == IDENTITY
    # a point whose x-coordinate is at least the group order: the recovery id's second bit is needed
    high = Point.from_hex("02fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
    for q in (p, -p, high, -high, G):
        for a, b in ((5, 9), (N - 1, 1), (123456789, N - 2), (1, 0), (0, 3)):
            assert mul_add_base(a, q, b) == q.mul(a) + base_mul(b)


def test_small_logs_read_counts_up_to_the_bound():
    logs = E.SmallLogs(600)
    factor = base_mul(31337)
    assert logs.log(factor, factor) == 0
    assert logs.log(factor + base_mul(600), factor) == 600
    assert logs.log(factor + base_mul(601), factor) is None
    assert logs.log(factor - G, factor) is None


def test_m_equal_to_zero_decrypts_to_zero_without_dividing_by_the_identity():
    secret = 99
    ciphertext = E.encrypt(base_mul(secret), 0, 1234)
    assert E.discrete_log(ciphertext.beta, ciphertext.alpha.mul(secret), 10) == 0
    three = E.add_all([E.encrypt(base_mul(secret), 1, r) for r in (5, 6, 7)])
    assert E.discrete_log(three.beta, three.alpha.mul(secret), 10) == 3
    assert E.discrete_log(three.beta, three.alpha.mul(secret), 2) is None


@pytest.mark.parametrize("text", [
    "04" + "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798" * 2,  # uncompressed
    "0279BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798",  # not lowercase
    "02" + "ff" * 32,  # x beyond the field
    "020000000000000000000000000000000000000000000000000000000000000005",  # x³+7 not a square: off the curve
    "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f817",  # short
    "zz", "", None, 5,
])
def test_points_that_are_not_compressed_curve_points_are_refused(text):
    with pytest.raises(EncodingError):
        Point.from_hex(text)


def test_scalars_must_be_below_the_order():
    assert scalar_from_hex(scalar_hex(N - 1)) == N - 1
    for text in (scalar_hex(0)[:-1], "f" * 64, f"{N:064x}", "A" * 64):
        with pytest.raises(EncodingError):
            scalar_from_hex(text)


def test_the_transcript_hash_is_domain_separated_and_length_prefixed():
    key = Point.from_hex(KAT_KEY)
    assert scalar_hex(hash_to_scalar("bit", "poll-1", key, "q", 0)) == \
        "55ba75767585b9fb6530432865f99d66aa6464add1c636021958b78e1be8e215"
    assert hash_to_scalar("bit", "ab", "c") != hash_to_scalar("bit", "a", "bc")
    assert hash_to_scalar("bit", "x") != hash_to_scalar("sum", "x")


def test_known_answers(kat):
    secret, key, nonce, ciphertext, proof, ballot = kat
    assert scalar_hex(secret) == KAT_SECRET and key.hex() == KAT_KEY and scalar_hex(nonce) == KAT_NONCE
    assert ciphertext.to_json() == KAT_CIPHERTEXT_OF_1
    assert [b.to_json() for b in proof] == KAT_BIT_PROOF
    assert B.fingerprint(ballot) == KAT_BALLOT_FINGERPRINT
    assert ballot["answers"][1]["proof"] == KAT_SINGLE_CHOICE_PROOF
    assert B.verify(ballot, "poll-1", key, KAT_QUESTIONS) == []


@pytest.fixture()
def key_tables_at_once(monkeypatch):
    """A key's FixedBase table from its first use (normally after FIXED_BASE_AFTER uses), none cached before."""
    from salon.sealed import group

    monkeypatch.setattr(group, "FIXED_BASE_AFTER", 1)
    monkeypatch.setattr(group, "_fixed", type(group._fixed)())
    monkeypatch.setattr(group, "_uses", {})
    return group


def test_the_key_table_multiplies_as_the_plain_multiplication_on_edge_scalars(key_tables_at_once):
    key = Point.from_hex(KAT_KEY)
    scalars = [0, 1, 2, 255, 256, 257, N - 1, N - 2, N, N + 5, 1 << 255, (1 << 256) - 1, 0xFF << 248,
               int.from_bytes(bytes(range(1, 33)), "big")]
    for k in scalars:
        assert key_tables_at_once.key_mul_add(key, k) == key.mul(k)
        assert key_tables_at_once.key_mul_add(key, k, G, IDENTITY) == key.mul(k) + G
    assert key_tables_at_once.key_mul_add(key, 5, key.mul(N - 5)) == IDENTITY  # a sum at infinity
    assert key_tables_at_once.key_mul_add(key, 0) == IDENTITY
    assert key_tables_at_once.key_mul_add(IDENTITY, 7, G) == G
    assert len(key_tables_at_once._fixed) == 1  # the table was used, not the plain path


def test_known_answers_and_rejections_hold_through_the_key_table(key_tables_at_once):
    secret, key, nonce, ciphertext, proof, ballot = kat_run()
    assert [b.to_json() for b in proof] == KAT_BIT_PROOF and B.fingerprint(ballot) == KAT_BALLOT_FINGERPRINT
    assert B.verify(ballot, "poll-1", key, KAT_QUESTIONS) == []
    tampered = copy.deepcopy(ballot)
    tampered["answers"][0]["choices"][1]["proof"][0]["s"] = scalar_hex(
        scalar_from_hex(tampered["answers"][0]["choices"][1]["proof"][0]["s"]) + 1)
    assert B.verify(tampered, "poll-1", key, KAT_QUESTIONS)
    assert key.to_bytes() in key_tables_at_once._fixed


def test_the_bit_proof_vector_verifies_and_any_changed_part_fails():
    key = Point.from_hex(KAT_KEY)
    ciphertext = E.Ciphertext.from_json(KAT_CIPHERTEXT_OF_1)
    proof = [P.Branch.from_json(b) for b in KAT_BIT_PROOF]
    context = P.bit_context("poll-1", key, "q", 0)
    assert P.verify_one_of(context, key, ciphertext, [0, 1], proof)
    assert not P.verify_one_of(P.bit_context("poll-2", key, "q", 0), key, ciphertext, [0, 1], proof)
    assert not P.verify_one_of(P.bit_context("poll-1", key, "q2", 0), key, ciphertext, [0, 1], proof)
    assert not P.verify_one_of(P.bit_context("poll-1", key, "q", 1), key, ciphertext, [0, 1], proof)
    assert not P.verify_one_of(P.bit_context("poll-1", G, "q", 0), G, ciphertext, [0, 1], proof)
    swapped = [P.Branch(proof[0].c, (proof[0].s + 1) % N), proof[1]]
    assert not P.verify_one_of(context, key, ciphertext, [0, 1], swapped)


# --- rejections: a cheating client builds what an honest seal() refuses to -------------------------------------

KEY_SECRET = 424242
KEY = base_mul(KEY_SECRET)


def forged_answer(poll, question, values_by_option, claimed_by_option, rng):
    """Ciphertexts of `values_by_option`, each with a 0-or-1 proof made as if it held `claimed`."""
    choices, nonces, ciphertexts = [], [], []
    for option, (value, claimed) in enumerate(zip(values_by_option, claimed_by_option)):
        r = rng.scalar()
        ciphertext = E.encrypt(KEY, value, r)
        proof = P.prove_one_of(P.bit_context(poll, KEY, question.id, option), KEY, ciphertext, [0, 1], claimed,
                               r, rng)
        choices.append({**ciphertext.to_json(), "proof": [b.to_json() for b in proof]})
        nonces.append(r)
        ciphertexts.append(ciphertext)
    claimed_total = min(max(sum(values_by_option), question.min), question.max)
    sum_proof = P.prove_one_of(P.sum_context(poll, KEY, question.id, question.min, question.max), KEY,
                               E.add_all(ciphertexts), question.totals, claimed_total, sum(nonces), rng)
    return {"poll": poll, "answers": [{"question": question.id, "choices": choices,
                                       "proof": [b.to_json() for b in sum_proof]}]}


def test_an_honest_ballot_passes():
    question = B.Question("q", 4, 0, 3)
    ballot = B.seal("poll-1", KEY, [question], [[1, 1, 0, 1]], SeededNonces("honest"))
    assert B.verify(ballot, "poll-1", KEY, [question]) == []


def test_seal_refuses_what_breaks_the_rule():
    question = B.Question("q", 3, 1, 1)
    for choices in ([[2, 0, 0]], [[1, 1, 0]], [[0, 0, 0]], [[1, 0]], [[True, 0, 0]]):
        with pytest.raises(B.InvalidChoice):
            B.seal("poll-1", KEY, [question], choices, SeededNonces("refuse"))


def test_an_answer_of_two_is_rejected():
    question = B.Question("q", 3, 0, 3)
    ballot = forged_answer("poll-1", question, [2, 0, 0], [1, 0, 0], SeededNonces("two"))
    problems = B.verify(ballot, "poll-1", KEY, [question])
    assert problems == ["question q option 0: the answer is not proven 0 or 1"]


def test_more_approvals_than_k_are_rejected():
    question = B.Question("q", 5, 0, 3)
    ballot = forged_answer("poll-1", question, [1, 1, 1, 1, 0], [1, 1, 1, 1, 0], SeededNonces("four"))
    assert B.verify(ballot, "poll-1", KEY, [question]) == [
        "question q: the number of answers is not proven to lie in 0 … 3"]


def test_two_answers_to_a_single_choice_question_are_rejected():
    question = B.Question("overall", 3, 1, 1)
    ballot = forged_answer("poll-1", question, [1, 1, 0], [1, 1, 0], SeededNonces("double"))
    assert B.verify(ballot, "poll-1", KEY, [question]) == [
        "question overall: the number of answers is not proven to lie in 1 … 1"]
    wider = B.seal("poll-1", KEY, [B.Question("overall", 3, 0, 2)], [[1, 1, 0]], SeededNonces("wider"))
    assert B.verify(wider, "poll-1", KEY, [question])  # a proof over other totals does not pass either


def test_a_ballot_replayed_from_another_poll_is_rejected():
    question = B.Question("q", 3, 0, 2)
    ballot = B.seal("poll-A", KEY, [question], [[1, 0, 0]], SeededNonces("replay"))
    assert B.verify(ballot, "poll-B", KEY, [question]) == ["the ballot belongs to another poll"]
    relabelled = {**ballot, "poll": "poll-B"}
    assert len(B.verify(relabelled, "poll-B", KEY, [question])) == 4  # three bit proofs and the sum proof


def test_an_answer_replayed_under_another_question_or_option_is_rejected():
    first, second = B.Question("q1", 3, 0, 2), B.Question("q2", 3, 0, 2)
    ballot = B.seal("poll-1", KEY, [first, second], [[1, 0, 0], [0, 1, 0]], SeededNonces("move"))
    moved = copy.deepcopy(ballot)
    moved["answers"][1] = {**copy.deepcopy(ballot["answers"][0]), "question": "q2"}
    assert len(B.verify(moved, "poll-1", KEY, [first, second])) == 4
    shuffled = copy.deepcopy(ballot)
    choices = shuffled["answers"][0]["choices"]
    choices[0], choices[1] = choices[1], choices[0]
    assert B.verify(shuffled, "poll-1", KEY, [first, second]) == [
        "question q1 option 0: the answer is not proven 0 or 1",
        "question q1 option 1: the answer is not proven 0 or 1"]


def test_a_tampered_ciphertext_is_rejected():
    question = B.Question("q", 3, 0, 2)
    ballot = B.seal("poll-1", KEY, [question], [[0, 1, 0]], SeededNonces("tamper"))
    tampered = copy.deepcopy(ballot)
    choice = tampered["answers"][0]["choices"][1]
    choice["beta"] = (Point.from_hex(choice["beta"]) - G).hex()  # now encrypts 0: a vote taken away
    problems = B.verify(tampered, "poll-1", KEY, [question])
    assert "question q option 1: the answer is not proven 0 or 1" in problems
    assert "question q: the number of answers is not proven to lie in 0 … 2" in problems


@pytest.mark.parametrize("damage", [
    lambda b: b["answers"][0]["choices"][0].update(alpha="00"),
    lambda b: b["answers"][0]["choices"][0].update(beta="05" + "00" * 32),
    lambda b: b["answers"][0]["choices"][0]["proof"].pop(),
    lambda b: b["answers"][0]["proof"][0].update(c="f" * 64),
    lambda b: b["answers"][0]["choices"].pop(),
    lambda b: b["answers"].clear(),
    lambda b: b["answers"][0].update(question="other"),
    lambda b: b.update(answers="x"),
])
def test_malformed_ballots_give_a_problem_not_an_exception(damage):
    question = B.Question("q", 3, 0, 2)
    ballot = B.seal("poll-1", KEY, [question], [[0, 1, 0]], SeededNonces("malformed"))
    damage(ballot)
    assert B.verify(ballot, "poll-1", KEY, [question])
