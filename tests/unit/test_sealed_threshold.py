"""Threshold keys without a dealer and decryption of tallies by any k of n trustees (SPEC §5.1)."""
from itertools import combinations

import pytest

from salon.sealed import elgamal as E
from salon.sealed import threshold as T
from salon.sealed.group import G, N, SeededNonces, base_mul

TERM = "term-2026H2"
K, TRUSTEES = 3, 5
# Known answers of the seeded ceremony below (produced once; sealed.js reproduces them: test_sealed_js.py).
KAT_JOINT_KEY = "02bfb04ae4da360b4e255dbbcc3abfc2caf614d0a155d2496bb9f3516a54e7340d"
KAT_VERIFICATION_KEY_2 = "02666d48d204ea1e51e8f51f0103de607b1ef71a7bf14343399dacbda424123c82"
KAT_FIRST_COEFFICIENT_PROOF = {"c": "a242ea3b463960d5bb8da00fabc898b20755bf9707b79dca1878b14678cfe06e",
                               "s": "7900be5a1fb84bc3657e88fcf9cce2a7ec552b5c4777e3712d90b07d740f04cc"}
KAT_FACTOR = {"factor": "03ccaeab7472a9fd388baabb4a3c03cba875d15435ccfe1e028bca306e4909ec95",
              "proof": {"c": "da2a75c51e516a71f6c4f3feb8fd2a2d4b0f7d70abc93fd22a3b7f5e85ea9ba5",
                        "s": "c9be152b4290ad45ecddf475f8e3c75e90fbc797b6f8292de56f26779a8b44ea"}}


@pytest.fixture(scope="module")
def ceremony():
    """Five trustees deal; each keeps the sum of the shares it received. Seeded, so the key is a known answer."""
    rng = SeededNonces("salon-kat-threshold")
    dealings = [T.deal(TERM, index, K, rng) for index in range(1, TRUSTEES + 1)]
    commitments = {d.index: d.commitments for d in dealings}
    secrets = {l: T.trustee_secret({d.index: d.share_for(l) for d in dealings}) for l in range(1, TRUSTEES + 1)}
    key = T.joint_key(commitments)
    tally_ciphertext = E.encrypt(key, 1, rng.scalar())
    factor = T.decryption_factor("poll-1", key, "q", 0, 2, secrets[2], tally_ciphertext, rng)
    return dealings, commitments, secrets, key, tally_ciphertext, factor


def test_known_answers(ceremony):
    dealings, commitments, secrets, key, tally_ciphertext, factor = ceremony
    assert key.hex() == KAT_JOINT_KEY
    assert T.verification_key(commitments, 2).hex() == KAT_VERIFICATION_KEY_2
    assert dealings[0].proofs[0].to_json() == KAT_FIRST_COEFFICIENT_PROOF
    assert factor.to_json() == KAT_FACTOR


def test_k_must_be_at_least_two_and_at_most_n():
    for k, n in ((1, 3), (4, 3), (0, 0)):
        with pytest.raises(ValueError):
            T.check_parameters(k, n)
    T.check_parameters(2, 2)


def test_every_dealt_share_passes_feldmans_check_and_a_wrong_one_fails(ceremony):
    dealings, commitments, secrets, key, *_ = ceremony
    for dealing in dealings:
        for recipient in range(1, TRUSTEES + 1):
            share = dealing.share_for(recipient)
            assert T.share_is_valid(dealing.commitments, recipient, share)
            assert not T.share_is_valid(dealing.commitments, recipient, (share + 1) % N)
        assert not T.share_is_valid(dealing.commitments, 2, dealing.share_for(3))


def test_coefficient_proofs_hold_and_do_not_move_to_another_term_or_trustee(ceremony):
    dealings = ceremony[0]
    first, second = dealings[0], dealings[1]
    assert T.coefficients_are_proven(TERM, 1, first.commitments, first.proofs)
    assert not T.coefficients_are_proven("term-2027H1", 1, first.commitments, first.proofs)
    assert not T.coefficients_are_proven(TERM, 2, first.commitments, first.proofs)
    assert not T.coefficients_are_proven(TERM, 2, second.commitments, first.proofs)
    assert not T.coefficients_are_proven(TERM, 1, first.commitments, first.proofs[:-1])


def test_verification_keys_are_recomputed_from_the_commitments_alone(ceremony):
    _, commitments, secrets, key, *_ = ceremony
    for trustee, secret in secrets.items():
        assert T.verification_key(commitments, trustee) == base_mul(secret)
    joint_secret = sum(T.lagrange_at_zero(t, [1, 2, 3]) * secrets[t] for t in (1, 2, 3)) % N
    assert base_mul(joint_secret) == key


def tally_of(key, counts, rng):
    """A tally ciphertext of `counts` approvals among `counts + 2` ballots."""
    ballots = [E.encrypt(key, 1, rng.scalar()) for _ in range(counts)]
    ballots += [E.encrypt(key, 0, rng.scalar()) for _ in range(2)]
    return E.add_all(ballots)


def test_every_k_subset_decrypts_the_same_sums_including_zero(ceremony):
    _, _, secrets, key, *_ = ceremony
    rng = SeededNonces("subsets")
    for count in (0, 1, 4):
        ciphertext = tally_of(key, count, rng)
        factors = {t: ciphertext.alpha.mul(s) for t, s in secrets.items()}
        found = set()
        for size in (K, K + 1, TRUSTEES):
            for group in combinations(sorted(secrets), size):
                combined = T.combine({t: factors[t] for t in group}, K)
                found.add(E.discrete_log(ciphertext.beta, combined, count + 2))
        assert found == {count}


def test_fewer_than_k_trustees_cannot_decrypt(ceremony):
    _, _, secrets, key, *_ = ceremony
    ciphertext = tally_of(key, 3, SeededNonces("fewer"))
    factors = {t: ciphertext.alpha.mul(secrets[t]) for t in (1, 4)}
    with pytest.raises(T.NotEnoughTrustees):
        T.combine(factors, K)
    # and interpolating through two shares of a degree-2 polynomial gives a factor that decrypts nothing
    assert E.discrete_log(ciphertext.beta, T.combine(factors, 2), 1000) is None


def test_a_wrong_decryption_share_is_rejected(ceremony):
    _, commitments, secrets, key, ciphertext, factor = ceremony
    x2 = T.verification_key(commitments, 2)
    assert T.factor_is_valid("poll-1", key, "q", 0, x2, ciphertext, factor)
    assert not T.factor_is_valid("poll-2", key, "q", 0, x2, ciphertext, factor)
    assert not T.factor_is_valid("poll-1", key, "q", 1, x2, ciphertext, factor)
    assert not T.factor_is_valid("poll-1", key, "q", 0, T.verification_key(commitments, 3), ciphertext, factor)
    shifted = T.Factor(2, factor.factor + G, factor.proof)
    assert not T.factor_is_valid("poll-1", key, "q", 0, x2, ciphertext, shifted)
    rng = SeededNonces("wrong")
    by_wrong_secret = T.decryption_factor("poll-1", key, "q", 0, 2, secrets[3], ciphertext, rng)
    assert not T.factor_is_valid("poll-1", key, "q", 0, x2, ciphertext, by_wrong_secret)
