"""Sealed polls (SPEC §5.1; docs/sealed-ballots.md, "Integration"): the trustee key a poll is opened with,
what a client needs to seal a ballot (the seal spec), checking or sealing a ballot before it is cast, the
encrypted tally of the close, the trustees' decryptions, the count, and the bulletin board.

A poll is sealed when, at its opening, the key provider (registered by the trustees room) gives a ready key;
the poll keeps that key for life. Its ballots are stored only as ciphertexts with their proofs, by fingerprint,
with no voter link (models.SealedBallot); its counter rows stay at zero until k trustees have decrypted the
sums, then the combined counts are written into them (shard 0) so every reader of results works unchanged.

The publication minimum (SPEC §5): when fewer ballots than the poll's minimum were cast, the sums whose counts
SPEC withholds are never decrypted (`undecrypted`) — not asked of the trustees, refused if sent, left at zero
in the counters — unless the poll's kind needs them to reach its outcome, and every count SPEC withholds is null
on the bulletin board (`withheld`), its decryption factors left off. What a kind decrypts and publishes below
the minimum it names when it registers (labels.register_kind, salon.rules.ballots.left_out_below_minimum): a
topic vote nothing, so it is counted at its close with no trustee; an election decrypts its approval question
(who won needs every count) and publishes none of it; a review decrypts and publishes its oppose sum only.

Blank answers: a single-choice question (a review's) is sealed with its hidden blank option as one more
position (last), every answer exactly one of them (min = max = 1), so its blank count is decrypted like any
option. An approval question (0 … K approvals) is sealed, in protocol version 2, with its options and then its
blank position (the hidden blank option), proven set exactly when nothing is approved, so its blank count is
decrypted too. A poll opened with version 1 (before it) keeps it until published: its approval questions have
no blank position and count no blank ballots (docs/sealed-ballots.md, "Versions")."""
from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from salon import clock
from salon.accounts import services as accounts
from salon.audit import services as audit
from salon.ballots import signals
from salon.ballots.models import Counter, Decryption, Option, Poll, PollState, Question, SealedBallot, SealedKey
from salon.database import lock_poll, lock_programme
from salon.errors import Conflict, NotFound, ValidationFailed
from salon.extensions import db
from salon.rows import get_scoped
from salon.rules import ballots as rules
from salon.sealed import ballot as sealed_ballot
from salon.sealed import board as sealed_board
from salon.sealed import threshold
from salon.sealed.elgamal import Ciphertext, SmallLogs
from salon.sealed.group import LATEST, PROTOCOLS, EncodingError, Point
from salon.sealed.proofs import Branch

from .labels import below_minimum

SEAL_SPEC_FORMATS = {1: "salon-seal-spec-1", 2: "salon-seal-spec-2"}  # by protocol version
SEAL_SPEC_FORMAT = SEAL_SPEC_FORMATS[LATEST]
SEALED_BY_VOTER = "voter"
SEALED_BY_SERVER = "server"
_PROVIDER = "salon_ballot_key_provider"


@dataclass(frozen=True)
class PollKey:
    """A ready trustee key, as the key provider gives it: `record` is salon.sealed.board.key_record(...)'s output
    (with `public_key`), `trustees` the (index, user id) pairs of its trustees."""
    term: str
    threshold: int
    record: dict
    trustees: tuple[tuple[int, int], ...]


def register_key_provider(app, provider) -> None:
    """`provider(programme_id, kind, now) -> PollKey | None`, asked by open_poll (the trustees room's init_app)."""
    app.extensions[_PROVIDER] = provider


def provided_key(programme_id: int, kind: str, now: datetime) -> PollKey | None:
    provider = current_app.extensions.get(_PROVIDER) if has_app_context() else None
    return provider(programme_id, kind, now) if provider is not None else None


