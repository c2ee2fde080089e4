"""Polls opened on plain counters, as versions before migration 0013 opened them when no trustees' key was ready.

No poll opens that way any more (SPEC §5.1; docs/secrecy.md, "No plain polls"), but a database upgraded while such
a poll was open still holds it: the engine keeps taking its ballots (counter shards, receipt codes, the fast path)
and closes it with the scrub. The tests of that path open their polls with `legacy_opening`, which writes exactly
the rows the old `open_poll` wrote."""
from __future__ import annotations

from contextlib import contextmanager

from bench.harness import COUNTER_SHARDS, open_as_before_0013  # noqa: F401 - COUNTER_SHARDS: for the tests
from salon.ballots import services as ballots


@contextmanager
def legacy_opening(monkeypatch):
    """While the block runs, every room's `ballots.open_poll` opens on plain counters, as before 0013."""
    with monkeypatch.context() as patch:
        patch.setattr(ballots, "open_poll", open_as_before_0013)
        patch.setattr(ballots, "require_key", lambda *args, **kwargs: None)
        yield
