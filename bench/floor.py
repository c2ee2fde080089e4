"""The floor for bench/ballots.py: the least a sealed ballot can cost on this stack (Flask + psycopg + PostgreSQL).

Not part of Salon. One endpoint, POST /ballot, served by the same WSGI server with the same settings as
Salon in the benchmark: it reads the bearer token and the JSON body {"sealed": ballot}, checks the ballot's proofs
with the same cryptography Salon uses (salon.sealed.ballot.check, against the poll's seal spec given in
FLOOR_SEAL_SPEC), then in one transaction inserts the voter (keyed by the token's hash; a second ballot for the same
token is refused), each ciphertext once (a copied answer is refused) and the ballot by its fingerprint, and
commits. No authentication beyond that, no ORM, no framework extensions: what remains is the HTTP server, Flask's
dispatch, JSON, the proofs and the database's writes — what Salon's cast must do anyway.

Each thread keeps its own connection (opened on first use), so there is no pool and no check-out cost.
    FLOOR_DATABASE_URL=postgresql://… FLOOR_SEAL_SPEC='{…}' gunicorn 'bench.floor:app'"""
from __future__ import annotations

import hashlib
import json
import os
import threading

import psycopg
from flask import Flask, jsonify, request

from salon.sealed import ballot as sealed_ballot
from salon.sealed import client as sealing

SCHEMA = """
CREATE TABLE IF NOT EXISTS floor_voters (token_hash text PRIMARY KEY);
CREATE TABLE IF NOT EXISTS floor_alphas (alpha text PRIMARY KEY);
CREATE TABLE IF NOT EXISTS floor_ballots (fingerprint text PRIMARY KEY, ballot text NOT NULL);
"""

app = Flask(__name__)
_local = threading.local()
_spec: list = []


def _seal_spec() -> sealing.SealSpec:
    if not _spec:
        _spec.append(sealing.spec_from_json(json.loads(os.environ["FLOOR_SEAL_SPEC"])))
    return _spec[0]


def _connection() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        url = os.environ["FLOOR_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        conn = _local.conn = psycopg.connect(url)
    return conn


@app.post("/ballot")
def ballot():
    header = request.headers.get("Authorization", "")
    token = header[7:] if header.startswith("Bearer ") else ""
    sealed = (request.get_json(silent=True) or {}).get("sealed")
    if not token or not isinstance(sealed, dict):
        return jsonify(error="bad request"), 400
    spec = _seal_spec()
    problems, rows = sealed_ballot.check(sealed, spec.poll, spec.public_key, list(spec.questions), spec.protocol)
    if problems or rows is None:
        return jsonify(error="invalid ballot"), 422
    alphas = [c.alpha.hex() for row in rows for c in row]
    canonical = sealed_ballot.canonical_json(sealed)
    fingerprint = hashlib.sha256(canonical).hexdigest()
    conn = _connection()
    with conn.cursor() as cur:
        try:
            cur.execute("INSERT INTO floor_voters (token_hash) VALUES (%s) ON CONFLICT DO NOTHING",
                        (hashlib.sha256(token.encode()).hexdigest(),))
            if cur.rowcount != 1:
                conn.rollback()
                return jsonify(error="already voted"), 409
            cur.execute("INSERT INTO floor_alphas (alpha) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING", (alphas,))
            if cur.rowcount != len(alphas):
                conn.rollback()
                return jsonify(error="copied ballot"), 422
            cur.execute("INSERT INTO floor_ballots (fingerprint, ballot) VALUES (%s, %s)",
                        (fingerprint, canonical.decode("ascii")))
            conn.commit()
        except Exception:
            conn.rollback()
            raise
    return jsonify(receipt=fingerprint), 201


def prepare(url: str) -> None:
    """Create the floor's tables in its database."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute(SCHEMA)


def totals(url: str) -> tuple[int, int]:
    """(voters, ballots) as the floor recorded them."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        voters = conn.execute("SELECT count(*) FROM floor_voters").fetchone()[0]
        stored = conn.execute("SELECT count(*) FROM floor_ballots").fetchone()[0]
    return voters, stored
