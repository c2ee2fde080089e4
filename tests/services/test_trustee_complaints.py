"""Complaints in the trustees' key ceremony, decided by evidence (SPEC §5.1; docs/sealed-ballots.md,
"Complaints, decided by evidence"): the complainer discloses the key point that opens the disputed share, with its
proof; a bad share drops its dealer and restarts the ceremony without them, a good one rejects the complaint and
the ceremony goes on. The devices are played here as the page plays them: real transport keys, real AES-GCM."""
from __future__ import annotations

import pytest

from salon import clock
from salon.errors import Conflict, Forbidden, ValidationFailed
from salon.extensions import db
from salon.sealed import threshold, transport
from salon.sealed.group import N, Point, SeededNonces, base_mul
from salon.trustees import services
from salon.trustees.models import CHECKING, DEALING, DRAWN, FAILED, READY, TrusteeComplaint
from tests.services.test_trustees import drawn_term

IV = bytes(range(12))


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def place(term, index):
    return next(t for t in term.trustees if t.index == index)


def deal(term, seed="d"):
    """Each device makes a transport key pair and deals (known nonces): {index: (transport secret, dealing)}."""
    devices = {}
    for t in term.active:
        rng = SeededNonces(f"{seed}-{term.round}-{t.index}")
        secret = rng.scalar()
        dealing = threshold.deal(term.key_term, t.index, term.threshold, rng)
        public = dealing.public()
        services.post_dealing(term, t.user, base_mul(secret).hex(), public["commitments"], public["proofs"],
                              term.round)
        devices[t.index] = (secret, dealing)
    return devices


def share(term, devices, wrong=(), garbled=()):
    """Each device sends its shares encrypted as the page does; (dealer, recipient) pairs in `wrong` get a share
    that fails Feldman's check, those in `garbled` a ciphertext that does not open."""
    keys = {t.index: Point.from_hex(t.transport_key) for t in term.active}
    for t in term.active:
        secret, dealing = devices[t.index]
        out = []
        for other in term.active:
            if other.index == t.index:
                continue
            value = dealing.share_for(other.index)
            if (t.index, other.index) in wrong:
                value = (value + 1) % N
            aad = transport.associated_data(term.key_term, term.round, t.index, other.index)
            text = transport.encrypt_share(transport.shared_point(secret, keys[other.index]), aad, value, IV)
            if (t.index, other.index) in garbled:
                text = text[:-2] + ("00" if text[-2:] != "00" else "01")
            out.append({"recipient": other.index, "ciphertext": text})
        services.post_shares(term, t.user, out, term.round)


def evidence(term, devices, by, against, seed="e"):
    """What the complainer's device sends: the ECDH point that opens the share, and its proof."""
    shared, proof = transport.prove_shared_point(term.key_term, term.round, against, by, devices[by][0],
                                                 Point.from_hex(place(term, against).transport_key),
                                                 SeededNonces(seed))
    return {"shared_point": shared.hex(), "proof": proof.to_json()}


def confirm_all(term, devices):
    key = threshold.joint_key({i: d.commitments for i, (_s, d) in devices.items()}).hex()
    for t in term.active:
        if t.confirmed_at is None:
            services.confirm(term, t.user, key, term.round)
    return key


def checking(world):
    term = drawn_term(world)
    return term, deal(term)


# --- upheld: the dealer is dropped, the ceremony restarts without them --------------------------------------------

def test_a_share_that_fails_its_check_drops_its_dealer_and_the_others_make_the_key(world):
    term, devices = checking(world)
    share(term, devices, wrong={(2, 3)})
    dealer = place(term, 2)
    complaint = services.complain(term, place(term, 3).user, 2, evidence(term, devices, 3, 2), term.round)
    assert (complaint.verdict, complaint.reason) == ("upheld", "fails-check")
    assert complaint.evidence["share"] == f"{(devices[2][1].share_for(3) + 1) % N:064x}"  # what the dealer sent
    assert dealer.dropped_at is not None
    assert (term.state, term.round, term.threshold) == (DEALING, 2, 2)  # three left: k = 2
    assert [t.index for t in term.active] == [1, 3, 4]
    state = services.device_state(term, place(term, 3))
    assert state["dropped"] == [2] and [t["index"] for t in state["trustees"]] == [1, 3, 4]
    assert services.device_state(term, None)["complaints"] == []  # a new round: its complaints are its own
    with pytest.raises(Forbidden):  # the dropped dealer takes no further part
        services.post_dealing(term, dealer.user, "x", [], [], term.round)
    assert services.trustee_of(term, dealer.user) is None and services.dropped_from(term, dealer.user) is dealer

    devices = deal(term, "round2")
    share(term, devices)
    key = confirm_all(term, devices)
    assert term.state == READY and term.key_record["public_key"] == key
    assert [t["index"] for t in term.key_record["trustees"]] == [1, 3, 4]  # the key record keeps the gap
    assert services.poll_key(term).trustees == tuple((t.index, t.user_id) for t in term.active)
    assert services.key_for(world.programme.id, "review", clock.utcnow()).threshold == 2


