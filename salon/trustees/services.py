"""The trustees' rules (SPEC §5.1; docs/sealed-ballots.md, "Election key" and "Integration").

- Terms: a committee's (the bureau as trustee 1, then the members sitting when it was seated, `committee_seated`,
  the receiver of the committee room's signal, and `sync_committee`, its catch-up), and a drawn one (the bureau
  announces it, which publishes the seed; the draw then ranks the secretaries holding a seat by the §4.1 lot and
  takes the first three). k = n - 1.
- The ceremony, relayed by the server: `post_dealing` (commitments with proofs of knowledge, checked here, and a
  transport key), `post_shares` (each other trustee's share, encrypted by the dealer's device to the recipient's
  transport key: the server sees only ciphertexts), `confirm` (the device checked its shares and computed the
  same joint key) or `complain` (a share failed: the complaint carries the evidence that opens it, and is decided
  at once — upheld, the dealer is dropped and the ceremony restarts without them; rejected, it goes on). When
  every trustee still in the ceremony has confirmed, the key is ready and its record is
  `salon.sealed.board.key_record`.
- Which key a new poll uses (`key_for`, registered with the ballot engine), and what a trustee still has to
  decrypt (`awaiting`, `decrypt`).
Writes take the programme's lock first (salon/database.py, step 1) and flush; the request commits."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, true, update
from sqlalchemy.orm import joinedload

from salon.accounts import services as accounts
from salon.audit import services as audit
from salon.ballots import services as ballots
from salon.clock import utcnow
from salon.committee import services as committee
from salon.database import keep_if_refused, lock_programme
from salon.errors import Conflict, Forbidden, NotFound, ValidationFailed
from salon.extensions import db
from salon.programmes import services as programmes
from salon.rows import get_scoped
from salon.rules import committee as lot
from salon.rules import trustees as rules
from salon.sealed import board, threshold, transport
from salon.sealed.group import EncodingError, Point
from salon.sealed.proofs import Branch
from salon.trustees import limits
from salon.trustees.models import (ANNOUNCED, CHECKING, COMMITTEE, DEALING, DRAWN, FAILED, READY, SHARING,
                                   Trustee, TrusteeComplaint, TrusteeShare, TrusteeTerm)

HEX = re.compile(r"^[0-9a-f]*$")


# --- reading ---------------------------------------------------------------------------------------------------

def get_term(term_id, programme_id: int) -> TrusteeTerm:
    return get_scoped(TrusteeTerm, term_id, programme_id, "term_id")


def terms(programme_id: int, limit: int = 20) -> list[TrusteeTerm]:
    return list(db.session.scalars(select(TrusteeTerm).where(TrusteeTerm.programme_id == programme_id)
                                   .order_by(TrusteeTerm.id.desc()).limit(limit)))


def trustee_of(term: TrusteeTerm, user) -> Trustee | None:
    """This user's place in the term, if they are still in it (not dropped from its ceremony)."""
    return next((t for t in term.active if t.user_id == user.id), None)


def dropped_from(term: TrusteeTerm, user) -> Trustee | None:
    """This user's place in the term if they were dropped from its ceremony (an upheld complaint)."""
    return next((t for t in term.trustees if t.user_id == user.id and t.dropped_at is not None), None)


def terms_of(user) -> list[tuple[TrusteeTerm, Trustee]]:
    """The terms this user is a trustee of (not dropped), newest first, each with their place."""
    rows = db.session.execute(select(TrusteeTerm, Trustee).join(Trustee, Trustee.term_id == TrusteeTerm.id)
                              .where(Trustee.user_id == user.id, Trustee.dropped_at.is_(None),
                                     TrusteeTerm.programme_id == user.programme_id)
                              .order_by(TrusteeTerm.id.desc())).all()
    return [(term, trustee) for term, trustee in rows]


def serves_new_polls(term: TrusteeTerm, now: datetime, sitting_term_id: int | None = None) -> bool:
    """A ready key that a poll opened now would use (salon.rules.trustees.serves_new_polls)."""
    return rules.serves_new_polls(term, now, sitting_term_id)


def current_drawn(programme_id: int) -> TrusteeTerm | None:
    """The newest drawn term not retired: under way, or ready (however old: `serves_new_polls` says whether)."""
    return db.session.scalar(select(TrusteeTerm).where(
        TrusteeTerm.programme_id == programme_id, TrusteeTerm.kind == DRAWN, TrusteeTerm.retired_at.is_(None))
        .order_by(TrusteeTerm.id.desc()).limit(1))


def ready_drawn(programme_id: int) -> TrusteeTerm | None:
    """The newest ready drawn term not retired (a newer one may be under way meanwhile)."""
    return db.session.scalar(select(TrusteeTerm).where(
        TrusteeTerm.programme_id == programme_id, TrusteeTerm.kind == DRAWN, TrusteeTerm.state == READY,
        TrusteeTerm.retired_at.is_(None)).order_by(TrusteeTerm.id.desc()).limit(1))