@dataclass(frozen=True)
class SealedShape:
    """A sealed poll's questions as the protocol sees them (fixed once the poll is open)."""
    poll_id: int
    programme_id: int
    seal: str  # the poll's opening (Poll.seal)
    context: str  # the proof context: f"{poll.id}:{poll.seal}"
    public_key: Point
    questions: tuple[sealed_ballot.Question, ...]
    option_ids: tuple[tuple[int | None, ...], ...]  # per question, ballot position → option id (None: blank)
    blank_ids: tuple[int | None, ...]  # per question, its hidden blank option when sealed as a position
    question_ids: tuple[int, ...]
    protocol: int = 1  # the version the poll opened with (SealedKey.protocol)


_shapes: OrderedDict = OrderedDict()


def _question_layout(poll_id: int) -> list[tuple[Question, list[Option], Option | None]]:
    questions = db.session.scalars(select(Question).where(Question.poll_id == poll_id)
                                   .order_by(Question.position, Question.id)).all()
    options = db.session.scalars(select(Option).where(Option.poll_id == poll_id)
                                 .order_by(Option.position, Option.id)).all()
    layout = []
    for question in questions:
        mine = [o for o in options if o.question_id == question.id]
        layout.append((question, [o for o in mine if not o.is_blank], next((o for o in mine if o.is_blank), None)))
    return layout


def _has_blank_position(kind: str, protocol: int) -> bool:
    """Whether a question of this kind is sealed with its blank answer as a position: a single-choice one always
    (one of its answers), an approval one from protocol version 2 on (the blank position b)."""
    return kind == rules.SINGLE or protocol >= 2


def _build_shape(poll_id: int, programme_id: int, seal: str, public_key: str, protocol: int) -> SealedShape:
    questions, option_ids, blank_ids, question_ids = [], [], [], []
    for question, options, blank in _question_layout(poll_id):
        ids: list[int | None] = [o.id for o in options]
        if question.kind == rules.SINGLE:
            least = most = 1
        else:
            least, most = 0, min(question.max_choices, len(ids))
        if _has_blank_position(question.kind, protocol):
            ids.append(None)  # the blank answer: the last position
            blank_ids.append(blank.id if blank else None)
        else:
            blank_ids.append(None)
        weighted = question.kind != rules.SINGLE and protocol >= 2
        questions.append(sealed_ballot.Question(str(question.id), len(ids), least, most, weighted))
        option_ids.append(tuple(ids))
        question_ids.append(question.id)
    return SealedShape(poll_id, programme_id, seal, f"{poll_id}:{seal}", Point.from_hex(public_key), tuple(questions),
                       tuple(option_ids), tuple(blank_ids), tuple(question_ids), protocol)


def can_seal(poll: Poll) -> bool:
    """Whether the protocol can carry the poll's questions: every question has 1 … MAX_OPTIONS options (a
    single-choice one counting its blank answer), the blank position of an approval one on top."""
    for question, options, _blank in _question_layout(poll.id):
        positions = len(options) + (1 if question.kind == rules.SINGLE else 0)
        if not 1 <= positions <= sealed_ballot.MAX_OPTIONS:
            return False
    return True


def sealed_shape(poll_id: int, seal: str | None = None) -> SealedShape | None:
    """The shape of a sealed poll that has opened; None for a plain poll (or one not opened yet). Cached per
    opening (the poll's seal); without the seal, the poll row is read first (one small query)."""
    if seal is None:
        row = db.session.execute(select(Poll.seal, Poll.sealed).where(Poll.id == poll_id)).first()
        if row is None or not row.sealed or row.seal is None:
            return None
        seal = row.seal
    cached = _shapes.get(poll_id)
    if cached is not None and cached.seal == seal:
        return cached
    row = db.session.execute(select(Poll.programme_id, SealedKey.record, SealedKey.protocol)
                             .join(SealedKey, SealedKey.poll_id == Poll.id).where(Poll.id == poll_id)).first()
    if row is None:
        return None
    shape = _build_shape(poll_id, row.programme_id, seal, row.record["public_key"], row.protocol or 1)
    _shapes[poll_id] = shape
    _shapes.move_to_end(poll_id)
    while len(_shapes) > 512:
        _shapes.popitem(last=False)
    return shape


