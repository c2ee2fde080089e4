"""API: a session's topic — nominations, opening and closing the vote, the decision, agenda and guests."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint
from marshmallow import fields, validate

from salon import clock
from salon.accounts.auth import require_bureau
from salon.api.schemas import DateTime, MemberPickSchema, Strict
from salon.ballots import services as ballots
from salon.ballots.schemas import PollSchema, poll_payload
from salon.committee import services as committee
from salon.errors import NotFound
from salon.schedule import services as schedule
from salon.topics import limits, services
from salon.topics.models import HOPED_MAX, PROBLEM_MAX, RATIONALE_MAX, TITLE_MAX, UNITS_MAX

blp = Blueprint("api_topics", __name__, description="Topics: nominations, the vote, the decision, the agenda")


class NominationSchema(Strict):
    id = fields.Int(dump_only=True)
    session_id = fields.Int(dump_only=True)
    community_id = fields.Int(dump_only=True)
    community = fields.Function(lambda n: n.community.name, dump_only=True)
    title = fields.Str(required=True, validate=validate.Length(min=1, max=TITLE_MAX))
    problem = fields.Str(required=True, validate=validate.Length(min=1, max=PROBLEM_MAX),
                         metadata={"description": "the problem and the real cases behind it"})
    hoped_result = fields.Str(validate=validate.Length(max=HOPED_MAX))
    outside_units = fields.Str(validate=validate.Length(max=UNITS_MAX),
                               metadata={"description": "outside units that should attend"})
    carried_from_id = fields.Int(dump_only=True, allow_none=True)


class NominationPatchSchema(Strict):
    title = fields.Str(validate=validate.Length(min=1, max=TITLE_MAX))
    problem = fields.Str(validate=validate.Length(min=1, max=PROBLEM_MAX))
    hoped_result = fields.Str(validate=validate.Length(max=HOPED_MAX))
    outside_units = fields.Str(validate=validate.Length(max=UNITS_MAX))


class DecisionSchema(Strict):
    session_id = fields.Int(dump_only=True)
    nomination_id = fields.Int(required=True, strict=True)
    title = fields.Str(dump_only=True)
    rationale = fields.Str(load_default="", validate=validate.Length(max=RATIONALE_MAX),
                           metadata={"description": "mandatory when the pick is not the most approved"})
    decider = fields.Str(dump_only=True, metadata={"description": "bureau or committee"})
    decided_by = fields.Str(dump_only=True, allow_none=True,
                            metadata={"description": "the bureau's user; for the committee, the committee as a whole"})
    decided_at = DateTime(dump_only=True)
    followed_tally = fields.Bool(dump_only=True)
    reason = fields.Str(dump_only=True, metadata={
        "description": "majority (the committee), or why the bureau decided: bureau_sessions, no_committee, recall, "
                       "vacancy, deadline"})
    reason_text = fields.Str(dump_only=True, metadata={"description": "the bureau's reason in words"})
    term_id = fields.Int(dump_only=True, allow_none=True, metadata={"description": "the deciding committee's term"})
    tally_note = fields.Str(dump_only=True, metadata={"description": "not_most_approved, no_tally, or empty"})
    member_picks = fields.List(fields.Nested(MemberPickSchema), dump_only=True,
                               metadata={"description": "a committee decision: each member's signed pick"})


class WindowSchema(Strict):
    nominate_opens = DateTime(allow_none=True)
    nominate_closes = DateTime()
    vote_opens = DateTime()
    vote_closes = DateTime()


class TopicSchema(Strict):
    session_id = fields.Int()
    number = fields.Int(allow_none=True, metadata={"description": "第N期; null when cancelled"})
    starts_at = DateTime()
    windows = fields.Nested(WindowSchema)
    nominating = fields.Bool()
    decider = fields.Str()
    nominations = fields.List(fields.Nested(NominationSchema))
    poll = fields.Nested(PollSchema, allow_none=True)
    decision = fields.Nested(DecisionSchema, allow_none=True)


class AgendaItemSchema(Strict):
    title = fields.Str(required=True, validate=validate.Length(min=1, max=limits.AGENDA_TITLE.max))
    lead = fields.Str(load_default="", validate=validate.Length(max=limits.AGENDA_LEAD.max))
    minutes = fields.Int(required=True, strict=True,
                         validate=validate.Range(limits.ITEM_MINUTES_MIN, limits.ITEM_MINUTES_MAX),
                         metadata={"description": "the items together fit in the session's length"})
    note = fields.Str(load_default="", validate=validate.Length(max=limits.AGENDA_NOTE.max))
    starts_at = DateTime(dump_only=True)
    ends_at = DateTime(dump_only=True)


class AgendaSchema(Strict):
    items = fields.List(fields.Nested(AgendaItemSchema), required=True,
                        validate=validate.Length(min=1, max=limits.AGENDA_ITEMS_MAX))


class TimedAgendaSchema(Strict):
    items = fields.List(fields.Nested(AgendaItemSchema), metadata={"description": "empty until a topic is decided"})


class GuestSchema(Strict):
    id = fields.Int(dump_only=True)
    name = fields.Str(required=True, validate=validate.Length(min=1, max=limits.GUEST_NAME.max))
    unit = fields.Str(required=True, validate=validate.Length(min=1, max=limits.GUEST_UNIT.max))
    contact = fields.Str(load_default="", validate=validate.Length(max=limits.GUEST_CONTACT.max))



def _decision_out(decision) -> dict | None:
    if decision is None:
        return None
    poll = services.topic_poll(decision.session_id)
    shown = committee.shown_decision(decision, poll is not None and ballots.results(poll).published)
    return {"session_id": decision.session_id, "nomination_id": decision.nomination_id,
            "title": decision.nomination.title, "rationale": decision.rationale, "decider": decision.decider,
            "decided_by": decision.decided_by.display_name if decision.decided_by else shown.by,
            "decided_at": decision.decided_at, "followed_tally": decision.followed_tally,
            "reason": decision.reason, "reason_text": shown.reason_text, "term_id": decision.term_id,
            "tally_note": shown.tally_note, "member_picks": shown.picks}


def _agenda_out(timed) -> dict:
    return {"items": [{"title": t.item.title, "lead": t.item.lead, "minutes": t.item.minutes, "note": t.item.note,
                       "starts_at": t.starts_at, "ends_at": t.ends_at} for t in timed]}


@blp.route("/sessions/<int:session_id>/topic")
class SessionTopic(MethodView):
    @blp.response(200, TopicSchema)
    def get(self, session_id):
        """Where a session's topic stands: windows, nominations, the vote, the decision."""
        view = services.session_topic(schedule.session_for(g.api_user, session_id), g.api_user)
        frame = view.frame
        return {"session_id": view.session.id, "number": view.session.number, "starts_at": view.session.starts_at,
                "windows": {"nominate_opens": frame.nominate_opens, "nominate_closes": frame.nominate_closes,
                            "vote_opens": frame.vote_opens, "vote_closes": frame.vote_closes},
                "nominating": frame.nominating(clock.utcnow()) and view.poll is None, "decider": view.decider,
                "nominations": view.nominations,
                "poll": poll_payload(view.poll, g.api_user) if view.poll is not None else None,
                "decision": _decision_out(view.decision)}