def committee_term_for(committee_term_id: int) -> TrusteeTerm | None:
    return db.session.scalar(select(TrusteeTerm).where(
        TrusteeTerm.committee_term_id == committee_term_id, TrusteeTerm.retired_at.is_(None))
        .order_by(TrusteeTerm.id.desc()).limit(1))


def home_rows(user) -> list[tuple[TrusteeTerm, Trustee | None]]:
    """For the home page, in one statement: the terms this user is a trustee of, each with their place, and the
    programme's current drawn term (with None when they are not its trustee); for the bureau, also every term in
    the middle of its ceremony (whose late trustees it is shown); newest first."""
    shown = or_(Trustee.id.is_not(None), (TrusteeTerm.kind == DRAWN) & TrusteeTerm.retired_at.is_(None))
    if user.is_bureau:
        shown = or_(shown, TrusteeTerm.state.in_(rules.STEPS) & TrusteeTerm.retired_at.is_(None))
    rows = db.session.execute(
        select(TrusteeTerm, Trustee)
        .outerjoin(Trustee, (Trustee.term_id == TrusteeTerm.id) & (Trustee.user_id == user.id)
                   & Trustee.dropped_at.is_(None))
        .where(TrusteeTerm.programme_id == user.programme_id, shown)
        .order_by(TrusteeTerm.id.desc())).all()
    return [(term, trustee) for term, trustee in rows]


def announce_due(programme_id: int, now: datetime, term: TrusteeTerm | None | object = ...) -> bool:
    """The bureau may (and is prompted to) announce a drawn term (salon.rules.trustees.announce_due). `term`:
    the current drawn term, when the caller has read it."""
    return rules.announce_due(current_drawn(programme_id) if term is ... else term, now)


# --- the key a new poll uses (registered with the ballot engine) ----------------------------------------------

def poll_key(term: TrusteeTerm) -> ballots.PollKey:
    return ballots.PollKey(term=term.key_term, threshold=term.threshold, record=term.key_record,
                           trustees=tuple((t.index, t.user_id) for t in term.active))


def key_for(programme_id: int, kind: str, now: datetime) -> ballots.PollKey | None:
    """The key a poll of `kind` opened at `now` takes (SPEC §5.1, salon.rules.trustees.key_term_for). None: no
    ready key, the poll is not sealed."""
    sitting = committee.sitting_term(programme_id) if kind == rules.TOPIC else None
    mine = committee_term_for(sitting.id) if sitting is not None else None
    term = rules.key_term_for(kind, now, mine, ready_drawn(programme_id), sitting.id if sitting else None)
    return poll_key(term) if term is not None else None


# --- terms -------------------------------------------------------------------------------------------------------

def _bureau_trustee(programme_id: int, actor=None):
    """Trustee 1: the bureau member who acts, else the one of the newest drawn term still active, else the
    programme's oldest active bureau account."""
    if actor is not None and actor.is_bureau:
        return actor
    members = accounts.bureau_members(programme_id)
    drawn = current_drawn(programme_id)
    if drawn is not None:
        first = next((t for t in drawn.trustees if t.index == 1), None)
        if first is not None and any(m.id == first.user_id for m in members):
            return next(m for m in members if m.id == first.user_id)
    return members[0] if members else None


def _start(term: TrusteeTerm, people: list[tuple[object, int | None, str]], now: datetime) -> TrusteeTerm:
    """people: (user, seat id, public id) in index order from 1."""
    for index, (user, seat_id, public_id) in enumerate(people, start=1):
        db.session.add(Trustee(term_id=term.id, programme_id=term.programme_id, index=index, user_id=user.id,
                               seat_id=seat_id, public_id=public_id))
    term.threshold = rules.threshold(len(people))  # k = n - 1; fewer than three refused
    term.state = DEALING
    term.started_at = now
    term.deadline = rules.step_deadline(now)
    db.session.flush()
    db.session.expire(term, ["trustees"])
    return term


def committee_seated(committee_term, actor=None, now: datetime | None = None) -> None:
    """Receiver of the committee room's `seated` signal: the new committee's trustees start their ceremony."""
    sync_committee(committee_term.programme_id, now or utcnow(), actor)