def cached_shape(poll_id: int) -> SealedShape | None:
    """The shape this process remembers for the poll, not checked against its row: casting uses it to check a
    sealed ballot without first reading the poll (the seal is compared under the poll's lock), and falls back
    to sealed_shape() when it turns out stale (another database's poll of this id, a poll opened again)."""
    return _shapes.get(poll_id)


def forget_shape(poll_id: int) -> None:
    _shapes.pop(poll_id, None)


def snapshot_key(poll: Poll, key: PollKey) -> None:
    """Called by open_poll, in the opening transaction: the poll keeps this key for life."""
    db.session.add(SealedKey(poll_id=poll.id, programme_id=poll.programme_id, term=key.term,
                             threshold=key.threshold, record=key.record,
                             trustees=[[int(i), int(u)] for i, u in key.trustees], protocol=LATEST))
    poll.sealed = True


def poll_key(poll: Poll) -> PollKey | None:
    """The key a sealed poll was opened with, as the provider gave it (an election's runoff opens with it)."""
    key = db.session.get(SealedKey, poll.id)
    if key is None:
        return None
    return PollKey(key.term, key.threshold, key.record, tuple((int(i), int(u)) for i, u in key.trustees))


def seal_spec(poll: Poll) -> dict | None:
    """What a client needs to seal a ballot for the poll (null for a plain poll): served by the API and
    embedded in the vote page. `option_ids` maps ballot positions to the option ids a plain cast would send;
    `blank` is the position of the hidden blank answer of a single-choice question (option id null)."""
    if not poll.sealed or poll.state == PollState.DRAFT:
        return None
    shape = sealed_shape(poll.id, poll.seal)
    if shape is None:
        return None
    key = db.session.get(SealedKey, poll.id)
    spec = {"format": SEAL_SPEC_FORMATS[shape.protocol], "poll": shape.context, "public_key": shape.public_key.hex(),
            "threshold": key.threshold,
            "questions": [{"id": q.id, "options": q.options, "min": q.min, "max": q.max, "option_ids": list(ids),
                           "blank": ids.index(None) if None in ids else None}
                          for q, ids in zip(shape.questions, shape.option_ids)]}
    if shape.protocol >= 2:
        spec["protocol"] = PROTOCOLS[shape.protocol]
    return spec


@dataclass(frozen=True)
class Prepared:
    """A sealed ballot checked (or sealed by the server) outside the poll's lock, ready to be stored."""
    seal: str
    fingerprint: str
    ballot_json: str
    sealed_by: str
    alphas: tuple[str, ...]


def _plain_rows(shape: SealedShape, answers: dict[int, list[int]]) -> list[list[int]]:
    rows = []
    for qid, ids in zip(shape.question_ids, shape.option_ids):
        chosen = set(answers.get(qid) or ())
        row = [1 if oid in chosen else 0 for oid in ids]
        if None in ids and not chosen:
            row[ids.index(None)] = 1  # a single-choice question answered blank
        rows.append(row)
    return rows


def prepare(shape: SealedShape, answers: dict[int, list[int]] | None, ballot) -> Prepared:
    """Check a voter's sealed ballot (its proofs, its poll and questions), or seal plain answers on the
    server (SPEC §5.1: the server then saw the choice, in memory only). Runs before the poll's lock is taken."""
    if ballot is not None:
        problems, rows = sealed_ballot.check(ballot, shape.context, shape.public_key, list(shape.questions),
                                             shape.protocol)
        if problems or rows is None:
            raise ValidationFailed(_("The sealed ballot is not valid for this poll: %(problem)s",
                                     problem=problems[0] if problems else "malformed"), "sealed")
        by = SEALED_BY_VOTER
    else:
        ballot = sealed_ballot.seal(shape.context, shape.public_key, list(shape.questions),
                                    _plain_rows(shape, answers or {}), protocol=shape.protocol)
        rows = sealed_ballot.ballot_ciphertexts(ballot, list(shape.questions))
        by = SEALED_BY_SERVER
    alphas = tuple(c.alpha.hex() for row in rows for c in row)
    if len(set(alphas)) != len(alphas):
        raise ValidationFailed(_("The sealed ballot repeats a ciphertext."), "sealed")
    canonical = sealed_ballot.canonical_json(ballot)  # once: the stored text and its fingerprint
    return Prepared(shape.seal, hashlib.sha256(canonical).hexdigest(), canonical.decode("ascii"), by, alphas)


