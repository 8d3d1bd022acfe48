"""Real services for integration tests: a throwaway PostgreSQL database, redis-server and
Celery worker processes, and the web app under gunicorn, all started by the tests.

Nothing here is mocked; the tests talk to the processes over loopback.
"""
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bench.common import free_port, wait_for_port
from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def postgres_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL.replace("postgres://", "postgresql://"), connect_timeout=3):
            return True
    except Exception:
        return False


@dataclass
class Services:
    """Environment for the app's processes, and handles to query the database."""

    database_url: str
    env: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen] = field(default_factory=list)

    def manage(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result

    def query(self, sql: str, *params: object) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.database_url.replace("postgres://", "postgresql://")) as connection:
            return connection.execute(sql, params).fetchall()

    def scalar(self, sql: str, *params: object) -> object:
        return self.query(sql, *params)[0][0]

    def start(self, args: list[str], log_name: str, ready_port: int | None = None) -> subprocess.Popen:
        log = open(ROOT / "test-artifacts" / log_name, "w")
        process = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        if ready_port is not None:
            wait_for_port(ready_port)
        return process


def admin_execute(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True) as connection:
        connection.execute(sql)


@pytest.fixture(scope="session")
def migrated_template() -> Iterator[str]:
    """A database migrated once per session (with the data migrations' rules and library);
    each test gets a fresh copy of it."""
    require_service("PostgreSQL at 127.0.0.1:5432", postgres_reachable(), "start PostgreSQL (see README)")
    name = f"fh_it_template_{uuid.uuid4().hex[:10]}"
    admin_execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}", "DJANGO_SETTINGS_MODULE": "forum_helper.config.settings.base", "DEBUG": "false"}
    env.pop("CELERY_BROKER_URL", None)
    try:
        result = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        yield name
    finally:
        admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def migrated_database(migrated_template: str) -> Iterator[str]:
    """A fresh, migrated database for one test, copied from the session's template."""
    name = f"fh_it_{uuid.uuid4().hex[:10]}"
    admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{migrated_template}"')
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{name}"
    finally:
        admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class RedisServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    require_service("redis-server", shutil.which("redis-server") is not None, "install Redis (apt-get install redis-server)")
    server = RedisServer(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def services(migrated_database: str, redis_server: RedisServer) -> Iterator[Services]:
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": migrated_database,
        "CELERY_BROKER_URL": redis_server.url,
        "DJANGO_SETTINGS_MODULE": "forum_helper.config.settings.base",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    running = Services(database_url=migrated_database, env=env)
    try:
        yield running
    finally:
        for process in running.processes:
            process.terminate()
        for process in running.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def start_worker(services: Services) -> subprocess.Popen:
    return services.start(
        [sys.executable, "-m", "celery", "-A", "forum_helper.config", "worker", "--pool", "solo", "--loglevel", "INFO", "--without-gossip", "--without-mingle", "-n", f"it-{uuid.uuid4().hex[:6]}@%h"],
        log_name="integration-worker.log",
    )


def start_web(services: Services) -> int:
    port = free_port()
    services.start(
        [sys.executable, "-m", "gunicorn", "forum_helper.config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--timeout", "30"],
        log_name="integration-web.log",
        ready_port=port,
    )
    return port


def discourse_post_body(post_id: int, text: str, version: int = 1) -> bytes:
    payload = {
        "post": {
            "id": post_id, "username": f"member{post_id}", "name": "A member", "created_at": "2026-11-01T10:00:00.000Z",
            "updated_at": "2026-11-01T10:00:00.000Z", "post_number": 1, "post_type": 1, "version": version,
            "raw": text, "cooked": f"<p>{text}</p>", "topic_id": 9000 + post_id, "topic_title": "Needling at home?",
            "topic_slug": "needling-at-home", "staff": False, "moderator": False, "admin": False, "trust_level": 1,
            "reply_to_post_number": None, "user_id": 500 + post_id,
        }
    }
    return json.dumps(payload).encode()


def post_discourse(port: int, slug: str, secret: str, body: bytes) -> int:
    """POST a signed post_created delivery with a new event id (as a Discourse retry has); the status."""
    return post_discourse_answer(port, slug, secret, body)[0]


def wait_until(predicate, timeout: float, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


# ---------------------------------------------------------------- additions for the fault tests


def post_discourse_answer(
    port: int, slug: str, secret: str, body: bytes, *, event_id: str | None = None, timeout: float = 30
) -> tuple[int, bytes]:
    """POST a signed post_created delivery, optionally with a chosen X-Discourse-Event-Id; (status, body).

    Status 0 means the connection itself failed (no HTTP answer at all)."""
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/webhooks/discourse/{slug}/",
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Discourse-Instance": "https://forum.example",
            "X-Discourse-Event-Id": event_id or str(uuid.uuid4().int % 10**9),
            "X-Discourse-Event-Type": "post",
            "X-Discourse-Event": "post_created",
            "X-Discourse-Event-Signature": signature,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, b""


def start_named_worker(services: Services, name: str) -> subprocess.Popen:
    """A solo-pool worker like start_worker, logging to test-artifacts/<name>.log."""
    return services.start(
        [sys.executable, "-m", "celery", "-A", "forum_helper.config", "worker", "--pool", "solo", "--loglevel", "INFO",
         "--without-gossip", "--without-mingle", "-n", f"{name}-{uuid.uuid4().hex[:6]}@%h"],
        log_name=f"{name}.log",
    )