def test_a_share_that_does_not_open_drops_its_dealer(world):
    term, devices = checking(world)
    share(term, devices, garbled={(4, 1)})
    complaint = services.complain(term, world.bureau, 4, evidence(term, devices, 1, 4), term.round)
    assert (complaint.verdict, complaint.reason, complaint.evidence["share"]) == ("upheld", "does-not-open", None)
    assert place(term, 4).dropped_at is not None and term.round == 2


def test_anyone_redoes_the_decision_from_the_kept_evidence(world):
    term, devices = checking(world)
    share(term, devices, wrong={(2, 3)})
    complaint = services.complain(term, place(term, 3).user, 2, evidence(term, devices, 3, 2), 1)
    e = complaint.evidence  # the shares are gone with the round: the complaint keeps all it needs
    again = transport.judge_complaint(term.key_term, complaint.round, 2, 3, [Point.from_hex(c) for c in
                                                                            e["commitments"]],
                                      Point.from_hex(e["dealer_key"]), Point.from_hex(e["complainer_key"]),
                                      e["ciphertext"], e["shared_point"], e["proof"])
    assert (again.outcome, again.reason) == ("upheld", "fails-check")


def test_when_fewer_than_three_are_left_the_term_fails_and_a_new_draw_is_due(world):
    term, devices = checking(world)
    share(term, devices, wrong={(2, 3)})
    services.complain(term, place(term, 3).user, 2, evidence(term, devices, 3, 2), 1)
    assert not services.announce_due(world.programme.id, clock.utcnow())  # still under way, with three
    devices = deal(term, "r2")
    share(term, devices, wrong={(4, 1)})
    services.complain(term, world.bureau, 4, evidence(term, devices, 1, 4), 2)
    assert term.state == FAILED and [t.index for t in term.active] == [1, 3]
    assert services.key_for(world.programme.id, "review", clock.utcnow()) is None
    assert services.announce_due(world.programme.id, clock.utcnow())  # the bureau draws anew
    again = services.announce_draw(world.programme, world.bureau)
    assert again.kind == DRAWN and services.current_drawn(world.programme.id) is again


# --- rejected: the share is published, the ceremony goes on --------------------------------------------------------

def test_a_false_complaint_is_rejected_and_the_ceremony_goes_on_with_the_complainer(world):
    term, devices = checking(world)
    share(term, devices)
    complainer = place(term, 3)
    complaint = services.complain(term, complainer.user, 2, evidence(term, devices, 3, 2), term.round)
    assert (complaint.verdict, complaint.reason) == ("rejected", "checks")
    assert (term.state, term.round) == (CHECKING, 1)  # nobody deals again
    assert all(t.dropped_at is None for t in term.trustees) and complainer.transport_key is not None
    published = services.device_state(term, complainer)["complaints"]
    assert published == [{"by": 3, "against": 2, "verdict": "rejected", "reason": "checks",
                          "share": f"{devices[2][1].share_for(3):064x}"}]  # the complainer's device uses it
    with pytest.raises(Conflict) as refused:  # the same complaint again: decided already
        services.complain(term, complainer.user, 2, evidence(term, devices, 3, 2, "again"), term.round)
    assert refused.value.field == "dealer"
    # Complaining against every other dealer falsely restarts nothing: no stall.
    for dealer in (1, 4):
        assert services.complain(term, complainer.user, dealer, evidence(term, devices, 3, dealer), 1).verdict \
            == "rejected"
    assert (term.state, term.round, len(term.complaints)) == (CHECKING, 1, 3)
    confirm_all(term, devices)
    assert term.state == READY and [t["index"] for t in term.key_record["trustees"]] == [1, 2, 3, 4]