def tally_at_close(poll: Poll) -> None:
    """In the close: the encrypted sums of the poll's ballots, stored with its key (no plain data to erase)."""
    shape = sealed_shape(poll.id, poll.seal)
    key = db.session.get(SealedKey, poll.id)
    ballots = [json.loads(b) for b in db.session.scalars(select(SealedBallot.ballot)
                                                         .where(SealedBallot.poll_id == poll.id))]
    key.tally = sealed_board.tally_json(sealed_board.tally(list(shape.questions), ballots))


def sealed_turnout(poll_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(SealedBallot).where(SealedBallot.poll_id == poll_id))


def _position_codes(poll: Poll) -> list[list[tuple[str | None, str | None]]]:
    """(question code, option code) of each ballot position, in the order of the sealed shape (a single-choice
    question's blank answer last, its option code None; an approval question's blank position last, its code
    rules.BLANK_ANSWER)."""
    shape = sealed_shape(poll.id, poll.seal)
    protocol = shape.protocol if shape is not None else LATEST
    positions = []
    for question, options, _blank in _question_layout(poll.id):
        row = [(question.code, o.code) for o in options]
        if question.kind == rules.SINGLE:
            row.append((question.code, None))
        elif _has_blank_position(question.kind, protocol):
            row.append((question.code, rules.BLANK_ANSWER))
        positions.append(row)
    return positions


def undecrypted(poll: Poll, turnout: int | None = None) -> list[list[bool]]:
    """undecrypted[q][o]: whether the sum of ballot position o of question q is never decrypted, because fewer
    ballots than the poll's minimum were cast and its kind does not need that count for its outcome (SPEC §5).
    Fixed once the poll is closed (its turnout no longer changes)."""
    turnout = sealed_turnout(poll.id) if turnout is None else turnout
    decrypted, _published = below_minimum(poll.kind)
    return rules.left_out_below_minimum(turnout, poll.min_published, _position_codes(poll), decrypted)


def withheld(poll: Poll, turnout: int | None = None) -> list[list[bool]]:
    """withheld[q][o]: whether the count of ballot position o of question q is withheld (SPEC §5): null on the
    bulletin board, its decryption factors left off. Every undecrypted sum is withheld; an election's counts,
    decrypted below the minimum to name the winners, are withheld too."""
    turnout = sealed_turnout(poll.id) if turnout is None else turnout
    _decrypted, published = below_minimum(poll.kind)
    return rules.left_out_below_minimum(turnout, poll.min_published, _position_codes(poll), published)


def undecrypted_option_ids(poll: Poll) -> set[int]:
    """The option ids (a single-choice question's blank option included) whose counts a closed sealed poll never
    decrypts; empty for a plain poll or when the counts are published."""
    if not poll.sealed or poll.state != PollState.CLOSED:
        return set()
    shape = sealed_shape(poll.id, poll.seal)
    if shape is None:
        return set()
    mask = undecrypted(poll)
    out = set()
    for q, row in enumerate(mask):
        for o, hidden in enumerate(row):
            option_id = shape.option_ids[q][o]
            option_id = option_id if option_id is not None else shape.blank_ids[q]
            if hidden and option_id is not None:
                out.add(option_id)
    return out


