"""The browser's sealed.js against the Python room (SPEC §5.1): it reproduces the known-answer vectors byte
for byte, and the ballots it seals pass the Python verifier. Runs sealed.js under node with @noble/curves from
`make vendor`; without node or that folder the tests are skipped, saying so (`make test` installs it) —
except in CI (SALON_REQUIRE_BROWSER, set by .ci/run), where they fail instead."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from salon.sealed import ballot as B
from salon.sealed.group import Point, SeededNonces, base_mul
from tests.unit import test_sealed_proofs as kat

ROOT = Path(__file__).resolve().parents[2]
NOBLE = ROOT / "salon" / "static" / "vendor" / "node_modules" / "@noble" / "curves" / "secp256k1.js"
HAVE_NODE = bool(shutil.which("node") and NOBLE.exists())
pytestmark = pytest.mark.skipif(not HAVE_NODE and not os.environ.get("SALON_REQUIRE_BROWSER"),
                                reason="node or @noble/curves missing (run `make vendor`): sealed.js not checked")


def node_seal(request: dict) -> dict:
    done = subprocess.run(["node", str(ROOT / "tools" / "seal_ballot.mjs")], input=json.dumps(request),
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def test_sealed_js_reproduces_the_python_known_answers():
    answers = node_seal({"kat": True})
    assert answers["secret"] == kat.KAT_SECRET and answers["key"] == kat.KAT_KEY
    assert answers["nonce"] == kat.KAT_NONCE
    assert answers["hash"] == "55ba75767585b9fb6530432865f99d66aa6464add1c636021958b78e1be8e215"
    assert answers["ciphertext"] == kat.KAT_CIPHERTEXT_OF_1
    assert answers["proof"] == kat.KAT_BIT_PROOF
    assert answers["fingerprint"] == kat.KAT_BALLOT_FINGERPRINT == B.fingerprint(answers["ballot"])
    assert answers["ballot"] == kat.kat_run()[5]  # and the whole ballot, field by field


def test_the_fixed_base_multiplications_of_sealed_js_agree_with_libsecp256k1_on_edge_scalars():
    from salon.sealed.group import N

    window = 7
    scalars = [0, 1, 2, 63, 64, 65, 127, 128, 129, N - 1, N - 2, N - 64, 1 << 255, (1 << 256) % N, (1 << 259) % N,
               (1 << 260) % N, sum(64 << (window * i) for i in range(36)), sum(65 << (window * i) for i in range(36)) % N,
               sum(127 << (window * i) for i in range(36)) % N, 0x1234567 << 200]
    points = [base_mul(1), base_mul(SeededNonces("fixed").scalar())]
    products = node_seal({"fixed_base": {"points": [p.hex() for p in points], "scalars": [str(k) for k in scalars]}})
    assert products == [[point.mul(k).hex() for k in scalars] for point in points]


def test_sealed_js_reproduces_the_known_answers_of_protocol_2():
    from tests.unit import test_sealed_blank as kat2

    answers = node_seal({"kat2": True})
    key, ballots = kat2.kat2_run()
    assert answers["key"] == kat2.KAT2_KEY == key.hex()
    assert answers["fingerprints"] == kat2.KAT2_FINGERPRINTS
    assert answers["ballots"] == ballots  # byte for byte: the blank ballot, its weighted sum proof and all


def test_a_ballot_sealed_by_sealed_js_passes_the_python_verifier_and_a_tampered_one_fails():
    key = base_mul(SeededNonces("js").scalar())
    questions = [B.Question("topics", 31, 0, 3, True), B.Question("overall", 3, 1, 1)]
    choices = [[0] * 30, [0, 0, 1]]  # the blank position left out: sealed.js sets it (here 0)
    choices[0][4] = choices[0][17] = 1
    sealed = node_seal({"poll": "poll-红", "public_key": key.hex(), "choices": choices,
                        "questions": [q.to_json() for q in questions]})  # real random nonces, protocol 2
    ballot = sealed["ballot"]
    assert sealed["fingerprint"] == B.fingerprint(ballot)  # canonical JSON agrees, non-ASCII poll id included
    assert B.verify(ballot, "poll-红", key, questions, 2) == []
    blank = node_seal({"poll": "poll-红", "public_key": key.hex(), "choices": [[0] * 30, [0, 0, 1]],
                       "questions": [q.to_json() for q in questions]})["ballot"]
    assert B.verify(blank, "poll-红", key, questions, 2) == []
    v1 = node_seal({"poll": "p", "public_key": key.hex(), "choices": [[1, 0, 1]], "protocol": 1,
                    "questions": [{"id": "q", "options": 3, "min": 0, "max": 2}]})["ballot"]
    assert "protocol" not in v1 and B.verify(v1, "p", key, [B.Question("q", 3, 0, 2)], 1) == []
    ballot["answers"][0]["choices"][4]["beta"] = (Point.from_hex(ballot["answers"][0]["choices"][4]["beta"])
                                                  + base_mul(1)).hex()
    assert B.verify(ballot, "poll-红", key, questions)


def test_sealed_js_refuses_a_ballot_that_breaks_the_rule():
    request = {"poll": "p", "public_key": base_mul(7).hex(), "questions": [{"id": "q", "options": 3, "min": 1,
                                                                            "max": 1}],
               "choices": [[1, 1, 0]]}
    with pytest.raises(subprocess.CalledProcessError) as refused:
        node_seal(request)
    assert "between 1 and 1 answers" in refused.value.stderr


def test_a_prepared_ballot_of_a_seal_spec_question_seals_blank_or_not_as_python_does():
    """prepare() takes the seal spec's questions as they are served (`blank`: a position) and does not depend on
    the choices: one prepared ballot can seal either a blank answer or approvals."""
    key = base_mul(77)
    spec_question = {"id": "9", "options": 4, "min": 0, "max": 2, "option_ids": [5, 6, 7, None], "blank": 3}
    script = f"""
