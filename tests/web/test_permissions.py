"""Every route against every role. A route added to the app without a case here fails the first test.

Roles: anon (nobody logged in / no token), secretary and bureau of programme A, other = bureau of
programme B, who must see A's ids as missing (404) and never A's data.
Each case names one request and the status each role gets. Ids in URLs are programme A's."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pytest

from tests.conftest import _app_for, _wipe, build_world, load_world, login, rolled_back, token_for, world_ids

ROLES = ("anon", "secretary", "bureau", "other")


@dataclass
class Case:
    method: str
    url: Callable  # (world) -> path
    expect: dict  # role -> status
    data: dict | None = None
    json: dict | None = None
    api: bool = False
    extra: dict = field(default_factory=dict)


def page(method, url, anon=302, secretary=200, bureau=200, other=200, **kw):
    return Case(method, url, {"anon": anon, "secretary": secretary, "bureau": bureau, "other": other}, **kw)


def bureau_page(method, url, ok=200, other=404, **kw):
    return page(method, url, anon=302, secretary=403, bureau=ok, other=other, **kw)


def api(method, url, anon=401, secretary=200, bureau=200, other=200, **kw):
    return Case(method, "/api/v1" + url if isinstance(url, str) else url,
                {"anon": anon, "secretary": secretary, "bureau": bureau, "other": other}, api=True, **kw)


def bureau_api(method, url, ok=200, other=404, **kw):
    return api(method, url, secretary=403, bureau=ok, other=other, **kw)


def c1(w):
    return w.communities[0].id


def s1(w):
    """The first future session of programme A, chaired by c1 (build_schedule runs first)."""
    return w.extra["sessions"][0].id


def r1(w):
    return w.extra["request"].id


def f1(w):
    return w.extra["feed"].id


def topics(w) -> dict:
    """Programme A's topic fixtures, built once per world: session 1 held and decided (chaired by the
    secretary's community), session 2 taking nominations, session 3 voting."""
    if "topics" in w.extra:
        return w.extra["topics"]
    from datetime import timedelta

    from flask import current_app

    from salon import clock
    from salon.ballots import services as ballots
    from salon.extensions import db
    from salon.schedule.models import Session, SessionStatus
    from salon.topics import services as topic_services
    from salon.topics.models import Nomination

    now = clock.utcnow()
    pid = w.programme.id
    with current_app.test_request_context():
        def session(number, days, status):
            s = Session(programme_id=pid, number=number, starts_at=now + timedelta(days=days), duration_minutes=120,
                        chair_community_id=w.communities[0].id, status=status)
            db.session.add(s)
            db.session.flush()
            return s

        def nominate(s, community, title):
            n = Nomination(programme_id=pid, session_id=s.id, community_id=community.id, title=title, problem="问题")
            db.session.add(n)
            db.session.flush()
            return n

        # Numbers past the generated schedule's, so both fixtures can live in one programme.
        s1 = session(101, -30, SessionStatus.HELD)
        s2 = session(102, 40, SessionStatus.PLANNED)
        s3 = session(103, 80, SessionStatus.PLANNED)
        s3.starts_at = now + timedelta(days=10)
        chosen = nominate(s1, w.communities[1], "已选议题")
        unchosen = nominate(s1, w.communities[0], "未选议题")
        opens = topic_services.windows(s1, w.programme, None).vote_opens
        poll1 = topic_services.build_poll(s1, w.programme, w.bureau, opens)
        ballots.close_poll(poll1, w.bureau, opens + timedelta(days=1))
        topic_services.decide(s1, w.bureau, chosen.id, "理由", now=opens + timedelta(days=1))
        guest = topic_services.add_guest(s1, w.bureau, {"name": "王", "unit": "县医保局"})
        other_nom = nominate(s2, w.communities[1], "别人的推荐")
        own = nominate(s2, w.communities[0], "自己的推荐")
        nominate(s3, w.communities[1], "投票中的推荐")
        poll3 = topic_services.open_voting(s3, w.programme, w.bureau, now)
        db.session.commit()
    w.extra["topics"] = {"s1": s1.id, "s2": s2.id, "s3": s3.id, "unchosen": unchosen.id, "other_nom": other_nom.id,
                         "own": own.id, "guest": guest.id, "poll3": poll3.id}
    return w.extra["topics"]


def t(w, key):
    return topics(w)[key]


def outcomes(w) -> dict:
    """Programme A's after-session fixtures on the held, decided session 1 of `topics` (chaired by the
    secretary's community): a resolution, an action item and a guest link."""
    if "outcomes" in w.extra:
        return w.extra["outcomes"]
    from flask import current_app

    from salon.extensions import db
    from salon.outcomes import services as outcome_services
    from salon.packets import services as packet_services
    from salon.schedule.models import Session

    ids = topics(w)
    with current_app.test_request_context():
        s1 = db.session.get(Session, ids["s1"])
        resolution = outcome_services.add_resolution(s1, w.bureau, "决议一")
        item = outcome_services.add_action(s1, w.bureau, {"what": "落实", "owner_unit": "县医保局"})
        link = packet_services.create_link(s1, w.bureau, "王科长")
        token = packet_services.link_token(link)
        db.session.commit()
    w.extra["outcomes"] = {"resolution": resolution.id, "item": item.id, "link": link.id, "token": token}
    return w.extra["outcomes"]


