"""The main menu: features add their entries here, so the base layout names no feature."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import Flask, url_for

from salon import registry


@dataclass(frozen=True)
class Entry:
    label: object  # a lazy string
    endpoint: str
    order: int = 50
    visible: Callable | None = None  # (user) -> bool


def add(app: Flask, label, endpoint: str, order: int = 50, visible: Callable | None = None) -> None:
    registry.of(app).menu.append(Entry(label, endpoint, order, visible))


def items_for(user) -> list[dict]:
    return [{"label": e.label, "url": url_for(e.endpoint)}
            for e in sorted(registry.of().menu, key=lambda e: e.order)
            if e.visible is None or e.visible(user)]
