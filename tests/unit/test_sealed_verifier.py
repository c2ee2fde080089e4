"""The standalone verifier (tools/verify_board.py, stdlib plus coincurve) and `salon verify` (SPEC §5.1)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from salon.commands import verify_board_command
from tests.unit.test_sealed_board import VOTES, make_board

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "verify_board.py"

# Runs the tool and then lists which of Salon's own or web dependencies it loaded: it must load none.
RUN_TOOL = """
import runpy, sys
sys.argv = ["verify_board.py"] + sys.argv[1:]
try:
    runpy.run_path({tool!r}, run_name="__main__")
except SystemExit as exit_:
    code = exit_.code
loaded = sorted({{m.split(".")[0] for m in sys.modules}} & {{"salon", "flask", "sqlalchemy", "nacl", "werkzeug"}})
print("LOADED", loaded)
sys.exit(code)
"""


@pytest.fixture(scope="module")
def board_file(tmp_path_factory):
    board, _ = make_board(VOTES)
    path = tmp_path_factory.mktemp("board") / "board.json"
    path.write_text(json.dumps(board, ensure_ascii=False, indent=1), encoding="utf-8")
    return path, board


def run_tool(*args):
    return subprocess.run([sys.executable, "-c", RUN_TOOL.format(tool=str(TOOL)), *map(str, args)],
                          capture_output=True, text=True, cwd="/", timeout=120)


def test_the_standalone_verifier_says_ok_finds_a_receipt_and_loads_nothing_but_the_crypto(board_file):
    path, board = board_file
    receipt = board["ballots"][2]["fingerprint"]
    done = run_tool(path, "--receipt", receipt)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "OK: poll poll-9, 3 ballots, 2 of 3 trustees decrypted (k = 2)"
    assert "  topics: [1, 1, 2, 0]" in lines and f"receipt {receipt}: on the board" in lines
    assert lines[-1] == "LOADED []"


def test_the_standalone_verifier_lists_problems_and_fails(board_file, tmp_path):
    path, board = board_file
    text = path.read_text(encoding="utf-8")
    first_beta = board["ballots"][0]["ballot"]["answers"][0]["choices"][0]["beta"]
    changed = tmp_path / "changed.json"
    changed.write_text(text.replace(first_beta, first_beta[:-1] + ("0" if first_beta[-1] != "0" else "1")))
    done = run_tool(changed)
    assert done.returncode == 1
    assert "OK" not in done.stdout and "topics option 0" in done.stdout
    assert run_tool(path, "--receipt", "f" * 64).returncode == 1


def test_salon_verify_runs_the_same_check(board_file, tmp_path):
    path, board = board_file
    result = CliRunner().invoke(verify_board_command, [str(path), "--receipt", board["ballots"][0]["fingerprint"]])
    assert result.exit_code == 0 and result.output.startswith("OK: poll poll-9") and "on the board" in result.output
    broken = tmp_path / "broken.json"
    broken.write_text(path.read_text(encoding="utf-8").replace('"threshold": 2', '"threshold": 3'))
    result = CliRunner().invoke(verify_board_command, [str(broken)])
    assert result.exit_code == 1 and "OK" not in result.output