def o(w, key):
    return outcomes(w)[key]


NOMINATION = {"title": "新议题", "problem": "问题和案例"}


def election(w) -> int:
    """Programme A's election, standing: sec_a2 nominated sec_a1 (who has not accepted yet)."""
    if "election" not in w.extra:
        from flask import current_app

        from salon.committee import services as committee
        from salon.extensions import db

        with current_app.test_request_context():
            e = committee.open_election(w.programme, w.bureau)
            committee.nominate(e, w.secretaries[1], w.communities[0].seat.id)
            db.session.commit()
        w.extra["election"] = e.id
    return w.extra["election"]


def tt(w) -> int:
    """Programme A's drawn term of trustees, dealing: the bureau and the three secretaries (sec_a1 among them)."""
    if "trustee_term" not in w.extra:
        from flask import current_app

        from salon.extensions import db
        from salon.trustees import services as trustees

        with current_app.test_request_context():
            term = trustees.draw(trustees.announce_draw(w.programme, w.bureau), w.bureau)
            db.session.commit()
        w.extra["trustee_term"] = term.id
    return w.extra["trustee_term"]


POINT = "02" + "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"


def review(w, key: str = "id"):
    """Programme A's open review: a committee elected from c1-c3, c1 chairs the review."""
    if "review" not in w.extra:
        from flask import current_app

        from salon.committee import services as committee
        from salon.extensions import db
        from salon.reviews import services as reviews

        with current_app.test_request_context():
            e = committee.open_election(w.programme, w.bureau)
            for sec, community in zip(w.secretaries, w.communities):
                committee.nominate(e, sec, community.seat.id)
            committee.open_vote(e, w.programme, w.bureau)
            committee.close_vote(e, w.programme, w.bureau)
            r = reviews.open_review(w.programme, w.bureau, reason="提前评议（测试）", confirm_empty=True)
            r.chair_community_id = w.communities[0].id
            db.session.commit()
            w.extra["review"] = {"id": r.id, "token": reviews.checkin_token(r)}
    return w.extra["review"][key]