def counts_blanks(poll: Poll, kind: str) -> bool:
    """Whether a poll counts the blank answers of its questions of this kind: a plain poll and a single-choice
    question always; a sealed approval question from protocol version 2 on (its blank position)."""
    if not poll.sealed or kind == rules.SINGLE:
        return True
    return (db.session.scalar(select(SealedKey.protocol).where(SealedKey.poll_id == poll.id)) or 1) >= 2


def nothing_to_decrypt(poll: Poll) -> bool:
    """Whether every sum of the poll stays undecrypted (below the minimum, a kind whose outcome needs no count):
    then the close counts it, and no trustee is asked."""
    return all(all(row) for row in undecrypted(poll))


def count_at_close(poll: Poll, now: datetime) -> bool:
    """In the close, after poll_closed: a sealed poll with no sum to decrypt (below the minimum, a kind whose
    outcome needs no count) is counted at once, with no trustee, and poll_counted sent, so the programme goes
    on. Answers whether it was."""
    if not nothing_to_decrypt(poll):
        return False
    key = db.session.get(SealedKey, poll.id)
    _count(poll, key, now)
    return True


def is_counted(poll: Poll) -> bool:
    """A plain poll is counted once closed; a sealed one once k trustees have decrypted its sums."""
    if poll.state != PollState.CLOSED:
        return False
    if not poll.sealed:
        return True
    return db.session.scalar(select(SealedKey.counted_at).where(SealedKey.poll_id == poll.id)) is not None


def counted_at(poll: Poll) -> datetime | None:
    """When the poll's counts became known: a plain poll's close; a sealed one's SealedKey.counted_at (the k-th
    trustee's decryption, or the close itself when nothing was to be decrypted). None while open or awaited."""
    if poll.state != PollState.CLOSED:
        return None
    if not poll.sealed:
        return poll.closed_at
    return db.session.scalar(select(SealedKey.counted_at).where(SealedKey.poll_id == poll.id))


def polls_to_decrypt(programme_id: int, term: str, index: int) -> list[Poll]:
    """Closed sealed polls of that key term, not yet counted, that trustee `index` has not decrypted."""
    decrypted = select(Decryption.poll_id).where(Decryption.trustee == index)
    polls = db.session.execute(
        select(Poll, SealedKey.trustees).join(SealedKey, SealedKey.poll_id == Poll.id)
        .where(Poll.programme_id == programme_id, Poll.state == PollState.CLOSED, SealedKey.term == term,
               SealedKey.counted_at.is_(None), SealedKey.tally.is_not(None), Poll.id.not_in(decrypted))
        .order_by(Poll.closed_at, Poll.id)).all()
    return [poll for poll, trustees in polls if any(i == index for i, _u in trustees)]


def decryption_request(poll: Poll) -> dict:
    """All a trustee's device needs to compute its factors (sealed.js trusteeFactors,
    salon.sealed.board.trustee_factors): `undecrypted[q][o]` marks the sums it must not decrypt (SPEC §5's
    minimum), for which it sends null."""
    shape = sealed_shape(poll.id, poll.seal)
    key = db.session.get(SealedKey, poll.id)
    if shape is None or key is None or key.tally is None:
        raise Conflict(_("This poll has no sealed tally to decrypt."), "poll")
    return {"poll": shape.context, "public_key": shape.public_key.hex(),
            "questions": [q.to_json() for q in shape.questions], "tally": key.tally,
            **({"protocol": PROTOCOLS[shape.protocol]} if shape.protocol >= 2 else {}),
            "undecrypted": undecrypted(poll)}


def decryption_status(poll: Poll) -> tuple[list[int], int, tuple[tuple[int, int], ...]]:
    """(trustee indexes that have decrypted, threshold k, (index, user id) of every trustee)."""
    key = db.session.get(SealedKey, poll.id)
    if key is None:
        return [], 0, ()
    done = list(db.session.scalars(select(Decryption.trustee).where(Decryption.poll_id == poll.id)
                                   .order_by(Decryption.trustee)))
    return done, key.threshold, tuple((int(i), int(u)) for i, u in key.trustees)


