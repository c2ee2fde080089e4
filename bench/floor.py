"""The floor for bench/ballots.py: the least a ballot can cost on this stack (Flask + psycopg + PostgreSQL).

Not part of Salon. One endpoint, POST /ballot, served by the same WSGI server with the same settings as
Salon in the benchmark: it reads the bearer token and the JSON body, then in one transaction inserts the
voter (keyed by the token's hash; a second ballot for the same token is refused), adds one to each chosen
option's counter, and commits. Like Salon's, each option's counter is split over SHARDS rows and a ballot
adds one to a random shard, locking them in key order: without that, concurrent ballots would queue on a few
hot rows (or deadlock), and the floor would measure lock waits instead of the stack's cost. No authentication beyond that, no validation, no ORM, no framework
extensions: what remains is the HTTP server, Flask's dispatch, JSON and the database's writes.

Each thread keeps its own connection (opened on first use), so there is no pool and no check-out cost.
    FLOOR_DATABASE_URL=postgresql://… gunicorn 'bench.floor:app'"""
from __future__ import annotations

import hashlib
import os
import secrets
import threading

import psycopg
from flask import Flask, jsonify, request

SCHEMA = """
CREATE TABLE IF NOT EXISTS floor_voters (token_hash text PRIMARY KEY);
CREATE TABLE IF NOT EXISTS floor_counters (option_id integer, shard integer, n integer NOT NULL DEFAULT 0,
                                           PRIMARY KEY (option_id, shard));
"""
SHARDS = 16
COUNT = ("UPDATE floor_counters AS c SET n = c.n + 1 FROM (SELECT option_id, shard FROM floor_counters"
         " WHERE (option_id, shard) IN (SELECT * FROM unnest(%s::integer[], %s::integer[]))"
         " ORDER BY option_id, shard FOR UPDATE) AS picked"
         " WHERE c.option_id = picked.option_id AND c.shard = picked.shard")

app = Flask(__name__)
_local = threading.local()


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
    choices = (request.get_json(silent=True) or {}).get("choices")
    if not token or not isinstance(choices, list):
        return jsonify(error="bad request"), 400
    conn = _connection()
    with conn.cursor() as cur:
        try:
            cur.execute("INSERT INTO floor_voters (token_hash) VALUES (%s) ON CONFLICT DO NOTHING",
                        (hashlib.sha256(token.encode()).hexdigest(),))
            if cur.rowcount != 1:
                conn.rollback()
                return jsonify(error="already voted"), 409
            if choices:
                cur.execute(COUNT, (choices, [secrets.randbelow(SHARDS) for _ in choices]))
            conn.commit()
        except Exception:
            conn.rollback()
            raise
    return jsonify(receipt=secrets.token_hex(6)), 201


def prepare(url: str, option_ids: list[int]) -> None:
    """Create the floor's two tables in the benchmark's database, with a zero counter per option."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute(SCHEMA)
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO floor_counters (option_id, shard, n) VALUES (%s, %s, 0)",
                            [(o, s) for o in option_ids for s in range(SHARDS)])


def totals(url: str) -> tuple[int, dict[int, int]]:
    """(voters, {option: count}) as the floor recorded them."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        voters = conn.execute("SELECT count(*) FROM floor_voters").fetchone()[0]
        counts = dict(conn.execute("SELECT option_id, sum(n) FROM floor_counters GROUP BY option_id").fetchall())
    return voters, counts
