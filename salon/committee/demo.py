"""The demo's committee (SPEC §10, §4, §3.3): elected in the weeks after the bureau's three sessions, from sample
ballots (示例); then every session after the third, walked month by month up to the day the demo is loaded —
nominations, the secret ballot, two members' signed picks, and what the session produced — so the review has
the committee's topics to judge and the session in progress is at the stage its dates give today."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app

from salon import clock
from salon.ballots import services as ballots
from salon.committee import services
from salon.committee.terms import member_seat_ids, sitting_term
from salon.outcomes import services as outcomes
from salon.programmes import services as programmes
from salon.rules.calendar_rules import to_local
from salon.schedule import services as schedule
from salon.topics import services as topics

# (secretary index, nominated by index): 景翼, 渭运 and three sample communities stand.
STANDING = [(0, 0), (1, 1), (4, 2), (7, 7), (10, 0)]
# Sample approval ballots (示例), candidate positions in STANDING order.
BALLOTS = [[0, 1, 2], [0, 1], [1, 2], [0, 2, 3], [0, 1, 4], [1, 3], [0, 1, 2], [2, 4], [0, 1], [1, 2, 3],
           [0, 2], [0, 1, 3], [4], [0, 1, 2], [1], []]

# The committee's sessions (示例), in order from session 4: the topic it chose (secretary index, title, problem,
# hoped result, outside units), a resolution, and action items (what, owner, days after the session it is due,
# [(days after the session, status, note)]). Session 4 takes up the nomination session 3 carried over.
CHOSEN = [
    (9, "网格员负担过重 (示例)", "(示例) 网格员表格多、考核多。", "为网格员减负", "",
     "梳理网格员事项清单，清单外事项不再派给网格员 (示例)。",
     [("制定网格员事项清单并印发各社区", "县民政局", 30, [(20, "done", "清单已印发 (示例)。")])]),
    (5, "老旧小区加装电梯协调难 (示例)", "(示例) 低层住户反对，高层住户着急，协商久拖不决。", "形成协商议事办法",
     "县住建局", "加装电梯实行“一梯一议”，由社区召集楼栋协商会 (示例)。",
     [("编制加装电梯协商指引", "县住建局", 45, [(15, "in_progress", "初稿已征求意见 (示例)。"),
                                              (40, "done", "指引已发布 (示例)。")])]),
    (6, "社区助餐点可持续运营 (示例)", "(示例) 助餐点靠补贴维持，用餐人数少。", "探索可持续运营模式", "县市场监管局",
     "助餐点向周边居民开放，补贴按用餐人次核定 (示例)。",
     [("拟定助餐补贴按人次核定的办法", "县民政局", 60, [(25, "in_progress", "正在测算 (示例)。")]),
      ("助餐点食品安全检查", "县市场监管局", 30, [(10, "done", "已检查 8 个助餐点 (示例)。")])]),
    (8, "物业服务矛盾调处 (示例)", "(示例) 物业费收缴率低，业主与物业互相指责。", "建立三方协调机制", "",
     "社区、业委会、物业每季度召开一次三方联席会 (示例)。",
     [("召开首次三方联席会", "城关社区", 30, [(21, "done", "已召开 (示例)。")])]),
    (10, "小区电动车充电难 (示例)", "(示例) 飞线充电多，火灾隐患大。", "推动集中充电设施", "县供电公司",
     "各小区排查飞线充电，县供电公司评估集中充电点选址 (示例)。",
     [("评估集中充电点选址", "县供电公司", 45, [(30, "in_progress", "已完成 6 个小区的评估 (示例)。")])]),
    (12, "志愿服务积分兑换 (示例)", "(示例) 积分攒了没处用，志愿者积极性下降。", "建立积分兑换清单", "县志愿者联合会",
     "全县统一志愿积分兑换清单，商户可自愿加入 (示例)。",
     [("发布积分兑换清单", "县志愿者联合会", 40, [])]),
    (13, "居民议事会到会率低 (示例)", "(示例) 议事会通知了没人来，来了的不发言。", "形成议事规则模板", "",
     "议事会议题会前一周公示，会后公布办理结果 (示例)。",
     [("起草议事规则模板", "渭运社区", 30, [])]),
    (14, "流动人口登记与服务 (示例)", "(示例) 租户流动快，登记信息跟不上。", "简化登记流程", "县公安局",
     "出租屋登记推行扫码自主申报 (示例)。",
     [("试点扫码申报", "县公安局", 60, [])]),
]
# Nominations that were not chosen (示例): two a session, each community's once.
OTHERS = [
    (15, "楼道堆物清理难 (示例)", "(示例) 清了又堆，反复整治。"),
    (16, "小区停车收费争议 (示例)", "(示例) 收费标准不透明。"),
    (17, "社区活动室使用率低 (示例)", "(示例) 活动室常年锁门。"),
    (18, "困难群众走访不到位 (示例)", "(示例) 走访记录多，实际帮扶少。"),
    (3, "社区证明事项再梳理 (示例)", "(示例) 仍有部门要求社区开具证明。"),
    (11, "垃圾分类督导员难招 (示例)", "(示例) 督导员报酬低，流动大。"),
    (4, "沿街商户门前三包 (示例)", "(示例) 门前三包责任落实不到位。"),
    (7, "社区工作者培训 (示例)", "(示例) 新入职社区工作者缺少系统培训。"),
    (15, "老年人防诈骗宣传 (示例)", "(示例) 老年人受骗案件时有发生。"),
    (16, "小区绿地被占种菜 (示例)", "(示例) 毁绿种菜屡禁不止。"),
    (17, "宠物扰民 (示例)", "(示例) 犬只不拴绳、夜间吠叫。"),
    (18, "社区儿童暑期托管 (示例)", "(示例) 双职工家庭暑期看护难。"),
    (3, "无物业小区管理 (示例)", "(示例) 无人管理，环境差。"),
    (11, "社区微信群管理 (示例)", "(示例) 群内广告多，通知被淹没。"),
    (4, "退役军人服务站作用发挥 (示例)", "(示例) 服务站建而不用。"),
    (7, "高空抛物治理 (示例)", "(示例) 高空抛物难以取证。"),
]
# The session in progress when the demo is loaded: two sample nominations and, carried over, one from the month
# before (示例).
UPCOMING = [
    (11, {"title": "社区养老服务站如何用起来 (示例)", "problem": "(示例) 服务站建成后老人来得少，活动单一。",
          "hoped_result": "形成服务站运营清单", "outside_units": "县卫健局"}),
    (12, {"title": "新就业群体融入社区治理 (示例)", "problem": "(示例) 外卖、快递骑手熟悉街巷，却很少参与社区事务。",
          "hoped_result": "建立骑手参与网格巡查的办法", "outside_units": ""}),
]
# Sample topic ballots (示例): nomination positions (chosen first); sec01–sec03 vote only in past sessions, so a
# visitor logged in as them can still vote in a session whose ballot is open.
TOPIC_BALLOTS = [[0], [0, 1], [0], [1], [0, 2], [2], [0], [0, 1], [1, 2], [0], [], [0], [2], [0, 1], [1], [0]]
ABSENT = (6, 13, 17)  # community indexes absent from the committee's sessions (示例)
PICKING = timedelta(days=2)  # after a vote closes, the members take two days to record their picks


def load(programme, bureau, secretaries) -> None:
    with current_app.test_request_context():
        third = schedule.numbered_session(programme.id, 3)
        opened = third.starts_at + timedelta(days=3)
        schedule.mark_past_held(programme.id, opened)
        election = services.open_election(programme, bureau, now=opened)
        for candidate, by in STANDING:
            seat = programmes.seat_of(secretaries[candidate])
            services.nominate(election, secretaries[by], seat.id, now=opened + timedelta(hours=1))
            if candidate != by:
                services.accept(election, secretaries[candidate], now=opened + timedelta(days=1))
        voting = opened + timedelta(days=7)
        poll = services.open_vote(election, programme, bureau, now=voting)
        options = [o.id for o in poll.questions[0].options]  # in seat order, as STANDING's seats are
        order = sorted(range(len(STANDING)), key=lambda i: programmes.seat_of(secretaries[STANDING[i][0]]).id)
        position = {standing_index: options[rank] for rank, standing_index in enumerate(order)}
        for voter, picks in zip(secretaries, BALLOTS):
            ballots.cast(poll.id, programmes.seat_of(voter).id, [position[i] for i in picks], programme.id, voting)
        services.close_vote(election, programme, bureau, now=voting + timedelta(days=7))


def load_sessions(programme, bureau, secretaries) -> None:
    """Sessions 4 onwards, month by month, each only as far as today allows."""
    with current_app.test_request_context():
        now = clock.utcnow()
        later = schedule.planned_after(programme.id, programme.bureau_sessions)
        for index, session in enumerate(later):
            previous = schedule.previous_session(session)
            frame = topics.windows(session, programme, previous)
            if frame.nominate_opens is None or frame.nominate_opens > now:
                break  # nominations have not opened yet: nothing has happened to this session or later ones
            _play(programme, bureau, secretaries, session, previous, frame, index, now)


def _seat(user):
    return programmes.seat_of(user)


def _play(programme, bureau, secretaries, session, previous, frame, index, now) -> None:
    ends = session.starts_at + timedelta(minutes=session.duration_minutes)
    when = min(frame.nominate_opens + timedelta(days=2), frame.nominate_closes - timedelta(hours=1), now)
    _nominate(secretaries, session, previous, index, ends > now, when)
    if now < frame.vote_opens:
        return
    poll = topics.open_voting(session, programme, bureau, now=frame.vote_opens)
    order = [o.id for o in poll.questions[0].options]  # in nomination order: the chosen one first
    past = now >= frame.vote_closes
    for number, (voter, picks) in enumerate(zip(secretaries, TOPIC_BALLOTS)):
        if not past and number < 3:
            continue
        if not past and frame.vote_opens + timedelta(days=1 + number % 5) > now:
            continue
        ballots.cast(poll.id, _seat(voter).id, [order[i] for i in picks if i < len(order)], programme.id,
                     frame.vote_opens + timedelta(hours=2))
    if not past:
        return
    ballots.close_poll(poll, bureau, frame.vote_closes)
    picked = frame.vote_closes + PICKING
    if picked > now:
        return  # the members have not picked yet: a task on their home pages
    chosen = topics.active_nominations(session.id)[0]
    members = [u for u in secretaries if _seat(u).id in member_seat_ids(sitting_term(programme.id))]
    for member in members[:2]:
        services.record_pick(session, member, chosen.id, "", now=picked)
    if ends > now:
        return  # decided, with its agenda and packet: the session is still to come (or under way)
    schedule.mark_past_held(programme.id, ends)
    _record(programme, bureau, secretaries, session, index, ends, now)


def _nominate(secretaries, session, previous, index, in_progress, when) -> None:
    if index == 0:
        carried = topics.nomination_titled(previous.id, CHOSEN[0][1])
        topics.carry_over(carried, _holder(secretaries, carried), when)
        nominations = []
    elif not in_progress:
        who, title, problem, hoped, units = CHOSEN[index % len(CHOSEN)][:5]
        nominations = [(who, {"title": title, "problem": problem, "hoped_result": hoped, "outside_units": units})]
    else:
        decision = topics.decision_of(previous.id)
        upcoming = {_seat(secretaries[who]).community_id for who, _data in UPCOMING}
        unchosen = [n for n in topics.active_nominations(previous.id)
                    if (decision is None or n.id != decision.nomination_id) and n.community_id not in upcoming]
        if unchosen:
            topics.carry_over(unchosen[-1], _holder(secretaries, unchosen[-1]), when)
        nominations = list(UPCOMING)
    if not in_progress:
        start = (2 * index) % len(OTHERS)
        nominations += [(who, {"title": title, "problem": problem}) for who, title, problem in OTHERS[start:start + 2]]
    for who, data in nominations:
        nomination = topics.nominate(session, secretaries[who], data, when)
        nomination.is_sample = True


def _holder(secretaries, nomination):
    return next(s for s in secretaries if _seat(s).community_id == nomination.community_id)


def _record(programme, bureau, secretaries, session, index, ends, now) -> None:
    """What the session produced: attendance, the resolution, and the action items with their updates."""
    present = [_seat(s).community_id for i, s in enumerate(secretaries) if i not in ABSENT]
    outcomes.record_attendance(session, bureau, present, [], now=ends)
    resolution, actions = CHOSEN[index % len(CHOSEN)][5:]
    outcomes.add_resolution(session, bureau, resolution, now=ends)
    local_day = to_local(ends, programme.timezone).date()
    for what, owner, due_days, steps in actions:
        item = outcomes.add_action(session, bureau, {"what": what, "owner_unit": owner,
                                                     "due_on": local_day + timedelta(days=due_days)}, now=ends)
        for days, status, note in steps:
            if ends + timedelta(days=days) <= now:
                outcomes.update_action(item, bureau, {"status": status, "note": note},
                                       now=ends + timedelta(days=days))
