"""Sealed ballots for the load and fault checks (tests/web/test_cluster.py with bench/cluster.py,
tests/web/test_database_restart.py; bench/rush.py seals in its own load process): the ballots sealed ahead, the
trustees decrypting through the API, and what the bulletin board must then show.

A voter's client seals from the poll's seal spec with salon/sealed/client.py, through its public functions only
(`spec_from_json`, `SealSpec.answers_for_options`, `seal_ballot`, `fingerprint`, `request_body`): "seal these
choices for this poll". Sealing costs this process about a millisecond of CPU per ballot, so the ballots of a
burst are sealed before it starts and the burst stresses the server, not the client. Some voters send their
choices plain instead, as a page without JavaScript does, and the server seals them on arrival (`sealed_by:
"server"` on the board).

After the close the trustees (bench/harness.py `seed_sealed`: the drawn secretaries, whose tokens and secrets the
script holds) decrypt as their devices would: GET their decryption request from the API, compute their factors
with their secret (salon.sealed.board.request_factors: what trustees.js computes in the browser), POST them.
Then `board_problems` checks the published board against what the clients were told."""
from __future__ import annotations

import http.client
import json
import random
from dataclasses import dataclass

import harness  # noqa: F401 - bench/harness.py puts the repository on sys.path, for salon.sealed
from salon.sealed import board as sealed_board
from salon.sealed import client


@dataclass(frozen=True)
class Ballot:
    """One voter's ballot as it will be sent: the body, and for one sealed by the client its fingerprint."""
    choices: list[int]
    body: str  # the JSON body of POST /api/v1/polls/{id}/ballot
    fingerprint: str | None  # None: sent plain, sealed by the server (its receipt comes with the answer)

    @property
    def sealed_by(self) -> str:
        return "server" if self.fingerprint is None else "voter"


def api(port: int, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, "/api/v1" + path, body=None if body is None else json.dumps(body),
                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        response = conn.getresponse()
        payload = response.read()
    finally:
        conn.close()
    try:
        return response.status, json.loads(payload)
    except ValueError:
        return response.status, {"raw": payload[:300].decode("utf-8", "replace")}


def seal_spec(port: int, poll_id: int, token: str) -> client.SealSpec:
    """The poll's seal spec, as a client reads it: the `sealed` member of GET /api/v1/polls/{id}."""
    status, poll = api(port, "GET", f"/polls/{poll_id}", token)
    if status != 200:
        raise RuntimeError(f"GET /api/v1/polls/{poll_id} answered {status}: {poll}")
    return client.spec_from_json(poll)


def ballot(spec: client.SealSpec, choices: list[int], by_server: bool = False) -> Ballot:
    if by_server:
        return Ballot(list(choices), json.dumps({"choices": list(choices)}), None)
    sealed = client.seal_ballot(spec, spec.answers_for_options(choices))
    return Ballot(list(choices), json.dumps(client.request_body(sealed)), client.fingerprint(sealed))


def seal_ahead(spec: client.SealSpec, plan: dict[str, list[int]], server_share: float = 0.25,
               seed: int = 5) -> dict[str, Ballot]:
    """Every voter's ballot, ready to send: about `server_share` of them plain (the server seals them), the rest
    sealed here."""
    rng = random.Random(seed)
    return {token: ballot(spec, choices, by_server=rng.random() < server_share) for token, choices in plan.items()}


def receipt_problem(ballot_: Ballot, receipt: str) -> str | None:
    """A 201's receipt must be the fingerprint of the ballot sent, when the client sealed it."""
    if ballot_.fingerprint is not None and receipt != ballot_.fingerprint:
        return f"receipt {receipt[:12]}… is not the fingerprint of the ballot sent ({ballot_.fingerprint[:12]}…)"
    return None


def trustees_decrypt(port: int, term_id: int, poll_id: int, trustees, threshold: int = 3) -> list[bool]:
    """The first `threshold` trustees holding a token decrypt the closed poll through the API, each as their
    device would. Answers what each POST said of `counted` (the last is True once k have decrypted)."""
    from salon.sealed.group import SeededNonces

    counted = []
    for index, token, secret in [t for t in trustees if t[1] is not None][:threshold]:
        path = f"/trustees/terms/{term_id}/polls/{poll_id}/decryption"
        status, asked = api(port, "GET", path, token)
        if status != 200 or asked.get("trustee") != index:
            raise RuntimeError(f"trustee {index}: GET {path} answered {status}: {asked}")
        factors = sealed_board.request_factors(asked["request"], index, secret, SeededNonces(f"bench/{poll_id}/{index}"))
        status, answer = api(port, "POST", path, token, {"decryption": factors})
        if status != 200:
            raise RuntimeError(f"trustee {index}: POST {path} answered {status}: {answer}")
        counted.append(answer["counted"])
    return counted


def board_problems(board: dict, spec: client.SealSpec, option_ids: list[int], counted: dict[str, Ballot], receipts: dict[str, str],
                   turnout: int) -> list[str]:
    """What must hold once the trustees have decrypted, against what the clients were told: `counted` are the
    ballots counted as the clients saw it (answered 201, or "already voted" on a resend after an error), `receipts`
    the receipts the 201s gave. Every receipt is on the board; ballots on the board = turnout = ballots counted;
    each option's decrypted count = the counted ballots that chose it, and the blank count (protocol 2) the counted
    ballots that chose none; as many sealed by the voters as were
    counted of those the clients sealed; and the board verifies (salon.sealed.board.verify_board, what
    tools/verify_board.py runs). Answers the problems (none: all good)."""
    problems = [f"the board does not verify: {p}" for p in sealed_board.verify_board(board)[:5]]
    on_board = {entry["fingerprint"]: entry["sealed_by"] for entry in board["ballots"]}
    missing = [r for r in receipts.values() if r not in on_board]
    if missing:
        problems.append(f"{len(missing)} receipts handed out are not on the board")
    if not len(on_board) == turnout == len(counted):
        problems.append(f"ballots on the board {len(on_board)}, turnout {turnout}, ballots counted as the clients "
                        f"saw it {len(counted)}")
    voters = sum(1 for b in counted.values() if b.sealed_by == "voter")
    if sum(1 for by in on_board.values() if by == "voter") != voters:
        problems.append(f"sealed by the voters on the board {sum(1 for by in on_board.values() if by == 'voter')}, "
                        f"counted of those the clients sealed {voters}")
    decrypted = board_counts(board, spec)
    expected = {oid: sum(oid in b.choices for b in counted.values()) for oid in option_ids}
    if decrypted != expected:
        problems.append(f"decrypted counts {decrypted} != ballots counted {expected}")
    blanks = blank_counts(board, spec)
    if blanks and set(blanks) != {sum(1 for b in counted.values() if not b.choices)}:
        problems.append(f"blank counts {blanks} != blank ballots counted "
                        f"{sum(1 for b in counted.values() if not b.choices)}")
    return problems


def blank_counts(board: dict, spec: client.SealSpec) -> list[int]:
    """Each one-question poll's decrypted blank count (protocol 2: an approval question's blank position; a
    single-choice question's blank answer), where the spec names a blank position; [] where it names none."""
    return [board["result"][q][position] for q, position in enumerate(spec.blanks) if position is not None]


def board_counts(board: dict, spec: client.SealSpec) -> dict[int, int]:
    """Each option's decrypted count from the board's result, by option id: the seal spec's `option_ids` name the
    board's positions (a position without an option id, a blank answer, is left out)."""
    return {oid: count for q, ids in enumerate(spec.option_ids) for oid, count in zip(ids, board["result"][q])
            if oid is not None}
