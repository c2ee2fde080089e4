"""Copy-ready notices for the county's chat group: at each stage of a session (nominations open, voting open,
topic decided, and what other rooms add: packet ready, review check-in …) a short Chinese text with the deep
link and the deadline, which the bureau copies into the group.

A room adds a stage with `register(app, stage, builder)` from its init_app; the builder takes keyword arguments
and returns the text in the current locale. `notice(stage, **kw)` renders it in Chinese whatever the bureau's own language, because the
group reads Chinese."""
from __future__ import annotations

from typing import Callable

from flask import Flask
from flask_babel import force_locale

from salon import registry

GROUP_LOCALE = "zh_Hans"


def register(app: Flask, stage: str, builder: Callable[..., str]) -> None:
    registry.of(app).notices[stage] = builder


def stages() -> list[str]:
    return sorted(registry.of().notices)


def notice(stage: str, **kw) -> str:
    """The notice for `stage` in the group's language; kw: what the stage's builder needs."""
    with force_locale(GROUP_LOCALE):
        return registry.of().notices[stage](**kw)
