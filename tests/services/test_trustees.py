"""The trustees room (SPEC §5.1): who is trustee (a seated committee, a drawn term), the draw's order, the key
ceremony's state machine, which key a new poll uses, and a closed poll's decryption by the trustees' factors."""
from __future__ import annotations

from datetime import timedelta

import pytest

from salon import clock
from salon.committee import services as committee
from salon.errors import Conflict, Forbidden, ValidationFailed
from salon.extensions import db
from salon.rules.committee import add_months
from salon.sealed import board, threshold
from salon.sealed.group import Point, SeededNonces
from salon.trustees import services
from salon.trustees.models import CHECKING, COMMITTEE, DEALING, DRAWN, READY, SHARING, TrusteeShare
from tests import sealed_doubles

CIPHERTEXT = "ab" * 60  # the server relays shares it cannot read: any well-formed ciphertext will do here


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def drawn_term(world, now=None):
    term = services.announce_draw(world.programme, world.bureau, now)
    return services.draw(term, world.bureau, now)


def user_of(term, index):
    return next(t.user for t in term.trustees if t.index == index)


def deal_all(term, seed="t"):
    """Every trustee's device deals (known nonces); answers the dealings by index."""
    dealt = {}
    for t in term.trustees:
        dealing = threshold.deal(term.key_term, t.index, term.threshold, SeededNonces(f"{seed}-{t.index}"))
        public = dealing.public()
        services.post_dealing(term, t.user, public["commitments"][0],  # any point serves as a transport key
                              public["commitments"], public["proofs"], term.round)
        dealt[t.index] = dealing
    return dealt


def share_all(term):
    for t in term.trustees:
        services.post_shares(term, t.user, [{"recipient": o.index, "ciphertext": CIPHERTEXT}
                                            for o in term.trustees if o.index != t.index], term.round)


def make_ready(term, seed="t"):
    dealt = deal_all(term, seed)
    share_all(term)
    key = threshold.joint_key({i: d.commitments for i, d in dealt.items()}).hex()
    for t in term.trustees:
        services.confirm(term, t.user, key, term.round)
    return dealt


def secrets_of(dealt: dict) -> dict[int, int]:
    return {i: threshold.trustee_secret({d: dealt[d].share_for(i) for d in dealt}) for i in dealt}


def seat_committee(world):
    election = committee.open_election(world.programme, world.bureau)
    for user, community in zip(world.secretaries, world.communities):
        committee.nominate(election, user, community.seat.id)
    committee.open_vote(election, world.programme, world.bureau)
    committee.close_vote(election, world.programme, world.bureau)
    return committee.sitting_term(world.programme.id)


# --- the draw -------------------------------------------------------------------------------------------------

def test_the_draw_orders_by_sha256_of_seed_and_community_name():
    # Digests computed once with: printf '%s' 'abc:景翼社区' | sha256sum (and so on).
    entries = [(1, "景翼社区"), (2, "渭运社区"), (3, "陕拖社区"), (4, "城关社区")]
    assert services.draw_order(entries, "abc") == [
        (2, "渭运社区", "517025def97fd195c8b6f62f84c98232b2598c2cff181504241d39737bd46c2a"),
        (1, "景翼社区", "c4902dfa245dd0d1df1fe922c72e24612f06d79f6f0882a91f56394e6b172796"),
        (4, "城关社区", "f9cd76be3da581da09f9cb432e3a57df2ed049106f88be55894a54ff65ae7823"),
        (3, "陕拖社区", "fe8fa45bb65048b3f7fd2bd5c400fb21e443380209024ef895ef5a2623921b85"),
    ]