CASES: dict[str, Case] = {
    # platform: pages
    "static": page("GET", lambda w: "/static/salon.css", anon=200),
    "home.index": page("GET", lambda w: "/"),
    "accounts.login": page("GET", lambda w: "/login", anon=200, secretary=302, bureau=302, other=302),
    "accounts.logout": page("POST", lambda w: "/logout", anon=302, secretary=302, bureau=302, other=302),
    "accounts.language": page("POST", lambda w: "/language", data={"locale": "en"},
                              anon=302, secretary=302, bureau=302, other=302),
    "accounts.accept_invitation": page("GET", lambda w: "/invite/not-a-token", anon=404, secretary=404,
                                       bureau=404, other=404),
    "accounts.tokens": page("GET", lambda w: "/account/tokens"),
    "accounts.account": page("GET", lambda w: "/account"),
    "accounts.revoke_token": page("POST", lambda w: "/account/tokens/999999/revoke", secretary=404,
                                  bureau=404, other=404),
    "accounts.people": bureau_page("GET", lambda w: "/people", other=200),
    "accounts.reset": bureau_page("POST", lambda w: f"/people/{w.secretaries[1].id}/reset"),
    "programmes.settings": bureau_page("GET", lambda w: "/programme/settings", other=200),
    "programmes.communities": page("GET", lambda w: "/communities"),
    "programmes.community": page("GET", lambda w: f"/communities/{c1(w)}", other=404),
    "programmes.deactivate": bureau_page("POST", lambda w: f"/communities/{c1(w)}/deactivate", ok=302),
    "programmes.reactivate": bureau_page("POST", lambda w: f"/communities/{c1(w)}/reactivate", ok=409),
    "programmes.handover": bureau_page("POST", lambda w: f"/communities/{c1(w)}/handover",
                                       data={"username": "newsec", "display_name": "新书记"}),
    "audit.log": bureau_page("GET", lambda w: "/audit", other=200),
    # platform: API
    "api-docs.openapi_json": api("GET", "/openapi.json", anon=200),
    "api_accounts.Me": api("GET", "/me"),
    "api_accounts.Tokens": api("GET", "/tokens"),
    "api_accounts.TokenItem": api("DELETE", "/tokens/999999", secretary=404, bureau=404, other=404),
    "api_accounts.People": bureau_api("GET", "/people", other=200),
    "api_accounts.PersonReset": bureau_api("POST", lambda w: f"/api/v1/people/{w.secretaries[1].id}/reset",
                                           ok=201),
    "api_programmes.ProgrammeItem": api("GET", "/programme"),
    "api_programmes.Communities": api("GET", "/communities"),
    "api_programmes.CommunityItem": api("GET", lambda w: f"/api/v1/communities/{c1(w)}", other=404),
    "api_programmes.CommunityHandover": bureau_api(
        "POST", lambda w: f"/api/v1/communities/{c1(w)}/handover", ok=201,
        json={"username": "newsec", "display_name": "新书记"}),
    "api_audit.Audit": bureau_api("GET", "/audit", other=200),
    # schedule: pages
    "schedule.index": page("GET", lambda w: "/schedule"),
    "schedule.duties": page("GET", lambda w: f"/schedule/communities/{c1(w)}", other=404),
    "schedule.session": page("GET", lambda w: f"/schedule/sessions/{s1(w)}", secretary=301, bureau=301, other=404),
    "sessions.page": page("GET", lambda w: f"/sessions/{s1(w)}", other=404),
    "schedule.cancel": bureau_page("POST", lambda w: f"/schedule/sessions/{s1(w)}/cancel", ok=302),
    "schedule.lock": bureau_page("POST", lambda w: f"/schedule/sessions/{s1(w)}/lock", ok=302),
    "schedule.unlock": bureau_page("POST", lambda w: f"/schedule/sessions/{s1(w)}/unlock", ok=302),
    "schedule.swap": bureau_page("POST", lambda w: f"/schedule/sessions/{s1(w)}/swap", ok=302,
                                 data={"other_session_id": "OTHER"}),
    "schedule.ask": page("POST", lambda w: f"/schedule/sessions/{s1(w)}/ask", secretary=302, bureau=403,
                         other=404, data={"other_session_id": "OTHER"}),
    "schedule.swaps": page("GET", lambda w: "/schedule/swaps"),
    "schedule.accept": page("POST", lambda w: f"/schedule/swaps/{r1(w)}/accept", secretary=302, bureau=302,
                            other=404),
    "schedule.decline": page("POST", lambda w: f"/schedule/swaps/{r1(w)}/decline", secretary=302, bureau=302,
                             other=404),
    "schedule.withdraw": page("POST", lambda w: f"/schedule/swaps/{r1(w)}/withdraw", secretary=403, bureau=403,
                              other=404),
    "schedule.manage": bureau_page("GET", lambda w: "/schedule/manage", other=200),
    "schedule.generate": bureau_page("POST", lambda w: "/schedule/generate", ok=302, other=302,
                                     data={"months": "6"}),
    "schedule.draw": bureau_page("POST", lambda w: "/schedule/draw", ok=302, other=302),
    "schedule.reorder": bureau_page("POST", lambda w: "/schedule/reorder", ok=422, other=422,
                                    data={"position-0": "x"}),
    "schedule.blackouts": bureau_page("POST", lambda w: "/schedule/blackouts", ok=302, other=302,
                                      data={"blackout_months": "2031-02"}),
    "schedule.feeds": page("GET", lambda w: "/schedule/feeds"),
    "schedule.revoke_feed": page("POST", lambda w: f"/schedule/feeds/{f1(w)}/revoke", secretary=404, bureau=302,
                                 other=404),
    "schedule.feed": page("GET", lambda w: "/calendar/forged-token.ics", anon=404, secretary=404, bureau=404,
                          other=404),
    # schedule: API
    "api_schedule.Sessions": api("GET", "/sessions"),
    "api_schedule.Generate": bureau_api("POST", "/sessions/generate", other=200, json={"months": 3}),
    "api_schedule.SessionItem": api("GET", lambda w: f"/api/v1/sessions/{s1(w)}", other=404),
    "api_schedule.SessionCancel": bureau_api("POST", lambda w: f"/api/v1/sessions/{s1(w)}/cancel"),
    "api_schedule.BureauSwap": bureau_api("POST", "/sessions/swap", json={"session_id": "S1", "other_session_id": "OTHER"}),
    "api_schedule.Duties": api("GET", lambda w: f"/api/v1/communities/{c1(w)}/duties", other=404),
    "api_schedule.Rotation": api("GET", "/rotation"),
    "api_schedule.RotationDraw": bureau_api("POST", "/rotation/draw", other=200),
    "api_schedule.Blackouts": api("GET", "/blackouts"),
    "api_schedule.Swaps": api("GET", "/swaps"),
    "api_schedule.SwapAccept": api("POST", lambda w: f"/api/v1/swaps/{r1(w)}/accept", other=404),
    "api_schedule.SwapDecline": api("POST", lambda w: f"/api/v1/swaps/{r1(w)}/decline", other=404),
    "api_schedule.SwapWithdraw": api("POST", lambda w: f"/api/v1/swaps/{r1(w)}/withdraw", secretary=403,
                                     bureau=403, other=404),
    "api_schedule.Feeds": api("GET", "/feeds"),
    "api_schedule.FeedItem": api("DELETE", lambda w: f"/api/v1/feeds/{f1(w)}", secretary=404, bureau=204,
                                 other=404),
    # topics: pages
    "topics.index": page("GET", lambda w: "/topics/"),
    "topics.session": page("GET", lambda w: f"/topics/sessions/{t(w, 's2')}", secretary=301, bureau=301,
                           other=404),
    "topics.nominate": page("POST", lambda w: f"/topics/sessions/{t(w, 's2')}/nominate", data=NOMINATION,
                            secretary=302, bureau=403, other=404),
    "topics.nomination": page("GET", lambda w: f"/topics/nominations/{t(w, 'other_nom')}", other=404),
    "topics.edit_nomination": page("GET", lambda w: f"/topics/nominations/{t(w, 'own')}/edit", bureau=403,
                                   other=404),
    "topics.withdraw": page("POST", lambda w: f"/topics/nominations/{t(w, 'own')}/withdraw", secretary=302,
                            bureau=403, other=404),
    "topics.carry_over": page("POST", lambda w: f"/topics/nominations/{t(w, 'unchosen')}/carry-over",
                              secretary=302, bureau=403, other=404),
    "topics.vote": page("POST", lambda w: f"/topics/sessions/{t(w, 's3')}/vote", data={"confirmed": "1"},
                        bureau=403, other=404),
    "topics.results": page("GET", lambda w: f"/topics/sessions/{t(w, 's1')}/results", other=404),
    "topics.open_vote": bureau_page("POST", lambda w: f"/topics/sessions/{t(w, 's2')}/open-vote", ok=302),
    "topics.close_vote": bureau_page("POST", lambda w: f"/topics/sessions/{t(w, 's3')}/close-vote",
                                     data={"understood": "y"}, ok=302),
    "topics.decide": bureau_page("GET", lambda w: f"/topics/sessions/{t(w, 's1')}/decide"),
    "topics.agenda": page("GET", lambda w: f"/topics/sessions/{t(w, 's1')}/agenda", other=404),
    "topics.edit_agenda": page("GET", lambda w: f"/topics/sessions/{t(w, 's1')}/agenda/edit", other=404),
    "topics.add_guest": page("POST", lambda w: f"/topics/sessions/{t(w, 's1')}/guests",
                             data={"name": "李", "unit": "保险公司"}, secretary=302, bureau=302, other=404),
    "topics.remove_guest": page("POST", lambda w: f"/topics/sessions/{t(w, 's1')}/guests/{t(w, 'guest')}/remove",
                                secretary=302, bureau=302, other=404),
    # topics and ballots: API
    "api_ballots.PollItem": api("GET", lambda w: f"/api/v1/polls/{t(w, 'poll3')}", other=404),
    "api_ballots.PollBallot": api("POST", lambda w: f"/api/v1/polls/{t(w, 'poll3')}/ballot", json={"choices": []},
                                  secretary=201, bureau=403, other=404),
    "api_ballots.PollReceipts": api("GET", lambda w: f"/api/v1/polls/{t(w, 'poll3')}/receipts", other=404),
    # poll3 is open and sealed: its bulletin board's page says the count is awaited, its document is not there yet
    # (tests/web/test_sealed_web.py: a counted one's)
    "api_ballots.PollBoard": api("GET", lambda w: f"/api/v1/polls/{t(w, 'poll3')}/board", secretary=409,
                                 bureau=409, other=404),
    "ballots.board": page("GET", lambda w: f"/polls/{t(w, 'poll3')}/board", secretary=200, bureau=200, other=404),
    "ballots.board_json": page("GET", lambda w: f"/polls/{t(w, 'poll3')}/board.json", secretary=409, bureau=409,
                               other=404),
    "api_topics.SessionTopic": api("GET", lambda w: f"/api/v1/sessions/{t(w, 's2')}/topic", other=404),
    "api_topics.SessionNominations": api("POST", lambda w: f"/api/v1/sessions/{t(w, 's2')}/nominations",
                                         json=NOMINATION, secretary=201, bureau=403, other=404),
    "api_topics.NominationItem": api("PATCH", lambda w: f"/api/v1/nominations/{t(w, 'own')}",
                                     json={"title": "改过的"}, bureau=403, other=404),
    "api_topics.NominationCarryOver": api("POST", lambda w: f"/api/v1/nominations/{t(w, 'unchosen')}/carry-over",
                                          secretary=201, bureau=403, other=404),
    "api_topics.VotingOpen": bureau_api("POST", lambda w: f"/api/v1/sessions/{t(w, 's2')}/voting/open", ok=201),
    "api_topics.VotingClose": bureau_api("POST", lambda w: f"/api/v1/sessions/{t(w, 's3')}/voting/close"),
    "api_topics.SessionDecision": api("GET", lambda w: f"/api/v1/sessions/{t(w, 's1')}/decision", other=404),
    "api_topics.SessionAgenda": api("PUT", lambda w: f"/api/v1/sessions/{t(w, 's1')}/agenda",
                                    json={"items": [{"title": "开场", "minutes": 10}]}, other=404),
    "api_topics.SessionGuests": api("GET", lambda w: f"/api/v1/sessions/{t(w, 's1')}/guests", other=404),
    # committee: pages
    "committee.index": page("GET", lambda w: "/committee/"),
    "committee.open_election": bureau_page("POST", lambda w: (election(w), "/committee/elections")[1], ok=409,
                                           other=302),
    "committee.election": page("GET", lambda w: f"/committee/elections/{election(w)}", other=404),
    "committee.nominate": page("POST", lambda w: f"/committee/elections/{election(w)}/candidates",
                               data={"seat_id": "SEAT3"}, secretary=302, bureau=403, other=404),
    "committee.accept": page("POST", lambda w: f"/committee/elections/{election(w)}/accept", secretary=302,
                             bureau=403, other=404),
    "committee.extend": bureau_page("POST", lambda w: f"/committee/elections/{election(w)}/extend", ok=302,
                                    data={"days": "3"}),
    "committee.open_vote": bureau_page("POST", lambda w: f"/committee/elections/{election(w)}/open-vote", ok=409),
    "committee.close_vote": bureau_page("POST", lambda w: f"/committee/elections/{election(w)}/close-vote",
                                        data={"understood": "y"}, ok=409),
    "committee.vote": page("GET", lambda w: f"/committee/elections/{election(w)}/vote", secretary=302, bureau=302,
                           other=404),
    "committee.export": bureau_page("GET", lambda w: f"/committee/elections/{election(w)}/export.csv", ok=409),
    "committee.pick": page("GET", lambda w: f"/committee/sessions/{t(w, 's1')}/pick", other=404),
    # reviews: pages
    "reviews.index": page("GET", lambda w: "/reviews/"),
    "reviews.open_review": bureau_page("POST", lambda w: (review(w), "/reviews/")[1], ok=409, other=409),
    # No committee sits in the matrix's programmes: the confirmation page sends the bureau back with why.
    "reviews.confirm_open": bureau_page("GET", lambda w: "/reviews/new", ok=302, other=302),
    "reviews.roll_off": page("POST", lambda w: f"/reviews/{review(w)}/roll/off",
                             data={"seat_id": "SEAT3", "reason": "误点"}, secretary=302, bureau=302, other=404),
    "reviews.review": page("GET", lambda w: f"/reviews/{review(w)}", other=404),
    "reviews.roll": page("POST", lambda w: f"/reviews/{review(w)}/roll", data={"seat_ids": "SEAT3"}, secretary=302,
                         bureau=302, other=404),
    "reviews.qr": page("GET", lambda w: f"/reviews/{review(w)}/qr", other=404),
    "reviews.checkin": page("GET", lambda w: f"/reviews/checkin/{review(w, 'token')}", other=404),
    "reviews.vote": page("GET", lambda w: f"/reviews/{review(w)}/vote", other=404),
    "reviews.close": bureau_page("POST", lambda w: f"/reviews/{review(w)}/close", data={"understood": "y"}, ok=302),
    "reviews.report": page("GET", lambda w: f"/reviews/{review(w)}/report", other=404),
    "reviews.report_pdf": page("GET", lambda w: f"/reviews/{review(w)}/report.pdf", other=404),
    "reviews.export": bureau_page("GET", lambda w: f"/reviews/{review(w)}/export.csv", ok=409),
    # reviews: API
    "api_reviews.Reviews": bureau_api("POST", lambda w: (review(w), "/api/v1/reviews")[1], ok=409, other=409),
    "api_reviews.Reviews GET": api("GET", lambda w: (review(w), "/api/v1/reviews")[1]),
    # SEAT3 is not on the roll: the chair (the secretary) and the bureau get past the permission to 422.
    "api_reviews.ReviewRollOff": api("POST", lambda w: f"/api/v1/reviews/{review(w)}/roll/off",
                                     json={"seat_id": "SEAT3", "reason": "误点"}, secretary=422, bureau=422,
                                     other=404),
    "api_reviews.ReviewItem": api("GET", lambda w: f"/api/v1/reviews/{review(w)}", other=404),
    "api_reviews.ReviewRoll": api("POST", lambda w: f"/api/v1/reviews/{review(w)}/roll",
                                  json={"seat_ids": ["SEAT3"]}, other=404),
    "api_reviews.ReviewCheckinToken": api("GET", lambda w: f"/api/v1/reviews/{review(w)}/checkin-token", other=404),
    "api_reviews.ReviewCheckin": api("POST", lambda w: (review(w), "/api/v1/reviews/checkin")[1],
                                     json={"token": "TOKEN"}, bureau=403, other=404),
    "api_reviews.ReviewClose": bureau_api("POST", lambda w: f"/api/v1/reviews/{review(w)}/close"),
    "api_reviews.ReviewReportPdf": api("GET", lambda w: f"/api/v1/reviews/{review(w)}/report.pdf", other=404),
    "api_reviews.ReviewExport": bureau_api("GET", lambda w: f"/api/v1/reviews/{review(w)}/export.xlsx", ok=409),
    # committee: API
    "api_committee.Committee": api("GET", "/committee"),
    "api_committee.Elections": bureau_api("POST", lambda w: (election(w), "/api/v1/elections")[1], ok=409,
                                          other=201),
    "api_committee.Elections GET": api("GET", lambda w: (election(w), "/api/v1/elections")[1]),
    "api_committee.ElectionItem": api("GET", lambda w: f"/api/v1/elections/{election(w)}", other=404),
    "api_committee.ElectionCandidates": api("POST", lambda w: f"/api/v1/elections/{election(w)}/candidates",
                                            json={"seat_id": "SEAT3"}, secretary=201, bureau=403, other=404),
    "api_committee.ElectionAccept": api("POST", lambda w: f"/api/v1/elections/{election(w)}/accept",
                                        bureau=403, other=404),
    "api_committee.ElectionExtend": bureau_api("POST", lambda w: f"/api/v1/elections/{election(w)}/extend",
                                               json={"days": 3}),
    "api_committee.ElectionVotingOpen": bureau_api(
        "POST", lambda w: f"/api/v1/elections/{election(w)}/voting/open", json={}, ok=409),
    "api_committee.ElectionVotingClose": bureau_api(
        "POST", lambda w: f"/api/v1/elections/{election(w)}/voting/close", ok=409),
    "api_committee.ElectionExport": bureau_api("GET", lambda w: f"/api/v1/elections/{election(w)}/export.csv",
                                               ok=409),
    "api_committee.SessionPicks": api("GET", lambda w: f"/api/v1/sessions/{t(w, 's1')}/committee-picks",
                                      other=404),
    "api_topics.SessionGuest": api("DELETE", lambda w: f"/api/v1/sessions/{t(w, 's1')}/guests/{t(w, 'guest')}",
                                   secretary=204, bureau=204, other=404),
    # outcomes (SPEC §6): the bureau and the session's chair write (the secretary chairs s1); all of A read
    "outcomes.session": page("GET", lambda w: f"/outcomes/sessions/{t(w, 's1')}", other=404),
    "outcomes.attendance": page("POST", lambda w: f"/outcomes/sessions/{t(w, 's1')}/attendance",
                                data={"community_ids": "C1"}, secretary=302, bureau=302, other=404),
    "outcomes.minutes": page("POST", lambda w: f"/outcomes/sessions/{t(w, 's1')}/minutes",
                             data={"summary": "纪要"}, secretary=302, bureau=302, other=404),
    "outcomes.add_resolution": page("POST", lambda w: f"/outcomes/sessions/{t(w, 's1')}/resolutions",
                                    data={"text": "决议"}, secretary=302, bureau=302, other=404),
    "outcomes.remove_resolution": page("POST", lambda w: f"/outcomes/resolutions/{o(w, 'resolution')}/remove",
                                       secretary=302, bureau=302, other=404),
    "outcomes.add_action": page("POST", lambda w: f"/outcomes/sessions/{t(w, 's1')}/actions",
                                data={"what": "落实", "owner_unit": "县医保局", "status": "open"},
                                secretary=302, bureau=302, other=404),
    "outcomes.action": page("GET", lambda w: f"/outcomes/actions/{o(w, 'item')}", other=404),
    "outcomes.overdue": page("GET", lambda w: "/outcomes/overdue"),
    "api_outcomes.SessionOutcome": api("GET", lambda w: f"/api/v1/sessions/{t(w, 's1')}/outcome", other=404),
    "api_outcomes.SessionAttendance": api("PUT", lambda w: f"/api/v1/sessions/{t(w, 's1')}/attendance",
                                          json={"community_ids": ["C1"]}, other=404),
    "api_outcomes.SessionMinutes": api("PUT", lambda w: f"/api/v1/sessions/{t(w, 's1')}/minutes",
                                       json={"summary": "纪要"}, other=404),
    "api_outcomes.SessionResolutions": api("POST", lambda w: f"/api/v1/sessions/{t(w, 's1')}/resolutions",
                                           json={"text": "决议"}, secretary=201, bureau=201, other=404),
    "api_outcomes.ResolutionItem": api("DELETE", lambda w: f"/api/v1/resolutions/{o(w, 'resolution')}",
                                       secretary=204, bureau=204, other=404),
    "api_outcomes.SessionActionItems": api("POST", lambda w: f"/api/v1/sessions/{t(w, 's1')}/action-items",
                                           json={"what": "落实", "owner_unit": "县医保局", "due_on": "2030-01-31"},
                                           secretary=201, bureau=201, other=404),
    "api_outcomes.ActionItemOne": api("GET", lambda w: f"/api/v1/action-items/{o(w, 'item')}", other=404),
    "api_outcomes.ActionItemUpdates": api("POST", lambda w: f"/api/v1/action-items/{o(w, 'item')}/updates",
                                          json={"status": "done", "note": "好了"}, secretary=201, bureau=201,
                                          other=404),
    "api_outcomes.OverdueItems": api("GET", "/action-items/overdue"),
    # packets (SPEC §7): every secretary of A reads; the chair and the bureau make and revoke guest links
    "packets.page": page("GET", lambda w: f"/packets/sessions/{t(w, 's1')}", other=404),
    "packets.pdf": page("GET", lambda w: f"/packets/sessions/{t(w, 's1')}/packet.pdf", other=404),
    "packets.links": page("POST", lambda w: f"/packets/sessions/{t(w, 's1')}/links", data={"label": "李经理"},
                          other=404),
    "packets.revoke": page("POST", lambda w: f"/packets/links/{o(w, 'link')}/revoke", secretary=302, bureau=302,
                           other=404),
    # A guest link is a capability: whoever holds it sees that one packet, logged in anywhere or not.
    "packets.guest": page("GET", lambda w: f"/packet/{o(w, 'token')}", anon=200, extra={"capability": True}),
    "packets.guest_pdf": page("GET", lambda w: f"/packet/{o(w, 'token')}/packet.pdf", anon=200,
                              extra={"capability": True}),
    "api_packets.SessionPacket": api("GET", lambda w: f"/api/v1/sessions/{t(w, 's1')}/packet", other=404),
    "api_packets.SessionPacketPdf": api("GET", lambda w: f"/api/v1/sessions/{t(w, 's1')}/packet.pdf", other=404),
    "api_packets.SessionGuestLinks": api("POST", lambda w: f"/api/v1/sessions/{t(w, 's1')}/guest-links",
                                         json={"label": "李经理"}, secretary=201, bureau=201, other=404),
    "api_packets.GuestLinkItem": api("DELETE", lambda w: f"/api/v1/guest-links/{o(w, 'link')}", other=404),
    # trustees (SPEC §5.1): everyone of A sees the terms; the bureau announces and draws; only a term's trustees
    # (here the bureau and every secretary of A) post their device's steps, each refused at the wrong step
    "trustees.index": page("GET", lambda w: "/trustees/"),
    "trustees.announce": bureau_page("POST", lambda w: (tt(w), "/trustees/announce")[1], ok=302, other=302),
    "trustees.draw": bureau_page("POST", lambda w: f"/trustees/{tt(w)}/draw", ok=302),
    "trustees.term": page("GET", lambda w: f"/trustees/{tt(w)}", other=404),
    "trustees.device": page("GET", lambda w: f"/trustees/{tt(w)}/device", other=404),
    "trustees.device_dealing": page("POST", lambda w: f"/trustees/{tt(w)}/device/dealing", json={},
                                    secretary=422, bureau=422, other=404),
    "trustees.device_shares": page("POST", lambda w: f"/trustees/{tt(w)}/device/shares", json={"shares": []},
                                   secretary=409, bureau=409, other=404),
    "trustees.device_confirm": page("POST", lambda w: f"/trustees/{tt(w)}/device/confirm", json={},
                                    secretary=409, bureau=409, other=404),
    "trustees.device_complaint": page("POST", lambda w: f"/trustees/{tt(w)}/device/complaint", json={},
                                      secretary=409, bureau=409, other=404),
    "trustees.device_poll": page("GET", lambda w: f"/trustees/{tt(w)}/device/polls/1", secretary=404, bureau=404,
                                 other=404),
    "trustees.device_decrypt": page("POST", lambda w: f"/trustees/{tt(w)}/device/polls/1", json={},
                                    secretary=409, bureau=409, other=404),
    "api_trustees.Terms": api("GET", "/trustees/terms"),
    "api_trustees.Terms POST": bureau_api("POST", lambda w: (tt(w), "/api/v1/trustees/terms")[1], ok=409,
                                          other=201),
    "api_trustees.TermItem": api("GET", lambda w: f"/api/v1/trustees/terms/{tt(w)}", other=404),
    "api_trustees.TermDraw": bureau_api("POST", lambda w: f"/api/v1/trustees/terms/{tt(w)}/draw", ok=409),
    "api_trustees.TermDealing": api("POST", lambda w: f"/api/v1/trustees/terms/{tt(w)}/dealing",
                                    json={"transport_key": "02" + "00" * 32, "commitments": [], "proofs": []},
                                    secretary=422, bureau=422, other=404),
    "api_trustees.TermShares": api("POST", lambda w: f"/api/v1/trustees/terms/{tt(w)}/shares", json={"shares": []},
                                   secretary=409, bureau=409, other=404),
    "api_trustees.TermConfirm": api("POST", lambda w: f"/api/v1/trustees/terms/{tt(w)}/confirm",
                                    json={"public_key": POINT}, secretary=409, bureau=409, other=404),
    "api_trustees.TermComplaint": api("POST", lambda w: f"/api/v1/trustees/terms/{tt(w)}/complaint",
                                      json={"dealer": 2, "evidence": {"shared_point": POINT,
                                                                       "proof": {"c": "0" * 64, "s": "0" * 64}}},
                                      secretary=409, bureau=409, other=404),
    "api_trustees.TermDecryption": api("GET", lambda w: f"/api/v1/trustees/terms/{tt(w)}/polls/1/decryption",
                                       secretary=404, bureau=404, other=404),
    "api_trustees.TermDecryption POST": api("POST", lambda w: f"/api/v1/trustees/terms/{tt(w)}/polls/1/decryption",
                                            json={"decryption": {}}, secretary=409, bureau=409, other=404),
}