def awaited_names(poll_ids: list[int]) -> dict[int, tuple[str, ...]]:
    """For lists and home pages, in two statements whatever their number: per sealed poll, the names of its trustees
    who have not decrypted it yet, in trustee order (what sealed_progress says of one poll)."""
    if not poll_ids:
        return {}
    trustees: dict[int, list[tuple[int, int]]] = {}
    done: dict[int, set[int]] = {}
    for poll_id, pairs, index in db.session.execute(
            select(SealedKey.poll_id, SealedKey.trustees, Decryption.trustee)
            .outerjoin(Decryption, Decryption.poll_id == SealedKey.poll_id)
            .where(SealedKey.poll_id.in_(poll_ids))):
        trustees[poll_id] = [(int(i), int(u)) for i, u in pairs]
        if index is not None:
            done.setdefault(poll_id, set()).add(index)
    awaited = {poll_id: [u for i, u in pairs if i not in done.get(poll_id, set())]
               for poll_id, pairs in trustees.items()}
    names = accounts.display_names(sorted({u for users in awaited.values() for u in users}))
    return {poll_id: tuple(names[u] for u in users if u in names) for poll_id, users in awaited.items()}


def overdue_polls(programme_id: int, kinds: tuple[str, ...], closed_after: datetime, closed_by: datetime
                  ) -> list[tuple[Poll, tuple[int, ...]]]:
    """In one statement: the programme's closed sealed polls of `kinds` that closed in [closed_after, closed_by]
    and are not counted yet, oldest first, each with the user ids of its trustees who have not decrypted it (the
    caller's window: salon.rules.trustees' decryption deadline, bounded so the cost does not grow with the years)."""
    polls: dict[int, Poll] = {}
    trustees: dict[int, list[tuple[int, int]]] = {}
    done: dict[int, set[int]] = {}
    for poll, pairs, index in db.session.execute(
            select(Poll, SealedKey.trustees, Decryption.trustee).join(SealedKey, SealedKey.poll_id == Poll.id)
            .outerjoin(Decryption, Decryption.poll_id == Poll.id)
            .where(Poll.programme_id == programme_id, Poll.kind.in_(kinds), Poll.state == PollState.CLOSED,
                   Poll.closed_at >= closed_after, Poll.closed_at <= closed_by, SealedKey.counted_at.is_(None),
                   SealedKey.tally.is_not(None))
            .order_by(Poll.closed_at, Poll.id)):
        polls[poll.id] = poll
        trustees[poll.id] = [(int(i), int(u)) for i, u in pairs]
        if index is not None:
            done.setdefault(poll.id, set()).add(index)
    return [(poll, tuple(u for i, u in trustees[poll_id] if i not in done.get(poll_id, set())))
            for poll_id, poll in polls.items()]


@dataclass(frozen=True)
class Progress:
    decrypted: int
    threshold: int
    awaited: tuple[int, ...]  # the trustee indexes that have not decrypted
    awaited_users: tuple[int, ...]  # their user ids
    awaited_names: tuple[str, ...] = ()  # their display names, in trustee order: what the pages say


def sealed_progress(poll: Poll) -> Progress:
    """For the pages: how many trustees have decrypted the poll's sums, of the k needed, and who is awaited
    (by name: a voter reading "awaiting the trustees" learns whom to ask)."""
    done, k, trustees = decryption_status(poll)
    awaited = tuple((i, u) for i, u in trustees if i not in done)
    names = accounts.display_names([u for _i, u in awaited]) if awaited else {}
    return Progress(len(done), k, tuple(i for i, _u in awaited), tuple(u for _i, u in awaited),
                    tuple(names[u] for _i, u in awaited if u in names))


def _sums(key: SealedKey) -> list[list[Ciphertext]]:
    return sealed_board.tally_from_json(key.tally)


def _commitments(record: dict) -> dict[int, list[Point]]:
    return {t["index"]: [Point.from_hex(c) for c in t["commitments"]] for t in record["trustees"]}