@blp.route("/sessions/<int:session_id>/nominations")
class SessionNominations(MethodView):
    @blp.response(200, NominationSchema(many=True))
    def get(self, session_id):
        """The session's nominations (withdrawn ones left out)."""
        return services.active_nominations(schedule.session_for(g.api_user, session_id).id)

    @blp.arguments(NominationSchema)
    @blp.response(201, NominationSchema)
    def post(self, data, session_id):
        """Nominate a topic for my community (secretaries, while nominations are open)."""
        return services.nominate(schedule.session_for(g.api_user, session_id), g.api_user, data)


@blp.route("/nominations/<int:nomination_id>")
class NominationItem(MethodView):
    @blp.response(200, NominationSchema)
    def get(self, nomination_id):
        """One nomination."""
        return services.get_nomination(nomination_id, g.api_user.programme_id)

    @blp.arguments(NominationPatchSchema)
    @blp.response(200, NominationSchema)
    def patch(self, data, nomination_id):
        """Edit my community's nomination, until voting opens."""
        nomination = services.get_nomination(nomination_id, g.api_user.programme_id)
        return services.edit_nomination(nomination, g.api_user, data)

    @blp.response(204)
    def delete(self, nomination_id):
        """Withdraw my community's nomination, until voting opens."""
        services.withdraw(services.get_nomination(nomination_id, g.api_user.programme_id), g.api_user)