def build_schedule(world) -> None:
    """Programme A gets six months of sessions, a swap request from c2's chair to c1's, and a feed of
    the bureau; programme B gets its own schedule."""
    from salon.extensions import db
    from salon.schedule import services

    services.generate(world.programme, world.bureau, 6)
    services.generate(world.other_programme, world.other_bureau, 2)
    sessions = [s for s in services.sessions(world.programme.id)]
    by_chair = {}
    for s in sessions:
        by_chair.setdefault(s.chair_community_id, s)
    first, second = by_chair[world.communities[0].id], by_chair[world.communities[1].id]
    world.extra["sessions"] = [first, second]
    world.extra["request"] = services.request_swap(world.secretaries[1], second, first, "")
    world.extra["feed"] = services.create_feed(world.bureau)
    db.session.commit()


def _fill(value, world):
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    if value == "OTHER":
        return world.extra["sessions"][1].id
    if value == "S1":
        return world.extra["sessions"][0].id
    if value == "C1":
        return world.communities[0].id
    if value == "SEAT3":
        return world.communities[2].seat.id
    if value == "TOKEN":
        return world.extra["review"]["token"]
    return value


def test_every_route_has_a_permission_case(app):
    """A case's key is the endpoint, or "endpoint METHOD" for a second method of one endpoint."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    covered = {key.split(" ")[0] for key in CASES}
    missing = sorted(endpoints - covered)
    stale = sorted(covered - endpoints)
    assert not missing, f"routes without a permission case: {missing}"
    assert not stale, f"permission cases for routes that no longer exist: {stale}"


@pytest.fixture(scope="module")
def matrix_app(database_url, shared_apps, tmp_path_factory):
    """Both programmes, the schedule and the topic fixtures, built once per database; each case runs in a
    transaction that is rolled back (tests/conftest.py's rolled_back), so no case sees another's writes."""
    from salon.extensions import db

    app = _app_for(database_url, {}, shared_apps, str(tmp_path_factory.getbasetemp()))
    built: dict = {}
    with app.app_context():
        yield app, built
        db.session.remove()
        _wipe()


def _matrix_world(built: dict):
    from salon.extensions import db
    from salon.programmes.models import Programme

    if not built or db.session.get(Programme, built["ids"].programme[1]) is None:
        # First case on this database, or a test outside the matrix wiped the database in between.
        db.session.remove()
        _wipe()
        world = build_world()
        build_schedule(world)
        topics(world)
        built["ids"] = world_ids(world)
    return load_world(built["ids"])


@pytest.fixture
def matrix(matrix_app):
    app, built = matrix_app
    with app.app_context():
        _matrix_world(built)
    with rolled_back(app):
        yield app, load_world(built["ids"])


def open_as(app, world, case: Case, role: str):
    """The case's request as `role` would send it (logged in on a page, a bearer token on the API): the
    response and the URL asked for."""
    client = app.test_client()
    headers = {}
    user = {"secretary": world.secretaries[0], "bureau": world.bureau, "other": world.other_bureau}.get(role)
    if user is not None:
        if case.api:
            headers["Authorization"] = f"Bearer {token_for(user)}"
        else:
            assert login(client, user.username).status_code == 302
    url = case.url(world) if callable(case.url) else case.url
    kwargs = {"headers": headers}
    if case.data is not None:
        kwargs["data"] = _fill(case.data, world)
    if case.json is not None:
        kwargs["json"] = _fill(case.json, world)
    return client.open(url, method=case.method, **kwargs), url


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(CASES))
def test_role_gets_expected_status(matrix, endpoint, role):
    app, world = matrix
    case = CASES[endpoint]
    response, url = open_as(app, world, case, role)
    assert response.status_code == case.expect[role], (
        f"{role} {case.method} {url}: {response.status_code} {response.get_data(as_text=True)[:300]}")
    if role == "other" and response.status_code == 200 and not case.extra.get("capability"):
        body = response.get_data(as_text=True)
        for community in world.communities:
            assert community.name not in body, f"{url} shows programme A's {community.name} to programme B"