def sync_committee(programme_id: int, now: datetime, actor=None) -> TrusteeTerm | None:
    """The sitting committee's term of trustees, started if missing or if its members changed since (a
    by-election); a committee of fewer than 2 members has none (the drawn term serves). Idempotent: the
    receiver of `seated`, and the catch-up of `salon tick` and the trustees page."""
    sitting = committee.sitting_term(programme_id)
    if sitting is None:
        return None
    members = committee.sitting_members(sitting)
    current = committee_term_for(sitting.id)
    wanted = [m.user_id for m in members if m.user_id is not None]
    if current is not None and not rules.committee_changed([t.user_id for t in current.trustees][1:], wanted):
        return current
    if not rules.holds_a_key(len(wanted) + 1):
        return current
    bureau = _bureau_trustee(programme_id, actor)
    if bureau is None:
        return current
    lock_programme(programme_id)  # step 1 of the lock order (salon/database.py)
    if current is not None:
        current.retired_at = now
    term = TrusteeTerm(programme_id=programme_id, kind=COMMITTEE, committee_term_id=sitting.id,
                       created_by_id=bureau.id, created_at=now)
    db.session.add(term)
    db.session.flush()
    names = programmes.community_names_of_seats([m.seat_id for m in members])
    users = {u.id: u for u in [accounts.get_user(uid) for uid in wanted] if u is not None}
    people = [(bureau, None, "")] + [(users[m.user_id], m.seat_id, names.get(m.seat_id, ""))
                                     for m in members if m.user_id in users]
    _start(term, people, now)
    audit.record(programme_id, actor, "trustees.start", term, kind=COMMITTEE, trustees=len(people))
    return term


def announce_draw(programme, actor, now: datetime | None = None, seed: str | None = None) -> TrusteeTerm:
    """The bureau announces a drawn term: its seed is published now, before the draw (SPEC §5.1, §4.1). A seed
    is random unless given (the demo's is fixed, so the demo draws the same trustees each time)."""
    now = now or utcnow()
    lock_programme(programme.id)  # step 1 of the lock order (salon/database.py)
    if not announce_due(programme.id, now):
        raise Conflict(_("A drawn term of trustees is already under way, or the ready one does not end within "
                         "%(days)d days.", days=rules.ANNOUNCE_BEFORE_END_DAYS), "term")
    term = TrusteeTerm(programme_id=programme.id, kind=DRAWN, state=ANNOUNCED, seed=seed or secrets.token_hex(32),
                       created_by_id=actor.id, created_at=now)
    db.session.add(term)
    db.session.flush()
    audit.record(programme.id, actor, "trustees.announce", term, seed=term.seed)
    return term


def lot_entries(programme_id: int) -> list[tuple[int, str]]:
    """(seat id, public id = the community's name) of every active community whose seat a secretary holds."""
    holders = programmes.holders_by_community(programme_id)
    return [(c.seat.id, c.name) for c in programmes.communities(programme_id, active_only=True) if c.id in holders]


def draw_order(entries: list[tuple[int, str]], seed: str) -> list[tuple[int, str, str]]:
    """SPEC §4.1's ranking (salon.rules.committee.lot_order): (seat id, public id, digest), lowest digest first."""
    return lot.lot_order(entries, seed)


def draw(term: TrusteeTerm, actor, now: datetime | None = None) -> TrusteeTerm:
    """The draw: the first DRAWN_SECRETARIES of the ranking are trustees 2…, the bureau member drawing is 1; the
    term serves DRAWN_TERM_MONTHS from now. The ready drawn term before it is retired once this one is ready."""
    now = now or utcnow()
    lock_programme(term.programme_id)  # step 1 of the lock order (salon/database.py)
    if term.kind != DRAWN or term.state != ANNOUNCED:
        raise Conflict(_("This term has been drawn already."), "term")
    entries = lot_entries(term.programme_id)
    if not rules.may_draw(len(entries)):
        raise Conflict(_("At least %(n)d secretaries must hold a seat to draw trustees.",
                         n=rules.MIN_TRUSTEES - 1), "term")
    holders = programmes.holders_by_community(term.programme_id)
    by_seat = {c.seat.id: holders[c.id] for c in programmes.communities(term.programme_id, active_only=True)
               if c.id in holders}
    chosen = draw_order(entries, term.seed)[:rules.DRAWN_SECRETARIES]
    term.lot_entries = [[seat_id, public_id] for seat_id, public_id in entries]
    term.ends_at = rules.drawn_term_end(now)
    _start(term, [(actor, None, "")] + [(by_seat[seat_id], seat_id, public_id) for seat_id, public_id, _d in chosen],
           now)
    audit.record(term.programme_id, actor, "trustees.draw", term, trustees=len(chosen) + 1)
    return term


@dataclass(frozen=True)
class LotRow:
    index: int | None  # the trustee index it gave, None if not drawn
    seat_id: int
    public_id: str
    digest: str
    command: str


def lot_rows(term: TrusteeTerm) -> list[LotRow]:
    """The draw as published: each candidate's digest, lowest first, and the line that recomputes it."""
    if not term.seed or not term.lot_entries:
        return []
    order = draw_order([(int(s), p) for s, p in term.lot_entries], term.seed)
    return [LotRow(i + 2 if i < rules.DRAWN_SECRETARIES else None, seat_id, public_id, digest,
                   committee.shell_line(f"{term.seed}:{public_id}"))
            for i, (seat_id, public_id, digest) in enumerate(order)]


# --- the ceremony --------------------------------------------------------------------------------------------------