import * as sealed from {json.dumps(str(ROOT / 'salon' / 'static' / 'sealed.js'))};
const q = {json.dumps(spec_question)};
const out = [];
for (const choices of [[[0, 0, 0, 1]], [[0, 1, 1, 0]], [[0, 0, 0]]]) {{
  const prepared = sealed.prepare('p', {json.dumps(key.hex())}, [q], new sealed.SeededNonces('spec'), 'salon-sealed-2');
  out.push(sealed.sealPrepared(prepared, choices));
}}
let wrong = 'sealed';
try {{ sealed.seal('p', {json.dumps(key.hex())}, [q], [[1, 0, 0, 1]], undefined, 2); }}
catch (e) {{ wrong = e.message; }}
console.log(JSON.stringify({{out, wrong}}));
"""
    done = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True,
                          timeout=120, check=True)
    answer = json.loads(done.stdout)
    question = B.Question.from_json(spec_question)
    assert question == B.Question("9", 4, 0, 2, True)
    for ballot, row in zip(answer["out"], ([0, 0, 0, 1], [0, 1, 1, 0], [0, 0, 0, 1])):
        assert ballot == B.seal("p", key, [question], [row], SeededNonces("spec"), 2)
    assert "the blank position set exactly when there is none" in answer["wrong"]


def test_a_prepared_ballot_seals_whatever_is_chosen_but_only_once():
    key = base_mul(99)
    script = f"""
import * as sealed from {json.dumps(str(ROOT / 'salon' / 'static' / 'sealed.js'))};
const questions = [{{id: 'q', options: 3, min: 0, max: 2}}];
const prepared = sealed.prepare('p', {json.dumps(key.hex())}, questions, new sealed.SeededNonces('once'));
const ballot = sealed.sealPrepared(prepared, [[0, 1, 1]]);
let again = 'sealed twice';
try {{ sealed.sealPrepared(prepared, [[1, 0, 0]]); }} catch (e) {{ again = e.message; }}
console.log(JSON.stringify({{ballot, again}}));
"""
    done = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True,
                          timeout=120, check=True)
    answer = json.loads(done.stdout)
    assert answer["again"] == "a prepared ballot seals once (its nonces must not be reused)"
    question = B.Question("q", 3, 0, 2)
    assert B.verify(answer["ballot"], "p", key, [question]) == []
    # the same nonces through the Python prover give the same ballot
    assert answer["ballot"] == B.seal("p", key, [question], [[0, 1, 1]], SeededNonces("once"))


def node_module(script: str, data) -> dict:
    """Run an ES module snippet that imports sealed.js as `S` and reads `data` (JSON) from stdin."""
    header = (f"import * as S from {json.dumps(str(ROOT / 'salon' / 'static' / 'sealed.js'))};\n"
              "import { readFileSync } from 'node:fs';\n"
              "const data = JSON.parse(readFileSync(0, 'utf8'));\n")
    done = subprocess.run(["node", "--input-type=module", "-e", header + script], input=json.dumps(data),
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def test_the_trustee_functions_of_sealed_js_reproduce_the_threshold_known_answers():
    from tests.unit import test_sealed_threshold as kt

    answers = node_module("""
const rng = new S.SeededNonces('salon-kat-threshold');
const dealings = [1, 2, 3, 4, 5].map((i) => S.deal(data.term, i, 3, rng));
const commitments = Object.fromEntries(dealings.map((d) => [d.index, d.public.commitments]));
const secrets = {};
for (const l of [1, 2, 3, 4, 5]) secrets[l] = S.trusteeSecret(dealings.map((d) => S.shareFor(d, l)));
const key = S.jointKey(commitments);
const ciphertext = S.encrypt(S.pointFromHex(key), 1, rng.scalar());
const factor = S.decryptionFactor('poll-1', key, 'q', 0, 2, secrets[2],
  { alpha: S.pointHex(ciphertext.alpha), beta: S.pointHex(ciphertext.beta) }, rng);