def _checked_factors(shape: SealedShape, key: SealedKey, index: int, decryption, mask: list[list[bool]]) -> list:
    if not isinstance(decryption, dict):
        raise ValidationFailed(_("A decryption is an object with its factors."), "factors")
    if decryption.get("trustee", index) != index:
        raise ValidationFailed(_("The decryption names another trustee."), "trustee")
    factors = decryption.get("factors")
    questions = shape.questions
    if not (isinstance(factors, list) and len(factors) == len(questions)
            and all(isinstance(row, list) and len(row) == q.options for row, q in zip(factors, questions))):
        raise ValidationFailed(_("One decryption factor is needed for each sum of the tally."), "factors")
    verification_key = threshold.verification_key(_commitments(key.record), index)
    sums = _sums(key)
    clean = []
    for q, question in enumerate(questions):
        clean.append([])
        for o in range(question.options):
            item = factors[q][o]
            if mask[q][o]:
                if item is not None:
                    raise ValidationFailed(_("Fewer ballots than the minimum were cast: this count is withheld and "
                                             "must not be decrypted; send no factor for it."), "factors")
                clean[-1].append(None)
                continue
            try:
                factor = threshold.Factor(index, Point.from_hex(item.get("factor"), allow_identity=True),
                                          Branch.from_json(item.get("proof")))
            except (EncodingError, ValueError, AttributeError, TypeError):
                raise ValidationFailed(_("A decryption factor is malformed."), "factors") from None
            if not threshold.factor_is_valid(shape.context, shape.public_key, question.id, o, verification_key,
                                             sums[q][o], factor):
                raise ValidationFailed(_("A decryption factor is not proven: it was not made with this trustee's "
                                         "key share, or for another tally."), "factors")
            clean[-1].append(factor.to_json())
    return clean


def record_decryption(poll: Poll, index: int, decryption: dict, now: datetime | None = None) -> bool:
    """Check and store trustee `index`'s decryption of a closed sealed poll's sums; at the k-th trustee combine
    them, write the counts and send poll_counted. Answers whether the poll is now counted."""
    lock_programme(poll.programme_id)  # lock order: salon/database.py
    lock_poll(poll.id, shared=False)  # trustees one at a time: the k-th counts exactly once
    now = now or clock.utcnow()
    db.session.refresh(poll)
    key = db.session.scalar(select(SealedKey).where(SealedKey.poll_id == poll.id)
                            .execution_options(populate_existing=True))
    if not poll.sealed or key is None:
        raise Conflict(_("This poll's ballots are not sealed."), "poll")
    if poll.state != PollState.CLOSED or key.tally is None:
        raise Conflict(_("Voting is still open; its sums are decrypted after the close."), "poll")
    if key.counted_at is not None:
        raise Conflict(_("This poll has already been counted."), "poll")
    if not any(int(i) == index for i, _u in key.trustees):
        raise ValidationFailed(_("Not a trustee of this poll's key."), "trustee")
    if db.session.get(Decryption, (poll.id, index)) is not None:
        raise Conflict(_("This trustee has already decrypted this poll."), "trustee")
    if nothing_to_decrypt(poll):  # counted at the close; kept for a poll closed before this check
        raise Conflict(_("Fewer ballots than the minimum were cast: nothing of this poll is decrypted."), "poll")
    factors = _checked_factors(sealed_shape(poll.id, poll.seal), key, index, decryption, undecrypted(poll))
    db.session.add(Decryption(poll_id=poll.id, trustee=index, programme_id=poll.programme_id, factors=factors))
    db.session.flush()
    done = db.session.scalar(select(func.count()).select_from(Decryption).where(Decryption.poll_id == poll.id))
    audit.record(poll.programme_id, None, "poll.decrypt", poll, trustee=index)
    if done < key.threshold:
        return False
    _count(poll, key, now)
    return True