def _refuse_outsider(term: TrusteeTerm, user) -> None:
    """The user takes no part in the ceremony: dropped from it by a deadline (they are told so), or never in it."""
    gone = dropped_from(term, user)
    if gone is not None and gone.dropped_for == rules.DEADLINE:
        raise Conflict(_("The deadline of a step of this ceremony passed before you had done it: you are no longer "
                         "a trustee of this term."), "state")
    raise Forbidden(_("Only this term's trustees take part in its key ceremony."))


def _acting(term: TrusteeTerm, user, state: str, what: str) -> Trustee:
    trustee = trustee_of(term, user)
    if trustee is None:
        _refuse_outsider(term, user)
    if term.state != state:
        raise Conflict(_("The ceremony is not at this step (%(what)s): reload the page.", what=what), "state")
    return trustee


def _check_round(term: TrusteeTerm, round_) -> None:
    if round_ is not None and round_ != term.round:
        raise Conflict(_("The ceremony has restarted: reload the page."), "round")


def _points(values, count: int, field: str) -> list[Point]:
    if not isinstance(values, list) or len(values) != count:
        raise ValidationFailed(_("%(field)s: exactly %(n)d expected.", field=field, n=count), field)
    try:
        return [Point.from_hex(v) for v in values]
    except (EncodingError, ValueError, TypeError):
        raise ValidationFailed(_("%(field)s: each must be a compressed curve point in lowercase hex.",
                                 field=field), field) from None


def post_dealing(term: TrusteeTerm, user, transport_key, commitments, proofs, round_=None,
                 now: datetime | None = None) -> Trustee:
    """Step 1: a trustee's transport key, k commitments and their proofs of knowledge (checked here)."""
    now = now or utcnow()
    lock_programme(term.programme_id)  # step 1 of the lock order (salon/database.py)
    db.session.refresh(term)
    enforce_deadline(term, now)  # first: the late then find themselves dropped, the prompt the ceremony restarted
    trustee = _acting(term, user, DEALING, _("dealing"))
    _check_round(term, round_)
    if trustee.dealt_at is not None:
        raise Conflict(_("You have dealt already in this round."), "commitments")
    if not isinstance(transport_key, str) or len(transport_key) != limits.TRANSPORT_KEY_HEX:
        raise ValidationFailed(_("transport_key: a compressed curve point in lowercase hex (66 characters)."),
                               "transport_key")
    _points([transport_key], 1, "transport_key")
    points = _points(commitments, term.threshold, "commitments")
    try:
        branches = [Branch.from_json(p) for p in proofs] if isinstance(proofs, list) else None
    except (EncodingError, ValueError, TypeError):
        branches = None
    if branches is None or len(branches) != term.threshold:
        raise ValidationFailed(_("proofs: one proof (c, s) per commitment."), "proofs")
    if not threshold.coefficients_are_proven(term.key_term, trustee.index, points, branches):
        raise ValidationFailed(_("proofs: a proof of knowledge does not verify."), "proofs")
    trustee.transport_key = transport_key
    trustee.commitments = list(commitments)
    trustee.proofs = [b.to_json() for b in branches]
    trustee.dealt_at = now
    db.session.flush()
    if all(t.dealt_at is not None for t in term.active):
        term.state = SHARING
        term.deadline = rules.step_deadline(now)
        db.session.flush()
    return trustee


def post_shares(term: TrusteeTerm, user, shares, round_=None, now: datetime | None = None) -> Trustee:
    """Step 2: the dealer's share for each other trustee, encrypted on the dealer's device (AES-GCM, hex of IV,
    ciphertext and tag). The server cannot read them; it checks their form only."""
    now = now or utcnow()
    lock_programme(term.programme_id)  # step 1 of the lock order (salon/database.py)
    db.session.refresh(term)
    enforce_deadline(term, now)  # first: the late then find themselves dropped, the prompt the ceremony restarted
    trustee = _acting(term, user, SHARING, _("sharing"))
    _check_round(term, round_)
    if trustee.shared_at is not None:
        raise Conflict(_("You have sent your shares already in this round."), "shares")
    others = {t.index for t in term.active if t.index != trustee.index}
    if (not isinstance(shares, list) or len(shares) != len(others)
            or not all(isinstance(s, dict) and set(s) == {"recipient", "ciphertext"} for s in shares)
            or {s["recipient"] for s in shares} != others):
        raise ValidationFailed(_("shares: one encrypted share for each other trustee."), "shares")
    for share in shares:
        text = share["ciphertext"]
        if not isinstance(text, str) or len(text) != limits.SHARE_CIPHERTEXT_HEX or not HEX.match(text):
            raise ValidationFailed(_("shares: each ciphertext is %(n)d lowercase hex characters.",
                                     n=limits.SHARE_CIPHERTEXT_HEX), "shares")
    for share in sorted(shares, key=lambda s: s["recipient"]):
        db.session.add(TrusteeShare(term_id=term.id, dealer=trustee.index, recipient=share["recipient"],
                                    ciphertext=share["ciphertext"]))
    trustee.shared_at = now
    db.session.flush()
    if all(t.shared_at is not None for t in term.active):
        term.state = CHECKING
        term.deadline = rules.step_deadline(now)
        db.session.flush()
    return trustee