def test_the_seed_is_published_before_the_draw_which_takes_the_bureau_and_the_first_three(world):
    now = clock.utcnow()
    term = services.announce_draw(world.programme, world.bureau, now)
    assert term.state == "announced" and len(term.seed) == 64 and term.trustees == []
    with pytest.raises(Conflict):  # one draw under way at a time
        services.announce_draw(world.programme, world.bureau, now)
    services.draw(term, world.bureau, now)
    order = services.draw_order(services.lot_entries(world.programme.id), term.seed)
    assert [(t.index, t.user_id) for t in term.trustees] == [(1, world.bureau.id)] + [
        (i, next(s.id for s, c in zip(world.secretaries, world.communities) if c.seat.id == seat_id))
        for i, (seat_id, _p, _d) in enumerate(order[:3], start=2)]
    assert (term.kind, term.state, term.threshold) == (DRAWN, DEALING, 3)  # k = n - 1
    assert term.ends_at == add_months(now, 6)
    assert [row.index for row in services.lot_rows(term)] == [2, 3, 4]
    assert services.lot_rows(term)[0].command.startswith(f"printf '%s' '{term.seed}:")
    with pytest.raises(Conflict):
        services.draw(term, world.bureau, now)


def test_a_draw_needs_two_secretaries_holding_a_seat(world):
    from salon.programmes import services as programmes

    programmes.deactivate_community(world.communities[0], world.bureau)
    programmes.deactivate_community(world.communities[1], world.bureau)
    term = services.announce_draw(world.programme, world.bureau)
    with pytest.raises(Conflict):
        services.draw(term, world.bureau)
    assert term.trustees == [] and term.state == "announced"


# --- the ceremony ---------------------------------------------------------------------------------------------

def test_a_wrong_proof_is_refused_naming_the_field_and_nothing_is_stored(world):
    term = drawn_term(world)
    trustee = term.trustees[1]
    dealing = threshold.deal(term.key_term, trustee.index, term.threshold, SeededNonces("x")).public()
    other = threshold.deal(term.key_term, trustee.index + 1, term.threshold, SeededNonces("x")).public()
    transport = dealing["commitments"][0]
    with pytest.raises(ValidationFailed) as refused:  # proofs made for another trustee's index
        services.post_dealing(term, trustee.user, transport, other["commitments"], other["proofs"])
    assert refused.value.field == "proofs"
    with pytest.raises(ValidationFailed) as refused:  # one commitment short
        services.post_dealing(term, trustee.user, transport, dealing["commitments"][:-1], dealing["proofs"])
    assert refused.value.field == "commitments"
    with pytest.raises(ValidationFailed) as refused:
        services.post_dealing(term, trustee.user, "02" + "00" * 32, dealing["commitments"], dealing["proofs"])
    assert refused.value.field == "transport_key"
    assert trustee.dealt_at is None and trustee.commitments is None
    services.post_dealing(term, trustee.user, transport, dealing["commitments"], dealing["proofs"])
    assert trustee.dealt_at is not None
    with pytest.raises(Conflict):  # dealt already
        services.post_dealing(term, trustee.user, transport, dealing["commitments"], dealing["proofs"])


def test_only_the_terms_trustees_take_part_and_only_at_their_step(world):
    term = drawn_term(world)
    with pytest.raises(Forbidden):  # every secretary of the world is drawn: the other programme's bureau
        services.post_dealing(term, world.other_bureau, "x", [], [])
    with pytest.raises(Conflict):  # shares before everyone dealt
        services.post_shares(term, term.trustees[0].user, [])


def test_shares_are_relayed_once_each_and_the_state_moves_on_when_all_are_in(world):
    term = drawn_term(world)
    deal_all(term)
    assert term.state == SHARING
    first = term.trustees[0]
    others = [o.index for o in term.trustees if o.index != first.index]
    with pytest.raises(ValidationFailed) as refused:  # a share missing
        services.post_shares(term, first.user, [{"recipient": i, "ciphertext": CIPHERTEXT} for i in others[1:]])
    assert refused.value.field == "shares"
    with pytest.raises(ValidationFailed):  # not hex of the right length
        services.post_shares(term, first.user, [{"recipient": i, "ciphertext": "zz" * 60} for i in others])
    services.post_shares(term, first.user, [{"recipient": i, "ciphertext": CIPHERTEXT} for i in others])
    with pytest.raises(Conflict):  # posted twice
        services.post_shares(term, first.user, [{"recipient": i, "ciphertext": CIPHERTEXT} for i in others])
    assert db.session.query(TrusteeShare).filter_by(term_id=term.id).count() == 3
    for t in term.trustees[1:]:
        services.post_shares(term, t.user, [{"recipient": o.index, "ciphertext": CIPHERTEXT}
                                            for o in term.trustees if o.index != t.index])
    assert term.state == CHECKING
    state = services.device_state(term, term.trustees[2])
    assert sorted(s["dealer"] for s in state["shares"]) == [1, 2, 4]