def _count(poll: Poll, key: SealedKey, now: datetime) -> None:
    """Combine the trustees' factors of every sum to decrypt and write those counts; undecrypted sums' counters
    stay at zero (nothing of them was decrypted). Sets counted_at and sends poll_counted."""
    shape = sealed_shape(poll.id, poll.seal)
    decryptions = db.session.scalars(select(Decryption).where(Decryption.poll_id == poll.id)).all()
    sums = _sums(key)
    ballots = sealed_turnout(poll.id)
    mask = undecrypted(poll, ballots)
    logs = SmallLogs(ballots)
    counts: dict[int, int] = {}
    for q, question in enumerate(shape.questions):
        for o in range(question.options):
            if mask[q][o]:
                continue
            combined = threshold.combine({d.trustee: Point.from_hex(d.factors[q][o]["factor"], allow_identity=True)
                                          for d in decryptions}, key.threshold)
            m = logs.log(sums[q][o].beta, combined)
            if m is None:  # cannot happen with proven factors; refuse rather than publish a wrong count
                raise Conflict(_("The trustees' decryptions do not give a count."), "factors")
            option_id = shape.option_ids[q][o]
            counts[option_id if option_id is not None else shape.blank_ids[q]] = m
    for option_id, n in sorted((k, v) for k, v in counts.items() if k is not None):
        db.session.execute(update(Counter).where(Counter.option_id == option_id, Counter.shard == 0).values(n=n))
    key.counted_at = now
    db.session.flush()
    hidden = sum(row.count(True) for row in mask)
    audit.record(poll.programme_id, None, "poll.counted", poll, kind=poll.kind,
                 trustees=len(decryptions), **({"undecrypted": hidden} if hidden else {}))
    signals.poll_counted.send(poll, actor=None, now=now)


def fingerprints(poll: Poll) -> list[str]:
    return list(db.session.scalars(select(SealedBallot.fingerprint).where(SealedBallot.poll_id == poll.id)
                                   .order_by(SealedBallot.fingerprint)))


def board(poll: Poll) -> dict | None:
    """The poll's bulletin board (salon.sealed.board.build_board) once counted; None before. Below SPEC §5's
    minimum it is published all the same — every ballot, proof and sum, so a voter still finds their fingerprint
    and anyone checks the ballots and the tally — with the counts SPEC withholds marked `withheld` (their factors
    left off, their counts null)."""
    if not poll.sealed or not is_counted(poll):
        return None
    shape = sealed_shape(poll.id, poll.seal)
    key = db.session.get(SealedKey, poll.id)
    sealed = [(json.loads(b), by) for b, by in db.session.execute(
        select(SealedBallot.ballot, SealedBallot.sealed_by).where(SealedBallot.poll_id == poll.id)
        .order_by(SealedBallot.fingerprint))]
    decryptions = [{"trustee": d.trustee, "factors": d.factors} for d in db.session.scalars(
        select(Decryption).where(Decryption.poll_id == poll.id).order_by(Decryption.trustee))]
    return sealed_board.build_board(shape.context, list(shape.questions), key.record, sealed, decryptions,
                                    _sums(key), minimum=poll.min_published, withheld=withheld(poll, len(sealed)),
                                    protocol=shape.protocol)


def published_board(poll: Poll) -> dict:
    """The board as published: Conflict until the poll is counted."""
    found = board(poll)
    if found is None:
        raise Conflict(_("The trustees have not yet decrypted this poll's count."), "poll")
    return found


def board_sealed_by(poll: Poll) -> dict[str, int]:
    """How many of the poll's ballots each party sealed ("voter", "server")."""
    return {by: n for by, n in db.session.execute(
        select(SealedBallot.sealed_by, func.count()).where(SealedBallot.poll_id == poll.id)
        .group_by(SealedBallot.sealed_by))}


def get_sealed_poll(poll_id, programme_id: int) -> Poll:
    poll = get_scoped(Poll, poll_id, programme_id, "poll_id")
    if not poll.sealed:
        raise NotFound(_("Not found."), "poll_id")
    return poll