def shares_for(term: TrusteeTerm, trustee: Trustee) -> list[TrusteeShare]:
    return list(db.session.scalars(select(TrusteeShare).where(
        TrusteeShare.term_id == term.id, TrusteeShare.recipient == trustee.index).order_by(TrusteeShare.dealer)))


def dealings(term: TrusteeTerm) -> list[dict]:
    return [{"index": t.index, "commitments": list(t.commitments), "proofs": list(t.proofs)}
            for t in term.active if t.commitments is not None]


def joint_key(term: TrusteeTerm) -> str:
    return threshold.joint_key({t.index: [Point.from_hex(c) for c in t.commitments] for t in term.active}).hex()


def confirm(term: TrusteeTerm, user, public_key, round_=None, now: datetime | None = None) -> TrusteeTerm:
    """Step 3: the device opened and checked every share it received and computed this joint key. When every
    trustee has confirmed, the key is ready and its record published."""
    now = now or utcnow()
    lock_programme(term.programme_id)  # step 1 of the lock order (salon/database.py)
    db.session.refresh(term)
    enforce_deadline(term, now)  # first: the late then find themselves dropped, the prompt the ceremony restarted
    trustee = _acting(term, user, CHECKING, _("checking"))
    _check_round(term, round_)
    if trustee.confirmed_at is not None:
        raise Conflict(_("You have confirmed already."), "public_key")
    if public_key != joint_key(term):
        raise ValidationFailed(_("public_key: not the joint key of this round's dealings."), "public_key")
    trustee.confirmed_at = now
    db.session.flush()
    if all(t.confirmed_at is not None for t in term.active):
        term.state = READY
        term.ready_at = now
        term.deadline = None
        term.key_record = board.key_record(term.key_term, term.threshold, dealings(term))
        _retire_replaced(term, now)
        db.session.flush()
        audit.record(term.programme_id, user, "trustees.ready", term, public_key=term.key_record["public_key"])
    return term


def _retire_replaced(term: TrusteeTerm, now: datetime) -> None:
    """A new drawn term, once ready, takes over from the one before (which still decrypts its own polls)."""
    if term.kind != DRAWN:
        return
    db.session.execute(update(TrusteeTerm).where(
        TrusteeTerm.programme_id == term.programme_id, TrusteeTerm.kind == DRAWN, TrusteeTerm.id < term.id,
        TrusteeTerm.retired_at.is_(None)).values(retired_at=now))


def complain(term: TrusteeTerm, user, dealer, evidence, round_=None, now: datetime | None = None) -> TrusteeComplaint:
    """The share from `dealer` failed on this trustee's device (it did not open, or failed Feldman's check). The
    complaint carries `evidence`: {"shared_point", "proof"}, the ECDH point that opens that share and its proof
    (salon.sealed.transport). It is decided at once, by anyone's check of the share (transport.judge_complaint):
    upheld, the dealer is dropped and the ceremony restarts without them (or the term fails, fewer than three
    left); rejected, the share is published with the complaint and the ceremony goes on (docs/sealed-ballots.md,
    "Complaints, decided by evidence"). Shown on the term's page and in the audit log."""
    now = now or utcnow()
    lock_programme(term.programme_id)  # step 1 of the lock order (salon/database.py)
    db.session.refresh(term)
    enforce_deadline(term, now)  # first: the late then find themselves dropped, the prompt the ceremony restarted
    trustee = trustee_of(term, user)
    if trustee is None:
        _refuse_outsider(term, user)
    _check_round(term, round_)
    dealers = {t.index: t for t in term.active}
    decided = {c.against for c in term.complaints if c.round == term.round and c.by == trustee.index}
    why = rules.may_complain(term.state, trustee.confirmed_at is not None, dealer, set(dealers), trustee.index,
                             decided)
    if why == "state":
        raise Conflict(_("The ceremony is not at this step (%(what)s): reload the page.", what=_("checking")),
                       "state")
    if why == "confirmed":
        raise Conflict(_("You have confirmed your shares already: you can no longer complain in this round."),
                       "dealer")
    if why == "dealer":
        raise ValidationFailed(_("dealer: the index of another trustee of this term still in its ceremony."),
                               "dealer")
    if why == "decided":
        raise Conflict(_("Your complaint against this trustee has been decided already in this round."), "dealer")
    accused = dealers[dealer]
    share = db.session.scalar(select(TrusteeShare).where(
        TrusteeShare.term_id == term.id, TrusteeShare.dealer == dealer, TrusteeShare.recipient == trustee.index))
    if not isinstance(evidence, dict) or set(evidence) != {"shared_point", "proof"}:
        raise ValidationFailed(_("evidence: the point that opens the share (shared_point) and its proof (c, s)."),
                               "evidence")
    try:
        verdict = transport.judge_complaint(
            term.key_term, term.round, dealer, trustee.index, [Point.from_hex(c) for c in accused.commitments],
            Point.from_hex(accused.transport_key), Point.from_hex(trustee.transport_key), share.ciphertext,
            evidence["shared_point"], evidence["proof"])
    except transport.BadEvidence:
        raise ValidationFailed(_("evidence: the point does not open your share, or its proof does not verify."),
                               "evidence") from None
    complaint = TrusteeComplaint(
        term_id=term.id, round=term.round, by=trustee.index, against=dealer, verdict=verdict.outcome,
        reason=verdict.reason, created_at=now,
        evidence={"ciphertext": share.ciphertext, "dealer_key": accused.transport_key,
                  "complainer_key": trustee.transport_key, "commitments": list(accused.commitments),
                  "shared_point": evidence["shared_point"], "proof": dict(evidence["proof"]),
                  "share": None if verdict.share is None else f"{verdict.share:064x}"})
    db.session.add(complaint)
    db.session.flush()
    audit.record(term.programme_id, user, "trustees.complaint", term, by=trustee.index, against=dealer,
                 verdict=verdict.outcome, reason=verdict.reason)
    if verdict.outcome == transport.UPHELD:
        accused.dropped_at = now
        accused.dropped_for = rules.COMPLAINT
        accused.missed_step = None
        db.session.flush()
        _restart(term, now)
        audit.record(term.programme_id, user, "trustees.dropped", term, trustee=dealer, state=term.state,
                     reason=rules.COMPLAINT)
    db.session.expire(term, ["complaints"])
    return complaint