def test_the_ready_key_is_the_key_record_of_the_dealings(world):
    term = drawn_term(world)
    dealt = deal_all(term)
    share_all(term)
    with pytest.raises(ValidationFailed) as refused:  # a device that computed another key
        services.confirm(term, term.trustees[0].user, term.trustees[0].transport_key)
    assert refused.value.field == "public_key"
    key = threshold.joint_key({i: d.commitments for i, d in dealt.items()}).hex()
    for t in term.trustees[:-1]:
        services.confirm(term, t.user, key)
        assert term.state == CHECKING
    services.confirm(term, term.trustees[-1].user, key)
    assert term.state == READY and term.ready_at is not None
    assert term.key_record == board.key_record(term.key_term, 3, [d.public() for d in dealt.values()])
    assert term.key_record["public_key"] == key
    assert services.key_for(world.programme.id, "review", clock.utcnow()).record == term.key_record


# --- who is trustee, and which key a poll uses ----------------------------------------------------------------

def test_a_seated_committee_gets_its_trustees_and_none_without_a_committee(world):
    now = clock.utcnow()
    assert services.sync_committee(world.programme.id, now) is None
    sitting = seat_committee(world)
    term = services.committee_term_for(sitting.id)
    assert term is not None and term.kind == COMMITTEE and term.state == DEALING
    assert [t.user_id for t in term.trustees] == [world.bureau.id] + [m.user_id for m in
                                                                      committee.sitting_members(sitting)]
    assert term.threshold == 3
    assert services.sync_committee(world.programme.id, now) is term  # idempotent


def test_a_committee_of_fewer_than_two_members_has_no_trustees(world):
    from salon.programmes import services as programmes

    sitting = seat_committee(world)
    services.committee_term_for(sitting.id).retired_at = clock.utcnow()  # as before any member left
    db.session.flush()
    programmes.deactivate_community(world.communities[0], world.bureau)
    programmes.deactivate_community(world.communities[1], world.bureau)
    committee.reconcile(world.programme.id, world.bureau, clock.utcnow())
    assert len(committee.sitting_members(sitting)) < 2
    assert services.sync_committee(world.programme.id, clock.utcnow()) is None


def test_topic_polls_use_the_committees_key_when_ready_reviews_and_elections_the_drawn_one(world):
    now = clock.utcnow()
    assert services.key_for(world.programme.id, "topic", now) is None  # nothing ready: not sealed
    sitting = seat_committee(world)  # first: with a drawn key ready, the election would await its trustees
    mine = services.committee_term_for(sitting.id)
    drawn = drawn_term(world, now)
    make_ready(drawn, "drawn")
    assert services.key_for(world.programme.id, "topic", now).term == drawn.key_term  # committee not ready
    make_ready(mine, "committee")
    assert services.key_for(world.programme.id, "topic", now).term == mine.key_term
    for kind in ("review", "election"):
        key = services.key_for(world.programme.id, kind, now)
        assert key.term == drawn.key_term and key.threshold == 3
        assert key.trustees == tuple((t.index, t.user_id) for t in drawn.trustees)
    committee.end_term(sitting, "recalled", world.bureau, now)
    assert services.key_for(world.programme.id, "topic", now).term == drawn.key_term
    assert services.key_for(world.programme.id, "review", drawn.ends_at) is None  # half a year on


# --- decryption -----------------------------------------------------------------------------------------------

