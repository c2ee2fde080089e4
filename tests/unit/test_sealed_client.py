"""The client module that seals a ballot outside the browser (salon/sealed/client.py, tools/seal_ballot.py;
SPEC §5.1): plain choices in, a ballot the server's verifier accepts out, and refusals that name the question."""
import copy
import http.server
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from salon.commands import ballot_group
from salon.sealed import ballot as B
from salon.sealed import client
from salon.sealed.group import Point, base_mul

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "seal_ballot.py"
SECRET = 0x5EA1ED  # the joint secret, known to the test only: it reads the sealed answers back
PUBLIC_KEY = base_mul(SECRET)
# A topic poll's approval question (up to 3 of 5 nominations) and a single-choice question, as the API serves
# them: question ids are strings, option ids the API's; the single-choice question's blank answer is its last
# position, option id null.
SPEC = {"format": "salon-seal-spec-1", "poll": "41:Zq3x", "public_key": PUBLIC_KEY.hex(), "threshold": 2,
        "questions": [{"id": "7", "options": 5, "min": 0, "max": 3, "option_ids": [11, 12, 13, 14, 15],
                       "blank": None},
                      {"id": "8", "options": 4, "min": 1, "max": 1, "option_ids": [21, 22, 23, None], "blank": 3}]}


def opened(ballot) -> list[list[int]]:
    """Each answer decrypted with the test's secret: beta − secret·alpha is 0·G (the identity) or 1·G."""
    result = []
    for answer in ballot["answers"]:
        row = []
        for choice in answer["choices"]:
            alpha, beta = Point.from_hex(choice["alpha"]), Point.from_hex(choice["beta"])
            m = beta - alpha.mul(SECRET)
            row.append(0 if m.is_identity else 1 if m == base_mul(1) else None)
        result.append(row)
    return result


@pytest.fixture
def spec():
    return client.spec_from_json(copy.deepcopy(SPEC))


def test_option_ids_are_sealed_at_their_positions_and_the_ballot_verifies(spec):
    answers = spec.answers_for_options([15, 11, 22])
    assert answers == [[1, 0, 0, 0, 1], [0, 1, 0, 0]]
    ballot = client.seal_ballot(spec, answers)
    questions = [B.Question.from_json(q) for q in SPEC["questions"]]
    assert B.verify(ballot, "41:Zq3x", PUBLIC_KEY, questions) == []
    assert opened(ballot) == [[1, 0, 0, 0, 1], [0, 1, 0, 0]]
    assert client.request_body(ballot) == {"sealed": ballot}
    # fresh nonces: the same choices never give the same ballot (or receipt) twice
    assert client.fingerprint(client.seal_ballot(spec, answers)) != B.fingerprint(ballot)


def test_a_question_with_no_option_chosen_is_answered_blank_as_a_plain_cast_is(spec):
    assert spec.answers_for_options([23]) == [[0] * 5, [0, 0, 1, 0]]
    assert spec.answers_for_options([]) == [[0] * 5, [0, 0, 0, 1]]  # a blank ballot
    assert opened(client.seal_ballot(spec, spec.answers_for_options([]))) == [[0] * 5, [0, 0, 0, 1]]
    # as lists, the blank answer is a position of its own: no answer at all is refused
    with pytest.raises(client.InvalidChoice) as refused:
        spec.check([[0] * 5, [0, 0, 0, 0]])
    assert str(refused.value) == ("question 8: no answer; this question takes exactly one answer (position 3 is "
                                  "its blank answer)")


def test_a_single_choice_question_without_a_blank_answer_needs_an_option():
    data = copy.deepcopy(SPEC)
    data["questions"][1].update(options=3, option_ids=[21, 22, 23], blank=None)
    spec = client.spec_from_json(data)
    with pytest.raises(client.InvalidChoice) as refused:
        spec.answers_for_options([12])
    assert str(refused.value) == "question 8: no answer; this question takes exactly one answer"


@pytest.mark.parametrize("chosen, message", [
    ([11, 12, 13, 14, 21], "question 7: 4 approvals; at most 3 allowed"),
    ([11, 12, 13, 21], None),  # K = 3 exactly: accepted
    ([11, 21, 22], "question 8: 2 answers; this question takes exactly one answer"),
    ([11, 11, 21], "question 7: option 11 chosen twice"),
    ([99, 21], "option 99 is on none of this poll's questions"),
])
def test_option_ids_that_break_a_rule_are_refused_naming_the_question(spec, chosen, message):
    if message is None:
        assert sum(map(sum, spec.answers_for_options(chosen))) == 4
        return
    with pytest.raises(client.InvalidChoice) as refused:
        spec.answers_for_options(chosen)
    assert message in str(refused.value)


