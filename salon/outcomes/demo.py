"""The demo's record of the source's three sessions (SPEC §10, issue 7): attendance for sessions 1–3, and for
session 3 the source's outcome — a written promise by the patient replaces the community's certificate — with
action items for 县医保局 and the insurance company, one of them overdue."""
from __future__ import annotations

from datetime import timedelta

from salon.demo import PROMISE
from salon.outcomes import services
from salon.programmes import services as programmes
from salon.rules.calendar_rules import to_local
from salon.schedule import services as schedule
from salon.topics import services as topics

ORDER = 30
ABSENT = {1: (5, 12), 2: (9,), 3: (4, 14, 17)}  # community indexes absent at each session (示例)
RESOLUTIONS = {
    1: ["四支队伍按“网格员发现、两委分派、志愿者和社会组织跟进”分工协作，每月通报一次 (示例)。"],
    2: ["统一“五小服务”清单和志愿者积分办法，由渭运社区起草，下期沙龙前征求意见 (示例)。"],
    3: [PROMISE, "各社区不再为医保报销开具无法核实的证明；遇到要求开具的，告知群众改用书面承诺 (示例)。"],
}
# (what, owner unit, due: days after the session, status, [(days after the session, new status, note)])
ACTIONS = [
    ("印发通知：住院报销不再要求社区证明，改由患者本人书面承诺", "县医保局", 35, "done",
     [(20, "in_progress", "通知已起草，征求各社区意见 (示例)。"), (33, "done", "通知已印发 (示例)。")]),
    ("理赔须知删除社区证明要求，改为告知承诺", "某保险公司 (示例)", 65, "in_progress",
     [(40, "in_progress", "已提交总公司审核 (示例)。")]),
    ("向各社区通报告知承诺制的做法和承诺书样式", "陕拖社区", 19, "done",
     [(12, "done", "已在社区书记工作群通报 (示例)。")]),
]


def load(programme, bureau, secretaries) -> None:
    from flask import current_app

    with current_app.test_request_context():
        _load(programme, bureau, secretaries)


def _load(programme, bureau, secretaries) -> None:
    community_of = [programmes.seat_of(s).community_id for s in secretaries]
    for number in (1, 2, 3):
        session = schedule.numbered_session(programme.id, number)
        if session is None or services.resolutions(session.id):
            continue
        after = session.starts_at + timedelta(minutes=session.duration_minutes)
        present = [cid for index, cid in enumerate(community_of) if index not in ABSENT[number]]
        guests = [g.id for g in topics.guests(session.id)]
        services.record_attendance(session, bureau, present, guests, now=after)
        for text in RESOLUTIONS[number]:
            services.add_resolution(session, bureau, text, now=after)
        if number != 3:
            continue
        services.set_minutes(session, bureau, "县医保局、保险公司到会，与各社区书记讨论“万能章”问题。会议商定：医保报销中"
                                              "社区无从核实的证明，改由患者本人书面承诺 (告知承诺制)。(纪要为示例)",
                             now=after)
        for what, owner, due, _status, steps in ACTIONS:
            due_on = to_local(session.starts_at, programme.timezone).date() + timedelta(days=due)
            item = services.add_action(session, bureau, {"what": what, "owner_unit": owner, "due_on": due_on},
                                       now=after)
            for days, status, note in steps:
                services.update_action(item, bureau, {"status": status, "note": note}, now=after + timedelta(days=days))