def test_k_trustees_factors_count_a_closed_poll_and_a_wrong_factor_is_refused(app, world, monkeypatch):
    sealed_doubles.use_fake_polls(monkeypatch)
    term = drawn_term(world)
    dealt = make_ready(term)
    secrets = secrets_of(dealt)
    poll = sealed_doubles.closed_sealed_poll(app, world.programme.id, services.poll_key(term),
                                             [[0, 2], [0], [1, 2], [0, 2]])
    by_index = {t.index: t for t in term.trustees}
    assert [p.id for p in services.awaiting(by_index[2].user)[0][2]] == [poll.id]
    request = services.decryption_request_for(term, by_index[2].user, poll.id)["request"]
    assert request["public_key"] == term.key_record["public_key"]

    def factors(index, secret):
        return board.trustee_factors(poll.context, Point.from_hex(request["public_key"]), poll.questions, poll.sums,
                                     index, secret, SeededNonces(f"f{index}"))

    with pytest.raises(ValidationFailed):  # trustee 2 sending factors made with trustee 3's key
        services.decrypt(term, by_index[2].user, poll.id, factors(2, secrets[3]))
    with pytest.raises(Forbidden):
        services.decrypt(term, world.other_bureau, poll.id, factors(2, secrets[2]))
    assert services.decrypt(term, by_index[2].user, poll.id, factors(2, secrets[2])) is False
    assert services.decrypt(term, by_index[4].user, poll.id, factors(4, secrets[4])) is False
    waiting, done, k = services.awaited_names(poll)
    assert (done, k) == (2, 3)
    assert waiting == [by_index[1].user.display_name, by_index[3].user.display_name]
    assert services.awaiting(by_index[2].user) == []
    assert services.decrypt(term, by_index[1].user, poll.id, factors(1, secrets[1])) is True
    assert poll.counts == [[3, 1, 3]]


def test_the_next_drawn_term_is_announced_a_month_before_the_end_and_takes_over_once_ready(world):
    now = clock.utcnow()
    first = drawn_term(world, now)
    make_ready(first, "first")
    assert not services.announce_due(world.programme.id, now)
    later = first.ends_at - timedelta(days=29)
    assert services.announce_due(world.programme.id, later)
    second = services.draw(services.announce_draw(world.programme, world.bureau, later), world.bureau, later)
    assert services.key_for(world.programme.id, "review", later).term == first.key_term  # until the next is ready
    make_ready(second, "second")
    assert first.retired_at is not None and second.retired_at is None
    assert services.key_for(world.programme.id, "review", later).term == second.key_term
    assert first.state == READY  # it still decrypts the polls that use it


def test_tick_gives_a_committee_seated_before_its_trustees_and_a_changed_committee_new_ones(world):
    sitting = seat_committee(world)
    made = services.committee_term_for(sitting.id)
    db.session.delete(made.trustees[0])  # as if the committee had been seated before the trustees room existed
    for trustee in made.trustees[1:]:
        db.session.delete(trustee)
    db.session.flush()
    db.session.delete(made)
    db.session.flush()
    assert services.advance(world.programme, clock.utcnow())  # says what it did
    again = services.committee_term_for(sitting.id)
    assert again is not None and len(again.trustees) == 4
    assert services.advance(world.programme, clock.utcnow()) == []  # nothing more to do
    from salon.programmes import services as programmes

    programmes.hand_over_seat(world.communities[2], world.bureau, "sec_new", "新书记", "correct horse 1")
    committee.reconcile(world.programme.id, world.bureau, clock.utcnow())
    services.advance(world.programme, clock.utcnow())
    newest = services.committee_term_for(sitting.id)
    assert newest.id != again.id and again.retired_at is not None
    assert [t.user_id for t in newest.trustees][1:] == [m.user_id for m in committee.sitting_members(sitting)]


def test_a_committees_key_retires_with_it_and_is_asked_about_for_a_while_only(world):
    now = clock.utcnow()
    sitting = seat_committee(world)
    term = services.committee_term_for(sitting.id)
    make_ready(term, "c")
    committee.end_term(sitting, "recalled", world.bureau, now)
    services.advance(world.programme, now)
    assert term.retired_at == now and term.state == READY
    assert services.may_await_decryption(term, now + timedelta(days=120))
    assert not services.may_await_decryption(term, now + timedelta(days=121))