@blp.route("/nominations/<int:nomination_id>/carry-over")
class NominationCarryOver(MethodView):
    @blp.response(201, NominationSchema)
    def post(self, nomination_id):
        """Carry my community's unchosen nomination over to the next session."""
        return services.carry_over(services.get_nomination(nomination_id, g.api_user.programme_id), g.api_user)


@blp.route("/sessions/<int:session_id>/voting/open")
class VotingOpen(MethodView):
    @blp.response(201, PollSchema)
    def post(self, session_id):
        """Open voting now, before its window (bureau). Nominations freeze."""
        me = require_bureau()
        poll = services.open_voting(schedule.session_for(g.api_user, session_id), me.programme, me)
        return poll_payload(poll, me)


@blp.route("/sessions/<int:session_id>/voting/close")
class VotingClose(MethodView):
    @blp.response(200, PollSchema)
    def post(self, session_id):
        """Close voting now (bureau); the tally and the receipts are published."""
        me = require_bureau()
        return poll_payload(services.close_voting(schedule.session_for(g.api_user, session_id), me), me)


@blp.route("/sessions/<int:session_id>/decision")
class SessionDecision(MethodView):
    @blp.response(200, DecisionSchema)
    def get(self, session_id):
        """The decided topic, who decided and the rationale (404 until decided)."""
        decision = services.decision_of(schedule.session_for(g.api_user, session_id).id)
        if decision is None:
            raise NotFound(_("This session's topic has not been decided yet."), "session_id")
        return _decision_out(decision)

    @blp.arguments(DecisionSchema)
    @blp.response(201, DecisionSchema)
    def post(self, data, session_id):
        """Decide the topic (bureau, while the bureau decides); creates the default agenda."""
        me = require_bureau()
        session = schedule.session_for(g.api_user, session_id)
        return _decision_out(services.decide(session, me, data["nomination_id"], data["rationale"]))


@blp.route("/sessions/<int:session_id>/agenda")
class SessionAgenda(MethodView):
    @blp.response(200, TimedAgendaSchema)
    def get(self, session_id):
        """The agenda with each item's times."""
        return _agenda_out(services.agenda(schedule.session_for(g.api_user, session_id)))

    @blp.arguments(AgendaSchema)
    @blp.response(200, AgendaSchema)
    def put(self, data, session_id):
        """Replace the agenda (the bureau and the session's chair)."""
        session = schedule.session_for(g.api_user, session_id)
        return _agenda_out(services.replace_agenda(session, g.api_user, data["items"]))


@blp.route("/sessions/<int:session_id>/guests")
class SessionGuests(MethodView):
    @blp.response(200, GuestSchema(many=True))
    def get(self, session_id):
        """The session's guests."""
        session = schedule.session_for(g.api_user, session_id)
        manage = services.can_manage(g.api_user, session)
        return [{"id": x.id, "name": x.name, "unit": x.unit, "contact": x.contact if manage else ""}
                for x in services.guests(session.id)]

    @blp.arguments(GuestSchema)
    @blp.response(201, GuestSchema)
    def post(self, data, session_id):
        """Add a guest (the bureau and the session's chair)."""
        return services.add_guest(schedule.session_for(g.api_user, session_id), g.api_user, data)


@blp.route("/sessions/<int:session_id>/guests/<int:guest_id>")
class SessionGuest(MethodView):
    @blp.response(204)
    def delete(self, session_id, guest_id):
        """Remove a guest (the bureau and the session's chair)."""
        services.remove_guest(schedule.session_for(g.api_user, session_id), g.api_user, guest_id)