# --- who may complain, and bad input ---------------------------------------------------------------------------

def test_only_a_trustee_still_in_the_ceremony_may_complain(world):
    term, devices = checking(world)
    share(term, devices, wrong={(2, 3)})
    with pytest.raises(Forbidden):  # not a trustee of this term
        services.complain(term, world.other_bureau, 2, evidence(term, devices, 3, 2), 1)
    services.complain(term, place(term, 3).user, 2, evidence(term, devices, 3, 2), 1)
    devices = deal(term, "r2")
    share(term, devices)
    with pytest.raises(Forbidden):  # the dropped dealer
        services.complain(term, place(term, 2).user, 3, {"shared_point": "", "proof": {}}, 2)
    with pytest.raises(ValidationFailed) as refused:  # against the dropped dealer: not a dealer of this round
        services.complain(term, place(term, 3).user, 2, evidence(term, devices, 3, 4), 2)
    assert refused.value.field == "dealer"


@pytest.mark.parametrize("dealer", [9, 3, "2", True, None])
def test_a_complaint_against_no_other_dealer_of_the_round_is_refused_and_nothing_changes(world, dealer):
    term, devices = checking(world)
    share(term, devices)
    with pytest.raises(ValidationFailed) as refused:  # unknown, oneself, not an index
        services.complain(term, place(term, 3).user, dealer, evidence(term, devices, 3, 2), 1)
    assert refused.value.field == "dealer"
    assert (term.state, term.round, term.complaints) == (CHECKING, 1, [])


def test_a_stale_round_a_wrong_step_or_a_confirmed_device_cannot_complain(world):
    term = drawn_term(world)
    devices = deal(term)
    with pytest.raises(Conflict) as refused:  # sharing, not checking
        services.complain(term, place(term, 3).user, 2, {"shared_point": "", "proof": {}}, 1)
    assert refused.value.field == "state"
    share(term, devices)
    with pytest.raises(Conflict) as refused:  # a device still in an earlier round
        services.complain(term, place(term, 3).user, 2, evidence(term, devices, 3, 2), 0)
    assert refused.value.field == "round"
    key = threshold.joint_key({i: d.commitments for i, (_s, d) in devices.items()}).hex()
    services.confirm(term, place(term, 3).user, key, 1)
    with pytest.raises(Conflict):  # it accepted its shares already
        services.complain(term, place(term, 3).user, 2, evidence(term, devices, 3, 2), 1)
    assert term.complaints == []


def test_evidence_that_does_not_hold_is_refused_naming_the_field_and_nothing_changes(world):
    term, devices = checking(world)
    share(term, devices, wrong={(2, 3)})
    good = evidence(term, devices, 3, 2)
    other_pair = evidence(term, devices, 3, 4)  # proves the point of another dealer's share
    forged = {"shared_point": base_mul(5).hex(), "proof": good["proof"]}
    for bad in (other_pair, forged, {"shared_point": "zz", "proof": good["proof"]},
                {"shared_point": good["shared_point"], "proof": {"c": "1"}}, {"shared_point": good["shared_point"]},
                "not an object", None):
        with pytest.raises(ValidationFailed) as refused:
            services.complain(term, place(term, 3).user, 2, bad, 1)
        assert refused.value.field == "evidence"
    assert (term.state, term.round) == (CHECKING, 1) and place(term, 2).dropped_at is None
    assert db.session.query(TrusteeComplaint).count() == 0
    assert services.complain(term, place(term, 3).user, 2, good, 1).verdict == "upheld"


def test_the_bureaus_terms_list_counts_complaints_by_verdict(world):
    term, devices = checking(world)
    share(term, devices, wrong={(2, 3)})
    services.complain(term, place(term, 4).user, 2, evidence(term, devices, 4, 2), 1)  # a good share: rejected
    services.complain(term, place(term, 3).user, 2, evidence(term, devices, 3, 2), 1)  # a bad one: upheld
    assert services.complaint_counts([term.id]) == {term.id: {"rejected": 1, "upheld": 1}}
