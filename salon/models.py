"""Every model, imported in one place so Alembic and the tests see the whole schema."""
from salon.accounts.models import ApiToken, Invitation, Role, User  # noqa: F401
from salon.audit.models import AuditEvent  # noqa: F401
from salon.programmes.models import Community, Programme, Seat, SeatHolding  # noqa: F401
from salon.schedule.models import CalendarFeed, Session, SessionStatus, SwapRequest, SwapStatus  # noqa: F401
from salon.ballots.models import Counter, EligibleSeat, Option, Poll, Question, Receipt, VoterRecord  # noqa: F401
from salon.topics.models import AgendaItem, Guest, Nomination, TopicDecision, TopicVote  # noqa: F401
from salon.outcomes.models import ActionItem, ActionUpdate, Attendance, Minutes, Resolution  # noqa: F401
from salon.packets.models import GuestLink  # noqa: F401
from salon.committee.models import Candidate, Election, Member, Pick, Term  # noqa: F401
from salon.reviews.models import ReviewAttendance, Review  # noqa: F401
from salon.trustees.models import Trustee, TrusteeShare, TrusteeTerm  # noqa: F401