@pytest.mark.parametrize("answers, message", [
    ([[0, 2, 0, 0, 0], [1, 0, 0, 0]], "question 7, position 1: an answer of 2; each answer is 0 or 1"),
    ([[0, 0, 0, 0, 0], [True, 0, 0, 0]], "question 8, position 0: an answer of True; each answer is 0 or 1"),
    ([[1, 1, 1, 1, 0], [0, 1, 0, 1]], "question 7: 4 approvals; at most 3 allowed; "
                                      "question 8: 2 answers; this question takes exactly one answer"),
    ([[0, 0, 0, 0], [1, 0, 0, 0]], "question 7: 5 answers expected, one 0 or 1 per position"),
    ([[0, 0, 0, 0, 0]], "one list of answers per question: 2 lists expected (questions 7, 8)"),
])
def test_per_question_lists_that_break_a_rule_are_refused_and_nothing_is_sealed(spec, answers, message):
    with pytest.raises(client.InvalidChoice) as refused:
        client.seal_ballot(spec, answers)
    assert str(refused.value) == message


def test_command_line_choices_are_read_as_option_ids_or_as_json_lists(spec):
    assert client.answers_from_text(spec, choose=" 12, 21") == [[0, 1, 0, 0, 0], [1, 0, 0, 0]]
    assert client.answers_from_text(spec, choose="") == [[0, 0, 0, 0, 0], [0, 0, 0, 1]]
    assert client.answers_from_text(spec, answers="[[0,0,0,0,1],[0,0,1,0]]") == [[0, 0, 0, 0, 1], [0, 0, 1, 0]]
    for kwargs, message in [({"choose": "12,x"}, "'x' is not an option id"),
                            ({"answers": "[[0,0"}, "--answers is not JSON"),
                            ({}, "not both"), ({"choose": "12", "answers": "[]"}, "not both")]:
        with pytest.raises(client.InvalidChoice, match=message):
            client.answers_from_text(spec, **kwargs)


def test_the_api_poll_json_holding_the_spec_is_read_and_an_unsealed_poll_is_refused():
    spec = client.spec_from_json({"id": 41, "state": "open", "questions": [], "sealed": copy.deepcopy(SPEC)})
    assert spec.poll == "41:Zq3x" and spec.option_ids == ((11, 12, 13, 14, 15), (21, 22, 23, None))
    assert spec.blanks == (None, 3)
    with pytest.raises(client.SpecError) as refused:
        client.spec_from_json({"id": 41, "sealed": None})
    assert "poll 41 is not sealed" in str(refused.value) and "plain choices" in str(refused.value)


@pytest.mark.parametrize("change, message", [
    (lambda s: s.update(format="salon-seal-spec-0"), "not a seal spec"),
    (lambda s: s.update(public_key="02" + "00" * 32), "public_key"),
    (lambda s: s.update(public_key="00"), "public_key"),
    (lambda s: s["questions"][0].update(option_ids=[11, 12, 13, 14]), "question 7: `option_ids` must list 5"),
    (lambda s: s["questions"][1].update(option_ids=[21, 22, 15, None]), "option 15 is in questions 7 and 8"),
    (lambda s: s["questions"][1].update(option_ids=[21, None, 23, None]), "question 8: `option_ids` must list 4"),
    (lambda s: s["questions"][1].update(blank=2), "question 8: `blank` must be the position of the null"),
    (lambda s: s["questions"][0].update(max=6), "question 7"),
    (lambda s: s.update(threshold=1), "threshold"),
])
def test_a_malformed_spec_is_refused_saying_what_is_wrong(change, message):
    data = copy.deepcopy(SPEC)
    change(data)
    with pytest.raises(client.SpecError, match=message):
        client.spec_from_json(data)


# Runs the tool and then lists which of Salon's own or web dependencies it loaded: it must load none.
RUN_TOOL = """
import runpy, sys
sys.argv = ["seal_ballot.py"] + sys.argv[1:]
try:
    runpy.run_path({tool!r}, run_name="__main__")
except SystemExit as exit_:
    code = exit_.code
loaded = sorted({{m.split(".")[0] for m in sys.modules}} & {{"salon", "flask", "sqlalchemy", "werkzeug"}})
print("LOADED", loaded, file=sys.stderr)
sys.exit(code)
"""


