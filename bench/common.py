"""Shared harness for the benchmarks: throwaway PostgreSQL database, own redis-server,
gunicorn and Celery worker processes, the load generator, request building and statistics.

Every resource is a context manager that cleans up in `finally` (processes: SIGTERM, then
SIGKILL of their whole process group), so an interrupted run leaves nothing behind.
"""
import contextlib
import hashlib
import hmac
import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SETTINGS = "forum_helper.config.settings.bench"
LOG_DIR = ROOT / "test-artifacts" / "bench"
SECRET = "bench-secret-0123456789"
SLUG = "bench-forum"

RISKY_SENTENCES = (
    "I bought a 1.5mm dermaroller and plan to roll my face every 3 days, then put tretinoin on right after.",
    "Going to dermaroll at home tonight with a 2mm roller and then sit under my UV lamp for ten minutes.",
    "I am doing a DIY TCA peel at 50% on my acne scars this weekend, no doctor needed.",
    "Stopped isotretinoin last week and booked microneedling for tomorrow, can't wait.",
)
FILLER = (
    "My routine so far has been a gentle cleanser, a niacinamide serum and a plain moisturiser with SPF in "
    "the morning. Skin is combination, a bit oily on the forehead and dry around the nose. "
)


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process {process.args[:4]} exited with {process.returncode} before listening on {port}")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


# ------------------------------------------------------------------ processes


