"""Benchmark: sealed ballots (SPEC §5.1, docs/sealed-ballots.md) — a script, not a test.

Prints, with the load average beside each figure (the machine is shared: CPU time, not wall time):
- the server's CPU per ballot to verify every proof, for a topic poll of 30 nominations (approve 0 … 3) and a
  review of 10 topics (each a single choice of 4, plus the overall question, a single choice of 3); target
  ≤ 15 ms for the 30-option ballot (issue 17);
- the time to seal the same ballots with salon/static/sealed.js under node (an unthrottled stand-in for the
  browser; the throttled-page figure belongs to the browser journey);
- for a 30-nomination poll of BALLOTS ballots: the tally (homomorphic sums), two trustees' decryption factors
  with proofs, combining them and finding the counts, and verifying the whole bulletin board.

    .venv/bin/python bench/sealed.py [--ballots 600] [--runs 20]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from salon.sealed import ballot as B  # noqa: E402
from salon.sealed import board as BD  # noqa: E402
from salon.sealed import threshold as T  # noqa: E402
from salon.sealed.group import Point, RandomNonces, base_mul  # noqa: E402

TOPIC_POLL = [B.Question("topics", 30, 0, 3)]
REVIEW = [B.Question(f"topic-{i}", 4, 1, 1) for i in range(1, 11)] + [B.Question("overall", 3, 1, 1)]


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def cpu_ms(function) -> float:
    started = time.process_time()
    function()
    return (time.process_time() - started) * 1000


def multiplication_us() -> float:
    """The CPU cost of one variable-base scalar multiplication right now: the unit the figures scale with."""
    point, k = base_mul(0x1234567), (1 << 255) + 0xABCDEF
    started = time.process_time()
    for _ in range(2000):
        point.mul(k)
    return (time.process_time() - started) / 2000 * 1e6


def topic_choices(i: int) -> list[list[int]]:
    row = [0] * 30
    for option in (i % 30, (i * 7 + 3) % 30, (i * 13 + 5) % 30)[: i % 4]:
        row[option] = 1
    return [row]


def review_choices(i: int) -> list[list[int]]:
    return [[1 if o == (i + q) % 4 else 0 for o in range(4)] for q in range(10)] + [[1 if o == i % 3 else 0
                                                                                     for o in range(3)]]


def ceremony(rng, k=2, n=3):
    dealings = [T.deal("bench-term", i, k, rng) for i in range(1, n + 1)]
    key = BD.key_record("bench-term", k, [d.public() for d in dealings])
    secrets = {l: T.trustee_secret({d.index: d.share_for(l) for d in dealings}) for l in range(1, n + 1)}
    return key, Point.from_hex(key["public_key"]), secrets


def verify_figures(name, questions, choices_of, public_key, runs, rng):
    ballots = [B.seal("bench-poll", public_key, questions, choices_of(i), rng) for i in range(runs)]
    times = []
    for ballot in ballots:
        problems = []
        times.append(cpu_ms(lambda: problems.extend(B.verify(ballot, "bench-poll", public_key, questions))))
        assert not problems, problems
    seal_times = [cpu_ms(lambda: B.seal("bench-poll", public_key, questions, choices_of(1), rng))
                  for _ in range(max(3, runs // 4))]
    unit = multiplication_us()
    print(f"{name}: verify every proof: median {statistics.median(times):.1f} ms CPU, max {max(times):.1f} "
          f"(n={runs}) = {statistics.median(times) * 1000 / unit:.0f} multiplications at {unit:.0f} µs (measured "
          f"just after); server-side sealing (no-JS path) median {statistics.median(seal_times):.1f} ms CPU "
          f"[load {load()}]")
    return statistics.median(times)


def node_figures(name, questions, choices, public_key, repeat=5):
    if not shutil.which("node") or not (ROOT / "salon/static/vendor/node_modules/@noble/curves").exists():
        print(f"{name}: sealing in node SKIPPED (no node or no `make vendor`)")
        return
    request = {"poll": "bench-poll", "public_key": public_key.hex(), "repeat": repeat,
               "questions": [q.to_json() for q in questions], "choices": choices}
    done = subprocess.run(["node", str(ROOT / "tools/seal_ballot.mjs")], input=json.dumps(request),
                          capture_output=True, text=True, check=True)
    answer = json.loads(done.stdout)
    assert B.verify(answer["ballot"], "bench-poll", public_key, questions) == []
    print(f"{name}: sealing in node (sealed.js, @noble/curves), mean of {repeat} after one warm-up: prepare "
          f"(before the choice) {answer['prepare_cpu_ms']:.0f} ms CPU, seal (after it) {answer['seal_cpu_ms']:.0f} "
          f"ms CPU; {answer['ms_per_ballot']:.0f} ms wall for both [load {load()}]")


def close_figures(count, key, public_key, secrets, rng):
    print(f"poll of {count} ballots × 30 nominations: sealing them (server side) …", flush=True)
    ballots = [B.seal("bench-poll", public_key, TOPIC_POLL, topic_choices(i), rng) for i in range(count)]
    sums = []
    tally_ms = cpu_ms(lambda: sums.extend(BD.tally(TOPIC_POLL, ballots)))
    factors = []
    factor_ms = [cpu_ms(lambda t=t: factors.append(BD.trustee_factors("bench-poll", public_key, TOPIC_POLL, sums,
                                                                       t, secrets[t], rng))) for t in (1, 3)]
    board = {}
    combine_ms = cpu_ms(lambda: board.update(BD.build_board("bench-poll", TOPIC_POLL, key,
                                                            [(b, "voter") for b in ballots], factors, sums)))
    print(f"  tally (parse the stored ballots, sum {count} ciphertexts per option): {tally_ms:.0f} ms CPU; one "
          f"trustee's 30 factors "
          f"with proofs: {statistics.mean(factor_ms):.0f} ms CPU; board built, factors combined, counts found "
          f"(ballot fingerprints included): {combine_ms:.0f} ms CPU [load {load()}]")
    problems = []
    verify_ms = cpu_ms(lambda: problems.extend(BD.verify_board(board)))
    assert not problems, problems[:3]
    size = len(json.dumps(board, separators=(",", ":")))
    print(f"  verifying the whole board ({size / 1e6:.1f} MB): {verify_ms / 1000:.1f} s CPU "
          f"[load {load()}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=600)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    rng = RandomNonces()
    key, public_key, secrets = ceremony(rng)
    print(f"bench/sealed.py at {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load {load()}, "
          f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    topic = verify_figures("topic poll, 30 nominations (approve 0 … 3)", TOPIC_POLL, topic_choices, public_key,
                           args.runs, rng)
    verify_figures("review, 10 topics × 4 + overall × 3 (single choice each)", REVIEW, review_choices, public_key,
                   args.runs, rng)
    node_figures("topic poll, 30 nominations", TOPIC_POLL, topic_choices(3), public_key)
    node_figures("review, 10 topics + overall", REVIEW, review_choices(2), public_key)
    close_figures(args.ballots, key, public_key, secrets, rng)
    print(f"target: ≤ 15 ms CPU to verify a 30-option ballot: {'met' if topic <= 15 else 'NOT met'} "
          f"({topic:.1f} ms)")


if __name__ == "__main__":
    main()
