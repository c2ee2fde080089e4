"""The demo programme (SPEC §10), modelled on Fuping County's salon of 2023."""
from __future__ import annotations

from flask import Flask

from salon import registry
from salon.programmes import services as programmes

NAME = "富平县社区治理主题沙龙 (示例)"
BUREAU_NAME = "富平县民政局 (示例)"
BUREAU_LOGIN = ("bureau", "demo-bureau-2023")
SECRETARY_PASSWORD = "demo-secretary-2023"

# The three named in the source, then sixteen sample names (marked as such on every page).
REAL = ["景翼社区", "渭运社区", "陕拖社区"]
SAMPLE = ["东华社区", "西苑社区", "南湖社区", "北塬社区", "城关社区", "杜村社区", "莲湖社区", "荆山社区",
          "温泉社区", "窦村社区", "新庄社区", "迎宾社区", "金城社区", "凤凰社区", "庄里社区", "槐院社区"]
# The source's outcome of session 3, told by two rooms' demos: the topics room's agenda note and the outcomes
# room's first resolution.
PROMISE = "由患者本人书面承诺替代社区开具的证明 (告知承诺制)。"


def step(app: Flask, order: int, func) -> None:
    """A room adds to the demo from its init_app: func(programme, bureau_user, secretaries), run by order.
    The schedule adds sessions at order 10; topics fill them at order 20."""
    steps = registry.of(app).demo_steps
    if (order, func) not in steps:
        steps.append((order, func))

LOGINS_TEXT = (
    "Demo logins:\n"
    f"  bureau (民政局):       {BUREAU_LOGIN[0]} / {BUREAU_LOGIN[1]}\n"
    f"  secretaries (书记):    sec01 … sec19 / {SECRETARY_PASSWORD}\n"
    "                        (sec01 景翼社区, sec02 渭运社区, sec03 陕拖社区, sec04-sec19 sample communities)"
)


def load():
    programme, bureau = programmes.create_programme(NAME, BUREAU_NAME, BUREAU_LOGIN[0], "民政局 张科长 (示例)",
                                                    BUREAU_LOGIN[1])
    programme.default_venue = "富平县民政局三楼会议室 (示例)"
    secretaries = []
    for number, name in enumerate(REAL + SAMPLE, start=1):
        community = programmes.add_community(programme, bureau, name, is_sample=name in SAMPLE)
        user, _token = programmes.hand_over_seat(community, bureau, f"sec{number:02d}",
                                                 f"{name}书记" + (" (示例)" if name in SAMPLE else ""),
                                                 SECRETARY_PASSWORD)
        user.locale = None
        secretaries.append(user)
    for _order, extend in sorted(registry.of().demo_steps, key=lambda item: item[0]):
        extend(programme, bureau, secretaries)
    return programme