def run_tool(*args, stdin=""):
    return subprocess.run([sys.executable, "-c", RUN_TOOL.format(tool=str(TOOL)), *map(str, args)], input=stdin,
                          capture_output=True, text=True, cwd="/", timeout=120)


def test_the_standalone_tool_seals_from_stdin_with_nothing_but_the_crypto():
    done = run_tool("-", "--choose", "13,23", stdin=json.dumps({"id": 41, "sealed": SPEC}))
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    ballot = body["sealed"]
    assert opened(ballot) == [[0, 0, 1, 0, 0], [0, 0, 1, 0]]
    assert done.stderr.splitlines() == [f"fingerprint (your receipt): {B.fingerprint(ballot)}", "LOADED []"]


def test_the_standalone_tool_refuses_bad_choices_with_exit_2_and_prints_nothing_to_post(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(SPEC))
    done = run_tool(path, "--answers", "[[0,0,0,0,0],[1,1,0,0]]")
    assert done.returncode == 2 and done.stdout == ""
    assert "choices refused: question 8: 2 answers; this question takes exactly one answer" in done.stderr
    missing = run_tool(tmp_path / "nowhere.json", "--choose", "21")
    assert missing.returncode == 1 and "No such file" in missing.stderr


# `salon ballot seal` (salon/commands.py: the same client on Salon's command line; its wiring into `salon`:
# tests/services/test_cli.py).
def test_salon_ballot_seal_reads_the_poll_json_on_stdin_and_prints_the_bare_ballot():
    result = CliRunner().invoke(ballot_group, ["seal", "-", "--bare", "--answers", "[[0,0,0,0,0],[0,0,1,0]]"],
                                input=json.dumps({"id": 41, "sealed": SPEC}))
    assert result.exit_code == 0, result.output
    ballot = json.loads(result.stdout)
    assert opened(ballot) == [[0, 0, 0, 0, 0], [0, 0, 1, 0]]
    assert result.stderr == f"fingerprint (your receipt): {B.fingerprint(ballot)}\n"


@pytest.mark.parametrize("choices, message", [
    (["--choose", "11,12,13,14,21"], "question 7: 4 approvals; at most 3 allowed"),
    (["--answers", "[[0,0,0,0,0],[0,0,0,0]]"], "question 8: no answer; this question takes exactly one answer"),
    (["--answers", "[[0,0,2,0,0],[1,0,0,0]]"], "question 7, position 2: an answer of 2; each answer is 0 or 1"),
    (["--choose", "21,77"], "option 77 is on none of this poll's questions"),
])
def test_salon_ballot_seal_refuses_bad_choices_with_exit_2_and_prints_no_ballot(choices, message):
    result = CliRunner().invoke(ballot_group, ["seal", "-", *choices], input=json.dumps(SPEC))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"choices refused: {message}" in result.stderr


def test_salon_ballot_seal_refuses_an_unsealed_poll_and_a_missing_spec():
    result = CliRunner().invoke(ballot_group, ["seal", "-", "--choose", "21"],
                                input=json.dumps({"id": 41, "sealed": None}))
    assert result.exit_code == 1 and "poll 41 is not sealed" in result.stderr and result.stdout == ""
    neither = CliRunner().invoke(ballot_group, ["seal", "--choose", "21"])
    assert neither.exit_code == 2 and "--url" in neither.stderr


def test_salon_ballot_seal_fetches_the_spec_from_the_api_with_the_bearer_token():
    """--url reads GET /api/v1/polls/ID's `sealed` member (here a stand-in server checking the token)."""
    seen = []

    class Poll(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append((self.path, self.headers.get("Authorization")))
            good = self.headers.get("Authorization") == "Bearer tok-123"
            body = json.dumps({"id": 41, "state": "open", "sealed": SPEC} if good else {"message": "no"})
            self.send_response(200 if good else 401)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Poll)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/api/v1/polls/41"
    try:
        result = CliRunner().invoke(ballot_group, ["seal", "--url", url, "--choose", "23"],
                                    env={"SALON_API_TOKEN": "tok-123"})
        refused = CliRunner().invoke(ballot_group, ["seal", "--url", url, "--token", "wrong", "--choose", "23"])
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 0, result.output
    assert opened(json.loads(result.stdout)["sealed"]) == [[0, 0, 0, 0, 0], [0, 0, 1, 0]]
    assert seen[0] == ("/api/v1/polls/41", "Bearer tok-123")
    assert refused.exit_code == 1 and "HTTP 401" in refused.stderr and "token" in refused.stderr