class Processes:
    """Started processes, each in its own process group; stop() terminates then kills them."""

    def __init__(self) -> None:
        self.running: list[subprocess.Popen] = []
        LOG_DIR.mkdir(parents=True, exist_ok=True)

    def start(self, args: Sequence[str], *, env: dict[str, str], log_name: str) -> subprocess.Popen:
        log_file = open(LOG_DIR / log_name, "w")
        process = subprocess.Popen(
            list(args), cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
        log_file.close()  # the child holds its own descriptor
        self.running.append(process)
        return process

    def stop_one(self, process: subprocess.Popen, timeout: float = 15.0) -> None:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        # Whatever is left in the group (gunicorn/celery children) is killed.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        if process in self.running:
            self.running.remove(process)

    def stop(self) -> None:
        for process in list(reversed(self.running)):
            self.stop_one(process)


@contextlib.contextmanager
def processes() -> Iterator[Processes]:
    group = Processes()
    try:
        yield group
    finally:
        group.stop()


def start_redis(group: Processes) -> str:
    port = free_port()
    process = group.start(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        env=dict(os.environ), log_name="redis.log",
    )
    wait_for_port(port, process=process)
    return f"redis://127.0.0.1:{port}/0"


def start_gunicorn(group: Processes, env: dict[str, str], *, workers: int = 2,
                   app: str = "forum_helper.config.wsgi:application", log_name: str = "gunicorn.log") -> int:
    port = free_port()
    process = group.start(
        [PYTHON, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--worker-class", "sync", "--timeout", "60", "--backlog", "2048"],
        env=env, log_name=log_name,
    )
    wait_for_port(port, timeout=60, process=process)
    return port


def start_worker(group: Processes, env: dict[str, str], *, concurrency: int = 2) -> subprocess.Popen:
    return group.start(
        [PYTHON, "-m", "celery", "-A", "forum_helper.config", "worker", "--pool", "prefork", "--concurrency",
         str(concurrency), "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-n", f"bench-{uuid.uuid4().hex[:6]}@%h"],
        env=env, log_name="worker.log",
    )


# ------------------------------------------------------------------ database


def _psycopg_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


@dataclass
class Database:
    url: str  # postgres://... as DATABASE_URL

    def execute(self, sql: str, *params: object) -> list[tuple]:
        import psycopg

        with psycopg.connect(_psycopg_url(self.url), autocommit=True) as connection:
            cursor = connection.execute(sql, params or None)
            return cursor.fetchall() if cursor.description else []

    def scalar(self, sql: str, *params: object) -> object:
        return self.execute(sql, *params)[0][0]


def app_env(database: Database, broker_url: str = "", **extra: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database.url, "DJANGO_SETTINGS_MODULE": SETTINGS, "DEBUG": "false",
           "ALLOWED_HOSTS": "127.0.0.1,localhost", "LOG_LEVEL": "WARNING", **extra}
    env.pop("CELERY_BROKER_URL", None)
    if broker_url:
        env["CELERY_BROKER_URL"] = broker_url
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 600) -> str:
    result = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@contextlib.contextmanager
def throwaway_database(prefix: str = "fh_bench") -> Iterator[Database]:
    """Create a database, migrate it, yield it, and drop it whatever happens."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgres://", 1)
    database = Database(url=f"{base}/{name}")
    try:
        manage(app_env(database), "migrate", "--noinput")
        yield database
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def add_source(env: dict[str, str]) -> None:
    manage(env, "add_forum_source", "--kind", "discourse", "--slug", SLUG, "--secret", SECRET)


def start_intake_stack(database: Database, group: Processes) -> tuple[dict[str, str], int]:
    """Redis, the bare endpoint's table, the Discourse source and gunicorn: (app env, port)."""
    database.execute(
        "CREATE TABLE bench_bare_delivery (id bigserial PRIMARY KEY, source_slug text NOT NULL, "
        "body bytea NOT NULL, received_at timestamptz NOT NULL DEFAULT now())"
    )
    env = app_env(database, start_redis(group))
    add_source(env)
    return env, start_gunicorn(group, env, workers=2)


# ------------------------------------------------------------------ requests


def post_text(post_id: int, size: int, risky: bool = True) -> str:
    head = RISKY_SENTENCES[post_id % len(RISKY_SENTENCES)] if risky else "Which moisturiser do you like?"
    text = f"Post {post_id}. {head} "
    while len(text) < size:
        text += FILLER
    return text[:size]


def discourse_body(post_id: int, *, text_size: int = 1200, posts_per_topic: int = 10) -> bytes:
    """A `post_created` body like Discourse sends (about text_size + 800 bytes)."""
    topic_id = 100_000 + post_id // posts_per_topic
    number = post_id % posts_per_topic + 1
    text = post_text(post_id, text_size)
    payload = {"post": {
        "id": post_id, "name": "A member", "username": f"member{post_id % 997}", "avatar_template": "/a/{size}.png",
        "created_at": "2026-11-01T10:00:00.000Z", "cooked": f"<p>{text}</p>", "post_number": number, "post_type": 1,
        "updated_at": "2026-11-01T10:00:00.000Z", "reply_count": 0, "reply_to_post_number": None, "quote_count": 0,
        "incoming_link_count": 0, "reads": 1, "score": 0, "topic_id": topic_id, "topic_slug": "needling-at-home",
        "topic_title": f"Needling at home? ({topic_id})", "category_id": 5, "display_username": "A member",
        "primary_group_name": None, "flair_name": None, "version": 1, "user_title": None, "bookmarked": False,
        "raw": text, "moderator": False, "admin": False, "staff": False, "user_id": 500 + post_id % 997,
        "hidden": False, "trust_level": 1, "deleted_at": None, "user_deleted": False, "edit_reason": None,
        "wiki": False, "topic_posts_count": number, "topic_archetype": "regular", "category_slug": "skincare",
    }}
    return json.dumps(payload).encode()


def signed_request(port: int, path: str, body: bytes, *, event_id: str | None = None) -> bytes:
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = [
        f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Content-Type: application/json",
        f"Content-Length: {len(body)}", "Connection: close", "User-Agent: Discourse/3.4 bench",
        "X-Discourse-Instance: https://forum.example", f"X-Discourse-Event-Id: {event_id or uuid.uuid4().int % 10**9}",
        "X-Discourse-Event-Type: post", "X-Discourse-Event: post_created", f"X-Discourse-Event-Signature: {signature}",
    ]
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + body


def get_request(port: int, path: str, *, cookie: str = "") -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close", "Accept: text/html"]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@dataclass
class LoadResult:
    elapsed: float
    results: list[list[float]]  # [wall send time, latency seconds, status]

    @property
    def count(self) -> int:
        return len(self.results)

    @property
    def ok(self) -> int:
        return sum(1 for r in self.results if 200 <= r[2] < 300)

    @property
    def statuses(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for r in self.results:
            counts[int(r[2])] = counts.get(int(r[2]), 0) + 1
        return counts

    @property
    def rate(self) -> float:
        return self.count / self.elapsed if self.elapsed else 0.0

    def latency_ms(self, q: float) -> float:
        return percentile([r[1] * 1000 for r in self.results], q)


def run_load(
    port: int, requests: list[bytes], *, connections: int = 16, rate: float = 0.0, timeout: float = 30.0, duration: float = 0.0
) -> LoadResult:
    """Run bench/loadgen.py in a separate process and return its measurements."""
    with tempfile.TemporaryDirectory(prefix="fh-bench-") as tmp:
        requests_path, out_path = Path(tmp) / "requests.pickle", Path(tmp) / "out.json"
        requests_path.write_bytes(pickle.dumps(requests))
        args = [PYTHON, str(ROOT / "bench" / "loadgen.py"), "--port", str(port), "--requests", str(requests_path),
                "--out", str(out_path), "--connections", str(connections), "--rate", str(rate), "--timeout", str(timeout),
                "--duration", str(duration)]
        subprocess.run(args, check=True, timeout=3600)
        data = json.loads(out_path.read_text())
    return LoadResult(elapsed=data["elapsed"], results=data["results"])


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"
