"""Benchmark: sealed ballots (SPEC §5.1, docs/sealed-ballots.md) — a script, not a test.

Prints each figure as median, p95 and max, with the load average beside it (the machine is shared: CPU time,
not wall time, where the server is measured), for two shapes of ballot: a topic poll of 30 nominations
(approve 0 … 3) and a review of 10 topics (each a single choice of 4: effective … no view, plus the overall
question, a single choice of 3: support, oppose, abstain — salon/reviews/services.py), each single-choice
question with its blank answer as one more position, as the engine seals it (the seal spec's `blank`):
Ballots of protocol salon-sealed-2 (the topic poll's approval question with its blank position, 31 positions;
`--protocol 1`: as polls opened before it, 30).
(a) the server's CPU per ballot to verify every proof (`time.process_time`, RUNS ballots); target ≤ 15 ms for
    the 30-option ballot (issue 17); and the server's own sealing of a plain ballot (the no-JavaScript path);
(b) the browser's time to seal: headless Chromium (Debian's /usr/bin/chromium, through Playwright) with the page's
    CPU throttled 4× (CDP Emulation.setCPUThrottlingRate), salon/static served by a small static server of this
    script; each run loads the page afresh and times sealed.js's prepare() (before the choice) and
    sealPrepared() (after it) with performance.now() in the page — the voter's first and only ballot, so
    cold: the key's table and the JIT are built in the run — and the page's main thread's CPU time over the
    call (CDP Performance.getMetrics' ThreadTime: on this shared machine, wall time also counts waiting for a
    CPU). Target ≤ 1.5 s. Then the same in node, unthrottled;
(c) the close of a 30-nomination poll of BALLOTS ballots: the homomorphic sum (salon.sealed.board.tally: parse
    the stored ballots and add their ciphertexts), CPU; target ≤ 1 s. Then one trustee's decryption factors,
    the board built and, unless --quick, the whole board verified.

    .venv/bin/python bench/sealed.py [--ballots 600] [--runs 200] [--browser-runs 15] [--quick] [--protocol 1]
"""
from __future__ import annotations

import argparse
import functools
import http.server
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from salon.sealed import ballot as B  # noqa: E402
from salon.sealed import board as BD  # noqa: E402
from salon.sealed import threshold as T  # noqa: E402
from salon.sealed.group import Point, RandomNonces, base_mul  # noqa: E402

PROTOCOL = 2  # --protocol: the version the ballots are sealed in (docs/sealed-ballots.md, "Versions")
TOPIC_POLL = [B.Question("topics", 31, 0, 3, True)]  # 30 nominations and the blank position (version 1: none)
# a single-choice question's positions: its options, then its blank answer
REVIEW = [B.Question(f"topic-{i}", 5, 1, 1) for i in range(1, 11)] + [B.Question("overall", 4, 1, 1)]
CHROMIUM = os.environ.get("SALON_CHROMIUM", "/usr/bin/chromium")
STATIC = ROOT / "salon" / "static"
THROTTLE = 4
TARGET_VERIFY_MS, TARGET_SEAL_MS, TARGET_CLOSE_MS = 15, 1500, 1000


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def summary(values: list[float], unit: str = "ms", digits: int = 1) -> str:
    """median, p95 (nearest rank) and max, with the count."""
    ordered = sorted(values)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
    return (f"median {statistics.median(ordered):.{digits}f} {unit}, p95 {p95:.{digits}f}, "
            f"max {ordered[-1]:.{digits}f} (n = {len(ordered)})")


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
    return [row + [0 if any(row) else 1]] if TOPIC_POLL[0].blank else [row]  # the blank position, last


def review_choices(i: int) -> list[list[int]]:
    """Each question answered (one position in five, the fifth blank), the overall one too."""
    return [[1 if o == (i + q) % 5 else 0 for o in range(5)] for q in range(10)] + [[1 if o == i % 4 else 0
                                                                                     for o in range(4)]]


SHAPES = [("topic poll, 30 nominations (approve 0 … 3)", TOPIC_POLL, topic_choices),
          ("review, 10 topics × single choice of 4 + overall single choice of 3, blank answers included",
           REVIEW, review_choices)]


def ceremony(rng, k=2, n=3):
    dealings = [T.deal("bench-term", i, k, rng) for i in range(1, n + 1)]
    key = BD.key_record("bench-term", k, [d.public() for d in dealings])
    secrets = {l: T.trustee_secret({d.index: d.share_for(l) for d in dealings}) for l in range(1, n + 1)}
    return key, Point.from_hex(key["public_key"]), secrets


