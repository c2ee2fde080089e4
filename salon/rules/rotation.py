"""The rotating chair (轮值主席制, SPEC §2): who chairs which session, and drawing lots.

Everything here works on plain ids. The input is the programme's sessions in date order
(cancelled ones left out) as `Slot`s; fixed slots (held, past, swapped, locked) keep their chair,
free slots get one.

The rule: the rotation continues from an anchor, the last fixed slot before the first free one
that followed the rotation (not swapped) and whose chair is still active. Every later slot chaired
by an active community counts as one step, fixed or free; free slot number k after the anchor goes
to the k-th community after the anchor's chair in the rotation order. So
- in a schedule nobody touched, each session goes to the next community after the previous chair;
- a swapped pair is an exchange of two turns: the rotation around it is unchanged;
- a leaving community's slots stop counting, so its successors move up and nobody chairs twice
  within a run as long as the number of active communities (SPEC §2, fairness);
- a joining community is at the end of the order and gets its turn when the rotation reaches it;
- a cancelled session is not a slot, so its chair takes the next session (nobody loses a turn).

A fixed slot whose chair no longer fits the rotation (a lock set before the order changed) keeps
its chair; runs that contain it are the only ones where a community may chair twice.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Hashable, Sequence


@dataclass(frozen=True)
class Slot:
    key: Hashable
    chair: int | None = None
    fixed: bool = False
    swapped: bool = False


def assign(order: Sequence[int], slots: Sequence[Slot]) -> dict[Hashable, int | None]:
    """Chairs for the free slots: {slot key: community id}. `order` is the active communities."""
    free = [i for i, slot in enumerate(slots) if not slot.fixed]
    if not free:
        return {}
    if not order:
        return {slots[i].key: None for i in free}
    active = {c: position for position, c in enumerate(order)}
    anchor, base = -1, -1
    for i in range(free[0] - 1, -1, -1):
        slot = slots[i]
        if slot.chair in active and not slot.swapped:
            anchor, base = i, active[slot.chair]
            break
    chairs: dict[Hashable, int | None] = {}
    step = 0
    for slot in slots[anchor + 1:]:
        if slot.fixed and slot.chair not in active:
            continue
        step += 1
        if not slot.fixed:
            chairs[slot.key] = order[(base + step) % len(order)]
    return chairs


def numbers(cancelled: Sequence[bool]) -> list[int | None]:
    """第N期 for sessions in date order: the ones not cancelled are 1..N, cancelled ones have none."""
    found, number = [], 0
    for is_cancelled in cancelled:
        if is_cancelled:
            found.append(None)
        else:
            number += 1
            found.append(number)
    return found


def draw_lots(community_ids: Sequence[int], seed: str) -> list[int]:
    """The order drawn with `seed`, so anyone can redo the draw:
    `order = sorted(ids); random.Random(seed).shuffle(order)` (Python 3, string seed)."""
    drawn = sorted(community_ids)
    random.Random(seed).shuffle(drawn)
    return drawn


def runs_with_double_duty(chairs: Sequence[int | None], length: int) -> list[int]:
    """Start indexes of every run of `length` consecutive sessions in which a community chairs twice."""
    found = []
    for start in range(0, max(0, len(chairs) - length + 1)):
        run = [c for c in chairs[start:start + length] if c is not None]
        if len(run) != len(set(run)):
            found.append(start)
    return found