def _restart(term: TrusteeTerm, now: datetime) -> None:
    """After a dealer was dropped, or the late at a deadline: the others deal afresh in the next round, k = n − 1
    of those left, with a fresh deadline; or the term fails (salon.rules.trustees.state_after_drop)."""
    db.session.execute(delete(TrusteeShare).where(TrusteeShare.term_id == term.id))
    db.session.execute(update(Trustee).where(Trustee.term_id == term.id).values(
        transport_key=None, commitments=None, proofs=None, dealt_at=None, shared_at=None, confirmed_at=None))
    db.session.expire(term, ["trustees"])
    remaining = len(term.active)
    term.round += 1
    term.state = rules.state_after_drop(remaining)
    term.deadline = rules.step_deadline(now) if term.state == DEALING else None
    if term.state != FAILED:
        term.threshold = rules.threshold(remaining)
    db.session.flush()
    db.session.expire(term, ["trustees"])


# --- deadlines (salon.rules.trustees.STEP_DAYS; docs/sealed-ballots.md, "Deadlines") -------------------------

def awaited_at_step(term: TrusteeTerm) -> list[Trustee]:
    """The trustees still in the ceremony who have not done its current step (the late, once its deadline has
    come); empty outside the steps."""
    if term.state not in rules.STEPS:
        return []
    return [t for t in term.active if not rules.has_done_step(term.state, t)]


def deadline_due(term: TrusteeTerm, now: datetime) -> bool:
    """Whether the deadline of the term's current step has come (its moment included)."""
    return term.state in rules.STEPS and term.deadline is not None and now >= term.deadline


def has_done_step(term: TrusteeTerm, trustee: Trustee) -> bool:
    """Whether the trustee has done the term's current step (salon.rules.trustees.has_done_step)."""
    return rules.has_done_step(term.state, trustee)


def dropped_late(trustee: Trustee) -> bool:
    """Whether a missed deadline dropped this trustee (not a complaint)."""
    return trustee.dropped_at is not None and trustee.dropped_for == rules.DEADLINE


def enforce_deadline(term: TrusteeTerm, now: datetime | None = None) -> list[Trustee]:
    """At or after the deadline of the term's current step: the trustees who have not done it are dropped, as an
    upheld complaint drops a dealer, and the rest restart with a fresh deadline (or the term fails, fewer than
    three left). Run by the first request that reads or acts on the term after the moment, and by `salon tick`
    (advance). Audited per trustee dropped. Answers those dropped (none before the deadline)."""
    now = now or utcnow()
    if not deadline_due(term, now):
        return []
    lock_programme(term.programme_id)  # step 1 of the lock order (salon/database.py)
    db.session.refresh(term)
    db.session.expire(term, ["trustees"])
    step = term.state
    late = rules.late(step, term.deadline, term.active, now)
    if not late:
        return []
    for trustee in late:
        trustee.dropped_at = now
        trustee.dropped_for = rules.DEADLINE
        trustee.missed_step = step
    db.session.flush()
    _restart(term, now)
    for trustee in late:
        audit.record(term.programme_id, None, "trustees.dropped", term, trustee=trustee.index, state=term.state,
                     reason=rules.DEADLINE, step=step)
    term_id, programme_id = term.id, term.programme_id
    # A request refused after this (the late trustee's own step) is rolled back: the drop is written again.
    keep_if_refused(lambda: enforce_deadline(get_term(term_id, programme_id), now))
    return late