def header() -> None:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    print(f"bench/sealed.py at {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load {load()}; machine: "
          f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}; Python "
          f"{sys.version.split()[0]}, coincurve {metadata.version('coincurve')}")


# (a) the server -------------------------------------------------------------------------------------------

def verify_figures(name, questions, choices_of, public_key, runs, rng) -> float:
    ballots = [B.seal("bench-poll", public_key, questions, choices_of(i), rng, PROTOCOL) for i in range(runs)]
    times = []
    for ballot in ballots:
        problems = []
        times.append(cpu_ms(lambda: problems.extend(B.verify(ballot, "bench-poll", public_key, questions))))
        assert not problems, problems
    seal_times = [cpu_ms(lambda: B.seal("bench-poll", public_key, questions, choices_of(1), rng, PROTOCOL))
                  for _ in range(max(3, runs // 4))]
    unit = multiplication_us()
    options = sum(q.options for q in questions)
    print(f"(a) {name}, {options} ballot positions:\n"
          f"    server, verify every proof: {summary(times)} CPU = {statistics.median(times) * 1000 / unit:.0f} "
          f"variable-base multiplications at {unit:.0f} µs (measured just after) [load {load()}]\n"
          f"    where a verification's time goes: {where_the_time_goes(questions, public_key, rng)}\n"
          f"    server, seal a plain ballot (no-JavaScript path): {summary(seal_times)} CPU")
    return statistics.median(times)


def where_the_time_goes(questions, public_key, rng) -> str:
    """One ballot's verification split into libsecp256k1's operations (counted by wrapping coincurve's calls,
    each then timed alone over 2000 calls) and the rest: hashing, hex, JSON fields, Python."""
    from collections import Counter

    from coincurve import PublicKey

    blank = [[0] * (q.options - 1) + [1 if q.blank else 0] for q in questions]  # a blank ballot
    ballot = B.seal("bench-poll", public_key, questions, blank if questions[0].min == 0
                    else [[1] + [0] * (q.options - 1) for q in questions], rng, PROTOCOL)
    counts: Counter = Counter()
    names = {"from_signature_and_message": "double multiplication (ECDSA recovery)",
             "multiply": "single multiplication (constant time)", "combine_keys": "addition",
             "format": "compression to 33 bytes"}
    saved = {name: PublicKey.__dict__[name] for name in names}
    saved_init = PublicKey.__init__

    def counted(name, function):
        def wrapper(*args, **kwargs):
            counts[name] += 1
            return function(*args, **kwargs)
        return wrapper

    def init(self, data, *args, **kwargs):
        if isinstance(data, bytes):
            counts["parse"] += 1
        saved_init(self, data, *args, **kwargs)

    try:
        for name, attribute in saved.items():
            function = attribute.__func__ if isinstance(attribute, classmethod) else attribute
            wrapped = counted(name, function)
            setattr(PublicKey, name, classmethod(wrapped) if isinstance(attribute, classmethod) else wrapped)
        PublicKey.__init__ = init
        B.verify(ballot, "bench-poll", public_key, questions)
    finally:
        for name, attribute in saved.items():
            setattr(PublicKey, name, attribute)
        PublicKey.__init__ = saved_init
    total = statistics.median(cpu_ms(lambda: B.verify(ballot, "bench-poll", public_key, questions))
                              for _ in range(30))
    point, k = base_mul(0x1234567), (1 << 255) + 0xABCDEF
    encoded, other = point.to_bytes(), base_mul(99)
    from salon.sealed.group import mul_add_base
    samples = {"from_signature_and_message": lambda: mul_add_base(k, point, k + 1),
               "multiply": lambda: point.mul(k), "combine_keys": lambda: point + other,
               "format": lambda: point._key.format(compressed=True), "parse": lambda: PublicKey(encoded)}
    unit = {name: cpu_ms(lambda f=f: [f() for _ in range(2000)]) / 2000 for name, f in samples.items()}
    parts = [(names.get(name, "point parsing (decompression)"), counts[name], counts[name] * unit[name])
             for name in samples if counts[name]]
    rest = total - sum(ms for _, _, ms in parts)
    return ("; ".join(f"{count} × {name} {ms:.1f} ms" for name, count, ms in parts)
            + f"; the rest (hashing, hex, Python) {rest:.1f} ms; of {total:.1f} ms CPU")


# (b) the browser ------------------------------------------------------------------------------------------

PAGE = """<!doctype html><html lang="en"><meta charset="utf-8"><title>bench: sealing</title>
<script type="importmap">{"imports": {"@noble/hashes/": "/vendor/node_modules/@noble/hashes/"}}</script>
<script type="module">
import * as sealed from '/sealed.js';
window.sealBench = (poll, key, questions, choices) => {
  const t0 = performance.now();
  const prepared = sealed.prepare(poll, key, questions, undefined, PROTOCOL_HERE);
  const t1 = performance.now();
  const ballot = sealed.sealPrepared(prepared, choices);
  const t2 = performance.now();
  return { prepare: t1 - t0, seal: t2 - t1, ballot };
};
window.benchReady = true;
</script></html>"""


class StaticFiles(http.server.SimpleHTTPRequestHandler):
    """salon/static (sealed.js and the vendored @noble libraries) and the bench's page, nothing else."""

    def do_GET(self):
        if self.path == "/bench.html":
            body = PAGE.replace("PROTOCOL_HERE", str(PROTOCOL)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, *args):
        pass


def thread_ms(cdp) -> float:
    """The page's main thread's CPU time so far (CDP Performance.getMetrics, ThreadTime), in ms."""
    return next(m["value"] for m in cdp.send("Performance.getMetrics")["metrics"] if m["name"] == "ThreadTime") * 1000


def browser_figures(shapes, public_key, runs, rng) -> dict[str, tuple[list[float], list[float]]]:
    """Per shape, the throttled page's time to seal (prepare + sealPrepared), cold, per run: wall time in the
    page, and the page's main thread's CPU time over the same call (which leaves out waiting for a CPU on a
    busy machine; Chromium's throttling shows in it too)."""
    if not Path(CHROMIUM).exists() or not (STATIC / "vendor/node_modules/@noble/curves").exists():
        print(f"(b) sealing in Chromium SKIPPED (no {CHROMIUM} or no `make vendor`)")
        return {}
    from playwright.sync_api import sync_playwright

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(StaticFiles, directory=STATIC))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/bench.html"
    totals: dict[str, tuple[list[float], list[float]]] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"])
            version = browser.version
            for name, questions, choices_of in shapes:
                prepare, seal, total, warm, thread = [], [], [], [], []
                for run in range(runs + 1):  # run 0 warms the disk cache and the browser, and is dropped
                    context = browser.new_context()
                    page = context.new_page()
                    cdp = page.context.new_cdp_session(page)
                    cdp.send("Performance.enable")
                    cdp.send("Emulation.setCPUThrottlingRate", {"rate": THROTTLE})
                    page.goto(url)
                    page.wait_for_function("window.benchReady === true")
                    args = ["bench-poll", public_key.hex(), [q.to_json() for q in questions], choices_of(run)]
                    before = thread_ms(cdp)
                    answer = page.evaluate("([p, k, q, c]) => window.sealBench(p, k, q, c)", args)
                    used = thread_ms(cdp) - before
                    assert B.verify(answer["ballot"], "bench-poll", public_key, questions) == []
                    if run:
                        prepare.append(answer["prepare"])
                        seal.append(answer["seal"])
                        total.append(answer["prepare"] + answer["seal"])
                        thread.append(used)
                        if run <= 3:  # the same page again: what a second ballot would cost (not the voter's case)
                            again = page.evaluate("([p, k, q, c]) => window.sealBench(p, k, q, c)", args)
                            warm.append(again["prepare"] + again["seal"])
                    context.close()
                totals[name] = (total, thread)
                print(f"(b) {name}: headless Chromium {version}, CPU throttled {THROTTLE}×, a fresh page per run:\n"
                      f"    seal (prepare + sealPrepared), wall time in the page: {summary(total, digits=0)} "
                      f"[load {load()}]\n"
                      f"    the page's main thread's CPU time over the same call: {summary(thread, digits=0)}\n"
                      f"    of which prepare(), before the choice: {summary(prepare, digits=0)}; sealPrepared(), "
                      f"after it: {summary(seal, digits=0)}; a second ballot in the same page: "
                      f"{summary(warm, digits=0)}")
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return totals


def node_figures(name, questions, choices, public_key, repeat=5):
    if not shutil.which("node") or not (STATIC / "vendor/node_modules/@noble/curves").exists():
        print(f"    node: SKIPPED (no node or no `make vendor`)")
        return
    request = {"poll": "bench-poll", "public_key": public_key.hex(), "repeat": repeat, "protocol": PROTOCOL,
               "questions": [q.to_json() for q in questions], "choices": choices}
    done = subprocess.run(["node", str(ROOT / "tools/seal_ballot.mjs")], input=json.dumps(request),
                          capture_output=True, text=True, check=True)
    answer = json.loads(done.stdout)
    assert B.verify(answer["ballot"], "bench-poll", public_key, questions) == []
    print(f"    {name} in node, unthrottled, mean of {repeat} after one warm-up: prepare "
          f"{answer['prepare_cpu_ms']:.0f} ms CPU + sealPrepared {answer['seal_cpu_ms']:.0f} ms CPU "
          f"({answer['ms_per_ballot']:.0f} ms wall) [load {load()}]")


# (c) the close --------------------------------------------------------------------------------------------

def close_figures(count, key, public_key, secrets, rng, verify_board: bool) -> float:
    print(f"(c) a 30-nomination poll of {count} ballots (sealing them server-side first …)", flush=True)
    ballots = [B.seal("bench-poll", public_key, TOPIC_POLL, topic_choices(i), rng, PROTOCOL) for i in range(count)]
    sums = []
    tally_ms = []
    for _ in range(7):
        sums = []
        tally_ms.append(cpu_ms(lambda: sums.extend(BD.tally(TOPIC_POLL, ballots))))
    stored = [B.ballot_ciphertexts(b, TOPIC_POLL) for b in ballots]
    sum_only = [cpu_ms(lambda: BD.tally_of_ciphertexts(TOPIC_POLL, stored)) for _ in range(7)]
    factors = []
    factor_ms = [cpu_ms(lambda t=t: factors.append(BD.trustee_factors("bench-poll", public_key, TOPIC_POLL, sums,
                                                                       t, secrets[t], rng))) for t in (1, 3)]
    board = {}
    combine_ms = cpu_ms(lambda: board.update(BD.build_board("bench-poll", TOPIC_POLL, key,
                                                            [(b, "voter") for b in ballots], factors, sums)))
    print(f"    the homomorphic sum from the stored ballots' JSON (parse {count * 60:,} points, add them): "
          f"{summary(tally_ms, digits=0)} CPU [load {load()}]\n"
          f"    of which the additions alone (ciphertexts already parsed): {summary(sum_only, digits=0)} CPU\n"
          f"    one trustee's 30 decryption factors with proofs: {statistics.mean(factor_ms):.0f} ms CPU; the board "
          f"built (fingerprints, 2 trustees' factors combined, the 30 counts read): {combine_ms:.0f} ms CPU")
    if verify_board:
        problems = []
        verify_ms = cpu_ms(lambda: problems.extend(BD.verify_board(board)))
        assert not problems, problems[:3]
        size = len(json.dumps(board, separators=(",", ":")))
        print(f"    the whole board ({size / 1e6:.1f} MB) verified from scratch: {verify_ms / 1000:.1f} s CPU "
              f"[load {load()}]")
    return statistics.median(tally_ms)


def verdict(what: str, figure: float, target: float) -> str:
    return f"{what}: {'met' if figure <= target else 'NOT met'} ({figure:.1f} ms against ≤ {target} ms)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=600, help="ballots of the closed poll (c)")
    parser.add_argument("--runs", type=int, default=200, help="ballots verified per shape (a)")
    parser.add_argument("--browser-runs", type=int, default=15, help="fresh pages per shape (b); 0 skips")
    parser.add_argument("--quick", action="store_true", help="skip the whole board's verification (8 s CPU)")
    parser.add_argument("--protocol", type=int, choices=(1, 2), default=2,
                        help="seal as protocol salon-sealed-2 (default) or -1 (no blank position)")
    args = parser.parse_args()
    if args.protocol == 1:
        global PROTOCOL
        PROTOCOL = 1
        TOPIC_POLL[0] = B.Question("topics", 30, 0, 3)
    rng = RandomNonces()
    print(f"protocol salon-sealed-{PROTOCOL}")
    key, public_key, secrets = ceremony(rng)
    header()
    verify = {name: verify_figures(name, questions, choices_of, public_key, args.runs, rng)
              for name, questions, choices_of in SHAPES}
    sealing = browser_figures(SHAPES, public_key, args.browser_runs, rng) if args.browser_runs else {}
    for name, questions, choices_of in SHAPES:
        node_figures(name, questions, choices_of(3), public_key)
    close = close_figures(args.ballots, key, public_key, secrets, rng, not args.quick)
    print("targets (issue 17), medians:")
    print("  " + verdict("server CPU to verify a 30-option ballot ≤ 15 ms", verify[SHAPES[0][0]], TARGET_VERIFY_MS))
    for name, (wall, thread) in sealing.items():
        print("  " + verdict(f"sealing in the {THROTTLE}× throttled page, {name.split(',')[0]}, ≤ 1.5 s",
                             statistics.median(wall), TARGET_SEAL_MS)
              + f"; worst run {max(wall):.0f} ms wall, {max(thread):.0f} ms of the page's CPU")
    print("  " + verdict(f"the close's sum of {args.ballots} ballots ≤ 1 s", close, TARGET_CLOSE_MS))


if __name__ == "__main__":
    main()
