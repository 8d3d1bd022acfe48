"""The floor under any Python webhook receiver here: a plain WSGI callable, no framework.

It verifies the same Discourse HMAC and does the same one INSERT as the bare DRF endpoint, on
one psycopg connection per worker. bench_intake.py serves it with the same gunicorn (2 sync
workers) and load, so its latency is what this machine allows before any framework runs.
"""
import hashlib
import hmac
import json
import os

import psycopg

_SECRET = os.environ["BENCH_FLOOR_SECRET"].encode()
_connection = None


def _database() -> psycopg.Connection:
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1), autocommit=True)
    return _connection


def _answer(start_response, status: str, payload: dict) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def application(environ, start_response):
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    expected = "sha256=" + hmac.new(_SECRET, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, environ.get("HTTP_X_DISCOURSE_EVENT_SIGNATURE", "")):
        return _answer(start_response, "401 Unauthorized", {"message": "bad signature"})
    row = _database().execute(
        "INSERT INTO bench_bare_delivery (source_slug, body) VALUES (%s, %s) RETURNING id", ("floor", body)
    ).fetchone()
    return _answer(start_response, "202 Accepted", {"status": "queued", "id": row[0]})
