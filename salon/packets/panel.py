"""The session page's panel "Packet and what it produced" (template outcomes/_session_panel.html): the outcome
room's counts and, when the topic is decided, the packet. The packet room composes it: it reads both rooms."""
from __future__ import annotations

from dataclasses import dataclass

from flask_login import current_user

from salon.outcomes import services
from salon.packets import services as packets


@dataclass(frozen=True)
class Panel:
    session_id: int
    resolutions: int
    actions: int
    overdue: int
    present: int
    packet: bool


def outcome_panel(session) -> Panel | None:
    """The session page's panel: counts, overdue items, and the packet when the topic is decided."""
    if session is None or session.number is None or not current_user.is_authenticated:
        return None
    summary = services.summaries(session.programme_id, [session.id],
                                 services.today(current_user.programme))[session.id]
    return Panel(session.id, len(summary.resolutions), len(summary.actions),
                 sum(1 for a in summary.actions if a.overdue), len(summary.present_community_ids),
                 packets.has_packet(session))