def enforce_deadlines(programme_id: int, now: datetime) -> list[tuple[TrusteeTerm, list[Trustee]]]:
    """Every term of the programme whose step's deadline has come (enforce_deadline), in one statement when none."""
    due = list(db.session.scalars(select(TrusteeTerm).where(
        TrusteeTerm.programme_id == programme_id, TrusteeTerm.state.in_(rules.STEPS),
        TrusteeTerm.deadline.is_not(None), TrusteeTerm.deadline <= now).order_by(TrusteeTerm.id)))
    return [(term, dropped) for term in due if (dropped := enforce_deadline(term, now))]


def ceremony_trustees(term_ids: list[int]) -> dict[int, list[Trustee]]:
    """For the bureau's home page, in one statement: every trustee of these terms (their user loaded), by term."""
    if not term_ids:
        return {}
    out: dict[int, list[Trustee]] = {}
    for trustee in db.session.scalars(select(Trustee).options(joinedload(Trustee.user))
                                      .where(Trustee.term_id.in_(term_ids)).order_by(Trustee.term_id, Trustee.index)):
        out.setdefault(trustee.term_id, []).append(trustee)
    return out


def late_counts(term_ids: list[int]) -> dict[int, int]:
    """For the terms' list, in one statement: per term, how many trustees a missed deadline dropped."""
    if not term_ids:
        return {}
    return dict(db.session.execute(
        select(Trustee.term_id, func.count()).where(Trustee.term_id.in_(term_ids),
                                                    Trustee.dropped_for == rules.DEADLINE)
        .group_by(Trustee.term_id)).all())


def complaint_counts(term_ids: list[int]) -> dict[int, dict[str, int]]:
    """For the terms' list, in one statement: per term, how many complaints were upheld and rejected."""
    if not term_ids:
        return {}
    out: dict[int, dict[str, int]] = {}
    for term_id, verdict, count in db.session.execute(
            select(TrusteeComplaint.term_id, TrusteeComplaint.verdict, func.count())
            .where(TrusteeComplaint.term_id.in_(term_ids))
            .group_by(TrusteeComplaint.term_id, TrusteeComplaint.verdict)):
        out.setdefault(term_id, {})[verdict] = count
    return out


def complaints_of_round(term: TrusteeTerm) -> list[dict]:
    """This round's decided complaints as a device reads them (a rejected one's share is public)."""
    return [{"by": c.by, "against": c.against, "verdict": c.verdict, "reason": c.reason,
             "share": c.evidence.get("share") if c.verdict == transport.REJECTED else None}
            for c in term.complaints if c.round == term.round]


def device_state(term: TrusteeTerm, trustee: Trustee | None) -> dict:
    """What a trustee's device reads at each step (and the bureau's status view, without shares): the trustees
    still in the ceremony, those dropped, and this round's complaints."""
    out = {"term": term.key_term, "id": term.id, "round": term.round, "state": term.state,
           "threshold": term.threshold, "me": trustee.index if trustee else None, "deadline": term.deadline,
           "trustees": [{"index": t.index, "name": t.user.display_name, "community": t.public_id,
                         "dealt": t.dealt_at is not None, "shared": t.shared_at is not None,
                         "confirmed": t.confirmed_at is not None, "transport_key": t.transport_key,
                         "commitments": t.commitments} for t in term.active],
           "dropped": [t.index for t in term.trustees if t.dropped_at is not None],
           "shares": [], "public_key": term.key_record["public_key"] if term.key_record else None,
           "complaints": complaints_of_round(term)}
    if trustee is not None and term.state in (CHECKING, READY):
        out["shares"] = [{"dealer": s.dealer, "ciphertext": s.ciphertext} for s in shares_for(term, trustee)]
    return out


# --- decryption -------------------------------------------------------------------------------------------------

def awaiting(user) -> list[tuple[TrusteeTerm, Trustee, list]]:
    """Per ready term this user is a trustee of: the closed sealed polls still awaiting their factors."""
    out = []
    for term, trustee in terms_of(user):
        if term.state == READY:
            polls = ballots.polls_to_decrypt(term.programme_id, term.key_term, trustee.index)
            if polls:
                out.append((term, trustee, polls))
    return out


def poll_of_term(term: TrusteeTerm, trustee: Trustee, poll_id) -> object:
    """A closed sealed poll of this term that this trustee still has to decrypt, or 404."""
    for poll in ballots.polls_to_decrypt(term.programme_id, term.key_term, trustee.index):
        if str(poll.id) == str(poll_id):
            return poll
    raise NotFound(_("This poll awaits no decryption from you."), "poll_id")


