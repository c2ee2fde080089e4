"""Labels: a poll's title, questions and options are stored as codes by the room that owns the kind of poll,
and translated when shown."""
from __future__ import annotations

from salon import registry
from salon.ballots.models import Option, Poll, Question


def register_kind(app, kind: str, title, labels: dict | None = None, decrypted_below_minimum=(),
                  published_below_minimum=()) -> None:
    """The owning room's init_app names its kind of poll: title(poll) -> str, and its codes' lazy strings; and,
    for when fewer ballots than the publication minimum were cast (SPEC §5), what a sealed poll of the kind must
    still decrypt to reach its outcome and, of that, what is still published ((question code, option code)
    pairs, salon.rules.ballots.left_out_below_minimum; default: nothing)."""
    wired = registry.of(app)
    wired.poll_titles[kind] = title
    wired.poll_labels.update(labels or {})
    wired.poll_needs[kind] = (frozenset(decrypted_below_minimum), frozenset(published_below_minimum))


def below_minimum(kind: str) -> tuple[frozenset, frozenset]:
    """(decrypted, published) below the publication minimum, as the kind registered them."""
    return registry.of().poll_needs.get(kind, (frozenset(), frozenset()))


def poll_title(poll: Poll) -> str:
    compose = registry.of().poll_titles.get(poll.kind)
    return str(compose(poll)) if compose is not None else poll.title


def question_text(question: Question) -> str:
    labels = registry.of().poll_labels
    return str(labels[question.code]) if question.code in labels else question.text


def option_label(option: Option) -> str:
    labels = registry.of().poll_labels
    return str(labels[option.code]) if option.code in labels else option.label