# --- protocol salon-sealed-2: the approval question ends with its blank position ---------------------------------

SPEC_2 = {**copy.deepcopy(SPEC), "format": "salon-seal-spec-2", "protocol": "salon-sealed-2",
          "questions": [{"id": "7", "options": 6, "min": 0, "max": 3, "option_ids": [11, 12, 13, 14, 15, None],
                         "blank": 5}, copy.deepcopy(SPEC["questions"][1])]}


def test_a_version_2_spec_seals_version_2_ballots_and_a_blank_ballot_sets_the_blank_position():
    spec = client.spec_from_json(copy.deepcopy(SPEC_2))
    assert spec.protocol == 2 and spec.questions[0] == B.Question("7", 6, 0, 3, True)
    assert spec.answers_for_options([]) == [[0, 0, 0, 0, 0, 1], [0, 0, 0, 1]]
    assert spec.answers_for_options([12, 21]) == [[0, 1, 0, 0, 0, 0], [1, 0, 0, 0]]
    # 0/1 lists may leave the blank position out: it is set from the approvals
    assert spec.check([[0, 0, 0, 0, 0], [1, 0, 0, 0]]) == [[0, 0, 0, 0, 0, 1], [1, 0, 0, 0]]
    for chosen in ([], [11, 15, 23]):
        ballot = client.seal_ballot(spec, spec.answers_for_options(chosen))
        assert ballot["protocol"] == "salon-sealed-2"
        assert B.verify(ballot, "41:Zq3x", PUBLIC_KEY, list(spec.questions), 2) == []
    assert opened(ballot) == [[1, 0, 0, 0, 1, 0], [0, 0, 1, 0]]
    # the old spec still seals version 1 ballots (a poll opened before the upgrade)
    old = client.spec_from_json(copy.deepcopy(SPEC))
    assert old.protocol == 1 and "protocol" not in client.seal_ballot(old, old.answers_for_options([]))


@pytest.mark.parametrize("answers, message", [
    ([[1, 0, 0, 0, 0, 1], [1, 0, 0, 0]], "question 7: 1 approvals and its blank position 5 set"),
    ([[0, 0, 0, 0, 0, 0], [1, 0, 0, 0]], "question 7: no approval and its blank position 5 not set"),
    ([[1, 1, 1, 1, 0, 0], [1, 0, 0, 0]], "question 7: 4 approvals; at most 3 allowed"),
    ([[1, 1, 1, 1, 0], [1, 0, 0, 0]], "question 7: 4 approvals; at most 3 allowed"),
])
def test_a_blank_position_that_contradicts_the_approvals_is_refused(answers, message):
    spec = client.spec_from_json(copy.deepcopy(SPEC_2))
    with pytest.raises(client.InvalidChoice) as refused:
        client.seal_ballot(spec, answers)
    assert message in str(refused.value)


@pytest.mark.parametrize("change, message", [
    (lambda s: s.pop("protocol"), "`protocol` must be salon-sealed-2"),
    (lambda s: s["questions"][0].update(option_ids=[11, 12, 13, 14, 15, 16], blank=None),
     "an approval question has its blank position"),
    (lambda s: s["questions"][0].update(option_ids=[None, 11, 12, 13, 14, 15], blank=0), "ends with its blank"),
    (lambda s: s.update(format="salon-seal-spec-1"), "has no blank position in salon-sealed-1"),
])
def test_a_version_2_spec_that_does_not_hold_together_is_refused(change, message):
    data = copy.deepcopy(SPEC_2)
    change(data)
    with pytest.raises(client.SpecError, match=message):
        client.spec_from_json(data)


def test_the_standalone_tool_seals_a_version_2_blank_ballot():
    done = run_tool("-", "--choose", "", stdin=json.dumps({"id": 41, "sealed": SPEC_2}))
    assert done.returncode == 0, done.stderr
    ballot = json.loads(done.stdout)["sealed"]
    assert ballot["protocol"] == "salon-sealed-2" and opened(ballot) == [[0, 0, 0, 0, 0, 1], [0, 0, 0, 1]]