console.log(JSON.stringify({ key, x2: S.verificationKey(commitments, 2), proof: dealings[0].public.proofs[0], factor,
  good: S.shareIsValid(dealings[0].public.commitments, 3, S.shareFor(dealings[0], 3)),
  bad: S.shareIsValid(dealings[0].public.commitments, 3, S.shareFor(dealings[0], 2)) }));
""", {"term": kt.TERM})
    assert answers["key"] == kt.KAT_JOINT_KEY and answers["x2"] == kt.KAT_VERIFICATION_KEY_2
    assert answers["proof"] == kt.KAT_FIRST_COEFFICIENT_PROOF and answers["factor"] == kt.KAT_FACTOR
    assert answers["good"] is True and answers["bad"] is False


def test_a_whole_poll_run_by_sealed_js_passes_the_python_verifier():
    """Trustees deal and decrypt in sealed.js, voters seal in sealed.js; the server's part (the tally and the
    board) is Python's; the board verifies, with a zero-vote option and the 2-of-3 quorum."""
    from salon.sealed import board as BD

    questions = [B.Question("topics", 4, 0, 2), B.Question("overall", 3, 1, 1)]
    votes = [[[1, 0, 1, 0], [1, 0, 0]], [[0, 0, 0, 0], [0, 1, 0]], [[0, 1, 1, 0], [1, 0, 0]]]
    ceremony = node_module("""
const dealings = [1, 2, 3].map((i) => S.deal('term-js', i, 2));
const commitments = Object.fromEntries(dealings.map((d) => [d.index, d.public.commitments]));
const secrets = {};
for (const l of [1, 2, 3]) secrets[l] = S.trusteeSecret(dealings.map((d) => S.shareFor(d, l)));
const key = S.jointKey(commitments);
const ballots = data.votes.map((v) => S.seal('poll-js', key, data.questions, v));
console.log(JSON.stringify({ dealings: dealings.map((d) => d.public), secrets, key, ballots,
  fingerprints: ballots.map(S.fingerprint) }));
""", {"questions": [q.to_json() for q in questions], "votes": votes})
    key = BD.key_record("term-js", 2, ceremony["dealings"])
    assert key["public_key"] == ceremony["key"]
    assert ceremony["fingerprints"] == [B.fingerprint(b) for b in ceremony["ballots"]]
    sums = BD.tally(questions, ceremony["ballots"])
    factors = node_module("""
console.log(JSON.stringify([1, 3].map((t) => S.trusteeFactors('poll-js', data.key, data.questions, data.tally, t,
  data.secrets[t]))));
""", {"key": ceremony["key"], "questions": [q.to_json() for q in questions], "secrets": ceremony["secrets"],
      "tally": BD.tally_json(sums)})
    board = BD.build_board("poll-js", questions, key, [(b, "voter") for b in ceremony["ballots"]], factors)
    assert board["result"] == [[1, 1, 2, 0], [2, 1, 0]]
    assert BD.verify_board(board) == []


def test_sealed_js_leaves_the_undecrypted_sums_alone_below_the_minimum():
    """A trustee's device given `undecrypted` (SPEC §5's minimum) sends null for those sums and proven factors for
    the rest, as board.trustee_factors; the board of the two ballots, with only one sum decrypted, verifies."""
    from salon.sealed import board as BD
    from salon.sealed import threshold as T
    from tests.unit.test_sealed_board import ONLY_OPPOSE, QUESTIONS, TWO

    rng = SeededNonces("js-minimum")
    dealings = [T.deal("term-m", i, 2, rng) for i in range(1, 4)]
    key = BD.key_record("term-m", 2, [d.public() for d in dealings])
    public_key = Point.from_hex(key["public_key"])
    secrets = {l: T.trustee_secret({d.index: d.share_for(l) for d in dealings}) for l in range(1, 4)}
    sealed = [B.seal("poll-m", public_key, QUESTIONS, v, rng) for v in TWO]
    sums = BD.tally(QUESTIONS, sealed)
    factors = node_module("""
console.log(JSON.stringify([1, 2].map((t) => S.trusteeFactors('poll-m', data.key, data.questions, data.tally, t,
  data.secrets[t], undefined, data.undecrypted))));
""", {"key": key["public_key"], "questions": [q.to_json() for q in QUESTIONS], "tally": BD.tally_json(sums),
      "secrets": {str(l): f"{secrets[l]:064x}" for l in (1, 2)}, "undecrypted": ONLY_OPPOSE})
    for decryption in factors:
        assert [[f is not None for f in row] for row in decryption["factors"]] == [[False] * 4, [False, True, False]]
    board = BD.build_board("poll-m", QUESTIONS, key, [(b, "voter") for b in sealed], factors, minimum=3,
                           withheld=ONLY_OPPOSE)
    assert BD.verify_board(board) == [] and board["result"] == [[None] * 4, [None, 1, None]]
