"""The command line against a real database: programme creation, demo, backup and restore, audit verify,
and the sealed ballots' board verifier."""
import http.server
import json
import threading
from datetime import datetime

import pytest
from sqlalchemy import func, select, update

from salon import clock
from salon.audit.models import AuditEvent
from salon.extensions import db
from salon.programmes.models import Community, Programme
from salon.schedule.models import Session, SessionStatus
from salon.sealed import ballot as sealed_ballot
from tests.unit.test_sealed_board import VOTES, make_board
from tests.unit.test_sealed_client import PUBLIC_KEY as SEAL_KEY
from tests.unit.test_sealed_client import SPEC as SEAL_SPEC
from tests.unit.test_sealed_client import opened

SEAL_QUESTIONS = [sealed_ballot.Question.from_json(q) for q in SEAL_SPEC["questions"]]


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def run(*args, ok=True):
        result = runner.invoke(args=list(args))
        if ok:
            assert result.exit_code == 0, result.output + repr(result.exception)
        return result

    return run


def test_create_programme_prints_an_invitation(cli, app):
    result = cli("create-programme", "--name", "丙县沙龙", "--bureau", "丙县民政局", "--username", "bing",
                 "--display-name", "丙 局")
    assert "/invite/" in result.output
    assert db.session.scalar(select(Programme.name)) == "丙县沙龙"


def test_create_programme_refuses_a_taken_username(cli, world):
    result = cli("create-programme", "--name", "X", "--username", "bureau_a", "--display-name", "x", ok=False)
    assert result.exit_code != 0 and "username" in result.output
    assert db.session.scalar(select(func.count(Programme.id))) == 2


def test_demo_loads_once(cli, app):
    result = cli("demo", "--if-empty")
    assert "bureau" in result.output and "sec01" in result.output
    names = db.session.scalars(select(Community.name).order_by(Community.rotation_position)).all()
    assert len(names) == 19 and names[:3] == ["景翼社区", "渭运社区", "陕拖社区"]
    assert db.session.scalar(select(func.count(Community.id)).where(Community.is_sample.is_(True))) == 16
    again = cli("demo", "--if-empty")
    assert "already" in again.output
    assert db.session.scalar(select(func.count(Programme.id))) == 1


def test_demo_as_of_a_day_lays_the_history_before_it(cli, app):
    cli("demo", "--as-of", "2026-03-01T02:00")
    starts = db.session.scalars(select(Session.starts_at).order_by(Session.number)).all()
    assert starts[0] == datetime(2025, 5, 29, 6, 30)  # ten months before March 2026, last Thursday, 14:30 Shanghai
    held = db.session.scalars(select(Session.number).where(Session.status == SessionStatus.HELD)).all()
    assert len(held) == 10  # May 2025 to February 2026
    assert clock.utcnow() > datetime(2026, 3, 2)  # the clock is back
    bad = cli("demo", "--as-of", "March", ok=False)
    assert bad.exit_code == 2 and "--as-of" in bad.output
    future = cli("demo", "--as-of", "2099-01-01", ok=False)
    assert future.exit_code == 2 and "--as-of" in future.output
    assert db.session.scalar(select(func.count(Programme.id))) == 1  # nothing more loaded


def test_audit_verify_reports_the_first_broken_link(cli, world):
    assert "intact" in cli("audit", "verify").output
    db.session.execute(update(AuditEvent).where(AuditEvent.programme_id == world.programme.id,
                                                AuditEvent.seq == 5).values(action="tampered"))
    db.session.commit()
    result = cli("audit", "verify", ok=False)
    assert result.exit_code == 1
    assert f"programme {world.programme.id}, event 5" in result.output


def test_tick_runs(cli, world):
    assert "tick done" in cli("tick").output


def test_restore_refuses_a_database_that_holds_data(cli, world, tmp_path):
    """Restoring goes into a new, empty database (tests/services/test_backup_restore.py round-trips one); over
    one that holds tables it would mix the backup with what is there."""
    path = tmp_path / "salon.backup"
    cli("backup", str(path))
    assert path.stat().st_size > 0
    db.session.execute(update(Community).values(name=Community.name + "（改）"))
    db.session.commit()
    db.session.remove()
    result = cli("restore", str(path), ok=False)
    assert result.exit_code == 1 and "new, empty database" in result.output
    names = set(db.session.scalars(select(Community.name)))
    assert names == {"景翼社区（改）", "渭运社区（改）", "陕拖社区（改）", "城东社区（改）"}


def test_salon_verify_is_wired_into_the_command_line(cli, tmp_path):
    board, _ = make_board(VOTES)
    path = tmp_path / "board.json"
    path.write_text(json.dumps(board))
    assert cli("verify", str(path)).output.startswith("OK: poll poll-9, 3 ballots")
    board["result"][1][0] += 1
    path.write_text(json.dumps(board))
    result = cli("verify", str(path), ok=False)
    assert result.exit_code == 1 and "the published count 3 is not what the trustees decrypted (2)" in result.output


def test_salon_verify_reads_boards_of_both_protocol_versions(cli, tmp_path):
    """Board-2 (a poll opened before salon-sealed-2) and board-3 (its blank position counted) both verify."""
    from tests.unit.test_sealed_blank import V2_VOTES
    from tests.unit.test_sealed_blank import make_board as make_versioned_board

    for version, votes, last_line in [(1, [[v[0][:3], v[1]] for v in V2_VOTES], "  overall: [2, 1, 1]"),
                                      (2, V2_VOTES, "  overall: [2, 1, 1]")]:
        path = tmp_path / f"board-{version}.json"
        path.write_text(json.dumps(make_versioned_board(version, votes)))
        lines = cli("verify", str(path)).output.splitlines()
        assert lines[0].startswith("OK: poll poll-9, 4 ballots") and lines[-1] == last_line
        assert ("  topics: [1, 1, 2, 2] (the last: blank ballots)" in lines) == (version == 2)



def test_salon_ballot_seal_is_wired_into_the_command_line(cli, tmp_path):
    """`salon ballot seal` (SPEC §5.1): the body to POST on stdout, its fingerprint on stderr. Its refusals and
    --url: tests/unit/test_sealed_client.py."""
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(SEAL_SPEC))
    result = cli("ballot", "seal", str(path), "--choose", "12,15,22")
    ballot = json.loads(result.stdout)["sealed"]
    assert sealed_ballot.verify(ballot, "41:Zq3x", SEAL_KEY, SEAL_QUESTIONS) == []
    assert opened(ballot) == [[0, 1, 0, 0, 1], [0, 1, 0, 0]]
    assert result.stderr == f"fingerprint (your receipt): {sealed_ballot.fingerprint(ballot)}\n"
    refused = cli("ballot", "seal", str(path), "--choose", "11,12,13,14,21", ok=False)
    assert refused.exit_code == 2 and refused.stdout == ""
    assert "choices refused: question 7: 4 approvals; at most 3 allowed" in refused.stderr
