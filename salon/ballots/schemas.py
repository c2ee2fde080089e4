"""A poll as the API shows it, with its questions, options and (once published) results: the one schema and
payload of every API that answers with a poll (the engine's own routes, topic votes, elections, reviews). The
ballot engine offers it to the rooms that run polls, so a poll has one component in the OpenAPI document."""
from __future__ import annotations

from marshmallow import fields

from salon.api.schemas import DateTime, Strict
from salon.ballots import services
from salon.ballots.models import Poll
from salon.programmes.services import seat_of


class OptionSchema(Strict):
    id = fields.Int()
    label = fields.Str(metadata={"description": "in the reader's language when the option has a code"})
    code = fields.Str(allow_none=True, metadata={"description": "stable, e.g. oppose, effective"})
    ref_id = fields.Int(allow_none=True, metadata={"description": "e.g. the nomination, for a topic poll"})


class QuestionSchema(Strict):
    id = fields.Int()
    text = fields.Str()
    code = fields.Str(allow_none=True)
    ref_id = fields.Int(allow_none=True, metadata={"description": "e.g. the topic a review question asks about"})
    kind = fields.Str(metadata={"description": "approval (choose up to max_choices) or single"})
    max_choices = fields.Int()
    options = fields.List(fields.Nested(OptionSchema))


class CountSchema(Strict):
    option_id = fields.Int()
    n = fields.Int()


class BlankSchema(Strict):
    question_id = fields.Int()
    n = fields.Int()


class ResultsSchema(Strict):
    published = fields.Bool(metadata={"description": "false until the close (for a sealed poll: until the "
                                                    "trustees have decrypted), and below the minimum ballots"})
    awaiting_trustees = fields.Bool(metadata={"description": "a sealed poll closed, its sums not yet decrypted"})
    turnout = fields.Int()
    eligible = fields.Int()
    counts = fields.List(fields.Nested(CountSchema))
    blank = fields.Int(metadata={"description": "blank answers, summed over the questions"})
    blanks = fields.List(fields.Nested(BlankSchema), metadata={
        "description": "blank answers per question; a sealed poll opened before protocol salon-sealed-2 counted "
                       "none for its approval questions, which are left out (blanks_counted false)"})
    blanks_counted = fields.Bool(metadata={
        "description": "false when the blank answers of some question were not counted: the approval questions of "
                       "a sealed poll opened before protocol salon-sealed-2"})


class SealQuestionSchema(Strict):
    id = fields.Str(metadata={"description": "the question's id, as a string (the proofs are bound to it)"})
    options = fields.Int(metadata={"description": "ballot positions: the options, and a single-choice "
                                                  "question's blank answer last"})
    min = fields.Int()
    max = fields.Int()
    option_ids = fields.List(fields.Int(allow_none=True), metadata={
        "description": "the option id of each ballot position; null for the blank answer"})
    blank = fields.Int(allow_none=True, metadata={
        "description": "the blank answer's position, if it has one: a single-choice question's, and (protocol "
                       "salon-sealed-2) an approval question's blank position, set exactly when nothing is approved"})


class SealSpecSchema(Strict):
    format = fields.Str(metadata={"description": "salon-seal-spec-2 (salon-seal-spec-1: a poll opened before "
                                                "protocol salon-sealed-2)"})
    protocol = fields.Str(metadata={"description": "salon-sealed-2; absent from a salon-seal-spec-1"})
    poll = fields.Str(metadata={"description": "the proof context: poll id and opening"})
    public_key = fields.Str(metadata={"description": "the trustees' joint key (compressed secp256k1 point, hex)"})
    threshold = fields.Int(metadata={"description": "how many trustees must decrypt the sums"})
    questions = fields.List(fields.Nested(SealQuestionSchema))


class BoardBallotSchema(Strict):
    fingerprint = fields.Str()
    sealed_by = fields.Str(metadata={"description": "voter, or server for a ballot that arrived plain"})
    ballot = fields.Dict()


class BoardSchema(Strict):
    """docs/sealed-ballots.md, "The bulletin board"."""
    format = fields.Str(metadata={"description": "salon-sealed-board-3 (salon-sealed-board-2 or -1: a poll of "
                                                "protocol salon-sealed-1)"})
    protocol = fields.Str(metadata={"description": "salon-sealed-2; absent from older formats"})
    poll = fields.Str()
    questions = fields.List(fields.Dict())
    key = fields.Dict()
    minimum = fields.Int(metadata={"description": "the poll's publication minimum (SPEC §5)"})
    withheld = fields.List(fields.List(fields.Bool()), metadata={
        "description": "per tally sum: true when fewer ballots than the minimum were cast and its count is withheld "
                       "(never decrypted: its factors and its result are null)"})
    ballots = fields.List(fields.Nested(BoardBallotSchema))
    tally = fields.List(fields.List(fields.Dict()))
    decryptions = fields.List(fields.Dict())
    result = fields.List(fields.List(fields.Int(allow_none=True)))


class PollSchema(Strict):
    id = fields.Int()
    kind = fields.Str()
    subject_id = fields.Int(allow_none=True)
    title = fields.Str()
    state = fields.Str()
    opens_at = DateTime(allow_none=True)
    closes_at = DateTime()
    i_may_vote = fields.Bool()
    i_voted = fields.Bool()
    questions = fields.List(fields.Nested(QuestionSchema))
    results = fields.Nested(ResultsSchema)
    sealed = fields.Nested(SealSpecSchema, allow_none=True, metadata={
        "description": "what a client needs to seal a ballot (SPEC §5.1); null when the poll's ballots are not "
                       "sealed (opened before Salon sealed every poll)"})


def poll_payload(poll: Poll, user) -> dict:
    seat = seat_of(user) if user.is_secretary else None
    result = services.results(poll)
    return {
        "id": poll.id, "kind": poll.kind, "subject_id": poll.subject_id, "title": services.poll_title(poll),
        "state": poll.state.value, "opens_at": poll.opens_at, "closes_at": poll.closes_at,
        "i_may_vote": services.is_eligible(poll.id, seat.id if seat else None),
        "i_voted": services.has_voted(poll.id, seat.id if seat else None),
        "questions": [{"id": q.id, "text": services.question_text(q), "code": q.code, "ref_id": q.ref_id,
                       "kind": q.kind, "max_choices": q.max_choices,
                       "options": [{"id": o.id, "label": services.option_label(o), "code": o.code,
                                    "ref_id": o.ref_id} for o in q.options]}
                      for q in poll.questions],
        "sealed": services.seal_spec(poll),
        "results": {"published": result.published, "awaiting_trustees": result.awaiting_trustees,
                    "turnout": result.turnout, "eligible": result.eligible,
                    "counts": [{"option_id": k, "n": v} for k, v in sorted(result.counts.items())],
                    "blank": sum(result.blanks.values()),
                    "blanks": [{"question_id": k, "n": v} for k, v in sorted(result.blanks.items())],
                    "blanks_counted": result.blanks_counted},
    }