def decryption_request_for(term: TrusteeTerm, user, poll_id) -> dict:
    """What the trustee's device needs for a closed poll (ballots.decryption_request) and its index."""
    trustee = trustee_of(term, user)
    if trustee is None:
        raise Forbidden(_("Only this term's trustees decrypt its polls."))
    return {"trustee": trustee.index, "request": ballots.decryption_request(poll_of_term(term, trustee, poll_id))}


def decrypt(term: TrusteeTerm, user, poll_id, decryption, now: datetime | None = None) -> bool:
    """A trustee's device's factors for a closed poll's sums; the engine checks every proof. Answers whether
    the poll is now counted (k trustees have decrypted)."""
    trustee = trustee_of(term, user)
    if trustee is None:
        raise Forbidden(_("Only this term's trustees decrypt its polls."))
    if term.state != READY:
        raise Conflict(_("This term's key is not ready."), "state")
    poll = poll_of_term(term, trustee, poll_id)
    if not isinstance(decryption, dict) or decryption.get("trustee") != trustee.index:
        raise ValidationFailed(_("decryption: your factors, with your trustee index."), "decryption")
    return ballots.record_decryption(poll, trustee.index, decryption)


def polls_awaited(term: TrusteeTerm) -> list[tuple[object, list[str], int, int]]:
    """The term's closed sealed polls still awaiting decryption, each with who is awaited (names), how many
    trustees have decrypted, and k: what the term's page shows everyone."""
    if term.state != READY:
        return []
    found: dict[int, object] = {}
    for t in term.active:
        for poll in ballots.polls_to_decrypt(term.programme_id, term.key_term, t.index):
            found.setdefault(poll.id, poll)
    return [(poll, *awaited_names(poll)) for _id, poll in sorted(found.items())]


# The polls whose outcome needs their counts: no outcome without them, however late (docs/sealed-ballots.md,
# "When the trustees do not decrypt in time"). A topic vote is decided without its tally (the topics room).
OUTCOME_KINDS = ("election", "review")


def overdue_outcomes(programme_id: int, now: datetime) -> list[tuple[object, list[str]]]:
    """For the bureau's home page: the closed elections' and reviews' polls whose decryption is overdue
    (salon.rules.trustees.decryption_overdue), oldest first, each with the names of the trustees awaited. One
    statement, and one more for the names when any is overdue."""
    first, last = rules.overdue_window(now)
    found = ballots.overdue_polls(programme_id, OUTCOME_KINDS, first, last)
    names = accounts.display_names(sorted({u for _p, users in found for u in users})) if found else {}
    return [(poll, [names[u] for u in users if u in names]) for poll, users in found]


def decryption_deadline(poll) -> datetime:
    """When the trustees' time to decrypt a closed poll ends (salon.rules.trustees.decryption_deadline)."""
    return rules.decryption_deadline(poll.closed_at)


def decryption_overdue(poll, now: datetime) -> bool:
    """Whether a closed poll not yet counted is past its decryption deadline (salon.rules.trustees)."""
    return rules.decryption_overdue(poll.closed_at, None, now)


def awaited_names(poll) -> tuple[list[str], int, int]:
    """For a page: who is still awaited for a sealed poll (names), how many have decrypted, and k."""
    done, k, trustees = ballots.decryption_status(poll)
    names = accounts.display_names([user_id for index, user_id in trustees if index not in set(done)])
    return [names[u] for i, u in trustees if i not in set(done) and u in names], len(done), k


# --- time ----------------------------------------------------------------------------------------------------------

def _retire_committees_gone(programme_id: int, sitting_id: int | None, now: datetime) -> None:
    """A committee's trustee term retires when its committee leaves office (it still decrypts its polls)."""
    gone = (TrusteeTerm.committee_term_id != sitting_id) if sitting_id is not None else true()
    db.session.execute(update(TrusteeTerm).where(
        TrusteeTerm.programme_id == programme_id, TrusteeTerm.kind == COMMITTEE, TrusteeTerm.retired_at.is_(None),
        gone).values(retired_at=now))


def may_await_decryption(term: TrusteeTerm, now: datetime) -> bool:
    """Whether closed polls of this key may still await decryption (salon.rules.trustees.may_await_decryption)."""
    return rules.may_await_decryption(term, now)


def advance(programme, now: datetime | None = None) -> list[str]:
    """`salon tick` and the trustees page: the deadlines of the ceremonies' steps that have come are applied
    (enforce_deadlines); a seated committee without its term of trustees (seated before this room existed, or its
    members changed since) gets one."""
    now = now or utcnow()
    said = [f"{programme.name}: {len(dropped)} trustees missed the deadline of term {term.id} and were dropped "
            f"({term.state})" for term, dropped in enforce_deadlines(programme.id, now)]
    sitting = committee.sitting_term(programme.id)
    _retire_committees_gone(programme.id, sitting.id if sitting is not None else None, now)
    if sitting is None:
        return said
    before = committee_term_for(sitting.id)
    after = sync_committee(programme.id, now)
    if after is not None and after is not before:
        return said + [f"{programme.name}: the committee's trustees start their key ceremony"]
    return said
