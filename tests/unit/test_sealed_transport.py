"""A share's transport between trustees' devices and a complaint's evidence (salon.sealed.transport; docs/
sealed-ballots.md, "Complaints, decided by evidence"): AES-256 and GCM against the standards' vectors, HKDF
against RFC 5869, the browser's trustees.js and sealed.js against the Python byte for byte (under node, as
test_sealed_js), and the verdict on each kind of share."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from salon.sealed import threshold, transport
from salon.sealed.group import N, SeededNonces, base_mul
from tests.unit.test_sealed_js import HAVE_NODE, ROOT

TERM, ROUND, DEALER, RECIPIENT = "p1-k7", 2, 3, 1
IV = bytes.fromhex("000102030405060708090a0b")


# --- the primitives against published vectors ----------------------------------------------------------------------

def test_aes256_matches_fips_197_appendix_c3():
    assert transport.aes256_encrypt_block(bytes(range(32)), bytes.fromhex("00112233445566778899aabbccddeeff")) \
        == bytes.fromhex("8ea2b7ca516745bfeafc49904b496089")
    assert (transport.SBOX[0], transport.SBOX[1], transport.SBOX[0x53]) == (0x63, 0x7C, 0xED)


def test_gcm_matches_the_gcm_specifications_aes256_test_cases_13_and_14():
    assert transport.gcm_encrypt(bytes(32), bytes(12), b"", b"").hex() == "530f8afbc74536b9a963b4f1c4cb738b"
    assert transport.gcm_encrypt(bytes(32), bytes(12), bytes(16), b"").hex() == (
        "cea7403d4d606b6e074ec5d3baf39d18" "d0d1c8a799996bf0265b98b5d48ab919")


def test_gcm_with_associated_data_matches_webcrypto_and_refuses_any_change():
    key, plain, aad = bytes(i * 7 % 256 for i in range(32)), bytes(255 - i for i in range(32)), b"p1-k2:1:2:3"
    sealed = transport.gcm_encrypt(key, bytes(range(1, 13)), plain, aad)
    # node: crypto.subtle.encrypt({name: 'AES-GCM', iv: 1…12, additionalData}, key, plain), once
    assert sealed.hex() == ("385fb81ce5fc6d64aeacfd26752d022a9fcf31e762b7f5bf2d7d33e3fc647744"
                            "5f1ab84c8e0de72ed4da62e3c8ba3d69")
    assert transport.gcm_decrypt(key, bytes(range(1, 13)), sealed, aad) == plain
    assert transport.gcm_decrypt(key, bytes(range(1, 13)), sealed, b"p1-k2:1:2:4") is None  # another pair
    assert transport.gcm_decrypt(key, bytes(range(1, 13)), sealed[:-1] + b"\0", aad) is None  # tag altered
    assert transport.gcm_decrypt(key, bytes(range(1, 13)), bytes([sealed[0] ^ 1]) + sealed[1:], aad) is None


def test_hkdf_matches_rfc_5869_test_case_1():
    assert transport.hkdf_sha256(bytes([0x0B]) * 22, bytes(range(13)), bytes(range(0xF0, 0xFA)), 42).hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")


# --- the complaint's verdict ---------------------------------------------------------------------------------------

def parties(share_offset=0):
    rng = SeededNonces("transport")
    dealer_secret, recipient_secret = rng.scalar(), rng.scalar()
    dealing = threshold.deal(TERM, DEALER, 2, rng)
    value = (dealing.share_for(RECIPIENT) + share_offset) % N
    shared = transport.shared_point(dealer_secret, base_mul(recipient_secret))
    text = transport.encrypt_share(shared, transport.associated_data(TERM, ROUND, DEALER, RECIPIENT), value, IV)
    return dealer_secret, recipient_secret, dealing, value, text


def judge(recipient_secret, dealer_secret, dealing, text, seed="ev"):
    point, proof = transport.prove_shared_point(TERM, ROUND, DEALER, RECIPIENT, recipient_secret,
                                                base_mul(dealer_secret), SeededNonces(seed))
    return transport.judge_complaint(TERM, ROUND, DEALER, RECIPIENT, list(dealing.commitments),
                                     base_mul(dealer_secret), base_mul(recipient_secret), text, point.hex(),
                                     proof.to_json())


def test_both_devices_derive_the_same_point_and_the_recipient_opens_its_share():
    dealer_secret, recipient_secret, _d, value, text = parties()
    assert transport.shared_point(recipient_secret, base_mul(dealer_secret)) \
        == transport.shared_point(dealer_secret, base_mul(recipient_secret))
    shared = transport.shared_point(recipient_secret, base_mul(dealer_secret))
    assert transport.open_share(shared, transport.associated_data(TERM, ROUND, DEALER, RECIPIENT), text) == value
    assert transport.open_share(shared, transport.associated_data(TERM, ROUND + 1, DEALER, RECIPIENT), text) is None


def test_a_good_share_rejects_the_complaint_and_is_published():
    dealer_secret, recipient_secret, dealing, value, text = parties()
    assert judge(recipient_secret, dealer_secret, dealing, text) == transport.Verdict("rejected", "checks", value)


def test_a_share_off_by_one_is_upheld_as_failing_the_check():
    dealer_secret, recipient_secret, dealing, value, text = parties(share_offset=1)
    assert judge(recipient_secret, dealer_secret, dealing, text) == transport.Verdict("upheld", "fails-check", value)


def test_a_ciphertext_that_does_not_open_is_upheld():
    dealer_secret, recipient_secret, dealing, _v, text = parties()
    altered = text[:30] + ("0" if text[30] != "0" else "1") + text[31:]
    assert judge(recipient_secret, dealer_secret, dealing, altered) == transport.Verdict("upheld", "does-not-open",
                                                                                        None)


def test_a_point_not_proven_is_bad_evidence():
    dealer_secret, recipient_secret, dealing, _v, text = parties()
    point, proof = transport.prove_shared_point(TERM, ROUND, DEALER, RECIPIENT, recipient_secret,
                                                base_mul(dealer_secret), SeededNonces("x"))
    args = (TERM, ROUND, DEALER, RECIPIENT, list(dealing.commitments), base_mul(dealer_secret),
            base_mul(recipient_secret), text)
    with pytest.raises(transport.BadEvidence):  # another point with this proof: it would open nothing honest
        transport.judge_complaint(*args, (point + base_mul(1)).hex(), proof.to_json())
    with pytest.raises(transport.BadEvidence):  # the proof of the same point for another round
        transport.judge_complaint(TERM, ROUND + 1, *args[2:], point.hex(), proof.to_json())
    with pytest.raises(transport.BadEvidence):
        transport.judge_complaint(*args, "02" + "00" * 32, proof.to_json())
    with pytest.raises(transport.BadEvidence):
        transport.judge_complaint(*args, point.hex(), {"c": "zz"})


# --- the browser's device agrees --------------------------------------------------------------------------------

@pytest.mark.skipif(not HAVE_NODE and not os.environ.get("SALON_REQUIRE_BROWSER"),
                    reason="node or @noble/curves missing (run `make vendor`): trustees.js not checked")
def test_trustees_js_encrypts_opens_and_proves_as_the_python_does():
    dealer_secret, recipient_secret, _d, value, text = parties()
    request = {"term": TERM, "round": ROUND, "dealer": DEALER, "recipient": RECIPIENT,
               "dealer_secret": f"{dealer_secret:064x}", "recipient_secret": f"{recipient_secret:064x}",
               "share": f"{value:064x}", "iv": IV.hex(), "python_ciphertext": text, "seed": "ev"}
    done = subprocess.run(["node", str(ROOT / "tools" / "trustee_transport.mjs")], input=json.dumps(request),
                          capture_output=True, text=True, timeout=120, check=True)
    answers = json.loads(done.stdout)
    assert answers["aad"] == transport.associated_data(TERM, ROUND, DEALER, RECIPIENT)
    assert answers["ciphertext"] == text  # WebCrypto's AES-GCM and ours, byte for byte
    assert answers["opened"] == f"{value:064x}"
    point, proof = transport.prove_shared_point(TERM, ROUND, DEALER, RECIPIENT, recipient_secret,
                                                base_mul(dealer_secret), SeededNonces("ev"))
    assert answers["evidence"] == {"shared_point": point.hex(), "proof": proof.to_json()}
