"""The demo's first three sessions carry the source's topics (SPEC §10), each voted on and decided."""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from salon.ballots import services as ballots
from salon.demo import PROMISE
from salon.extensions import db
from salon.programmes import services as programmes
from salon.schedule import services as schedule
from salon.topics import services
from salon.topics.models import Nomination, TopicDecision

if TYPE_CHECKING:
    from salon.schedule.models import Session

# (session number, [(community index, title, problem, hoped result, outside units)], chosen index, rationale)
SOURCE = [
    (1, [
        (0, "如何激发四支队伍作用", "社区两委、网格员、志愿者、社会组织四支队伍各干各的，作用没有形成合力。"
            "例如：(示例) 某小区楼道堆物整治，网格员上报后志愿者和物业迟迟未到场。",
         "理清四支队伍的分工与协作机制", ""),
        (4, "老旧小区停车难 (示例)", "(示例) 老旧小区车位不足，占用消防通道现象多。", "形成共享停车办法", "县交警大队"),
        (7, "居民议事会如何开得起来 (示例)", "(示例) 议事会到会率低。", "形成议事规则模板", ""),
    ], 0, "票数最多，且是各社区普遍面临的基础问题，适合作为首期沙龙议题。"),
    (2, [
        (1, "\"五小服务\"过程中的问题及解决办法", "“五小服务”(小修、小补、小帮、小送、小护) 开展中，"
            "服务对象认定、志愿者积分和经费来源都有问题。(案例为示例)",
         "统一服务清单与积分办法", "县志愿者联合会"),
        (5, "社区食堂可持续运营 (示例)", "(示例) 老年助餐点亏损。", "探索可持续的运营模式", "县市场监管局"),
        (8, "物业矛盾调处 (示例)", "(示例) 物业费收缴率低，矛盾多。", "建立三方协调机制", ""),
    ], 0, "获赞成最多；多个社区反映“五小服务”推进中遇到相同困难。"),
    (3, [
        (2, "如何破解社区万能章", "群众办理医保报销等事项时，常被要求到社区开具各类证明，社区无从核实却要盖章"
            "(“万能章”)。例如：住院报销要求社区证明患者身份与病情。",
         "明确哪些证明社区不应开具，改为告知承诺", "县医保局；保险公司"),
        (9, "网格员负担过重 (示例)", "(示例) 网格员表格多、考核多。", "为网格员减负", ""),
        (10, "小区充电桩安装难 (示例)", "(示例) 电动车充电难、飞线充电多。", "推动集中充电设施", "县供电公司"),
    ], 0, "“万能章”问题直接关系群众办事和社区减负，且县医保局愿意到会，先于票数更多的议题讨论；"
          "网格员减负议题建议顺延至下期。"),
]
GUESTS = [("王科长 (示例)", "县医保局", "0913-0000000 (示例)"), ("李经理 (示例)", "某保险公司 (示例)", "")]


def _session(programme, number: int) -> Session:
    """One of the schedule's sessions (the schedule's demo lays them on the timeline)."""
    return schedule.numbered_session(programme.id, number)


def load_topics(programme, bureau, secretaries) -> None:
    from flask import current_app

    with current_app.test_request_context():
        _load(programme, bureau, secretaries)


def _load(programme, bureau, secretaries) -> None:
    for number, nominations, chosen, rationale in SOURCE:
        session = _session(programme, number)
        if db.session.scalar(select(TopicDecision.id).where(TopicDecision.session_id == session.id)):
            continue
        vote_opens = services.windows(session, programme, None).vote_opens
        created = []
        for community_index, title, problem, hoped, units in nominations:
            seat = programmes.seat_of(secretaries[community_index])
            nomination = Nomination(programme_id=programme.id, session_id=session.id,
                                    community_id=seat.community_id, title=title, problem=problem,
                                    hoped_result=hoped, outside_units=units,
                                    created_by_id=secretaries[community_index].id, is_sample="示例" in title,
                                    created_at=vote_opens - timedelta(days=3), updated_at=vote_opens - timedelta(days=3))
            db.session.add(nomination)
            created.append(nomination)
        db.session.flush()
        poll = services.build_poll(session, programme, bureau, vote_opens)
        options = {o.ref_id: o.id for o in poll.questions[0].options}
        # Sample ballots (示例): the source does not report tallies.
        pattern = [[0], [0, 1], [1], [0, 2], [2], [0], [1, 2], [0], []]
        if number == 3:
            pattern = [[1], [0, 1], [1], [1, 2], [0], [1], [2], [0, 1], []]
        for voter, picks in zip(secretaries, pattern):
            seat = programmes.seat_of(voter)
            ballots.cast(poll.id, seat.id, [options[created[i].id] for i in picks], programme.id, vote_opens)
        ballots.close_poll(poll, bureau, vote_opens + timedelta(days=7))
        decision = services.decide(session, bureau, created[chosen].id, rationale,
                                   now=vote_opens + timedelta(days=7, hours=2))
        decision.decided_at = vote_opens + timedelta(days=7, hours=2)
        if number == 3:
            for name, unit, contact in GUESTS:
                services.add_guest(session, bureau, {"name": name, "unit": unit, "contact": contact}, is_sample=True)
            items = [{"title": t.item.title, "lead": t.item.lead, "minutes": t.item.minutes, "note": t.item.note}
                     for t in services.agenda(session)]
            items[4]["note"] = PROMISE
            services.replace_agenda(session, bureau, items)
