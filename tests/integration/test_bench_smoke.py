"""`bench/run_all.py --smoke` runs every benchmark with tiny sizes and prints its figure lines.

Only that the harness works is asserted (exit 0, the expected lines), never a timing."""
import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import require_service
from tests.integration.conftest import ROOT, postgres_reachable

pytestmark = pytest.mark.services

EXPECTED_LINES = (
    r"^intake\.throughput: discourse [\d.]+ req/s vs bare [\d.]+ req/s = [\d.]+ of bare",
    r"^intake\.latency: discourse p50 [\d.]+ ms p99 [\d.]+ ms, bare p50",
    r"^intake\.floor: plain WSGI \+ HMAC \+ INSERT, no framework: [\d.]+ req/s, p50 [\d.]+ ms p99 [\d.]+ ms .* (\d+)/\1 2xx\)$",
    r"^intake\.integrity: discourse 2xx (\d+)/\1,",
    r"^e2e\.throughput: offered \d+ posts/s",
    r"^e2e\.latency: delivery->queue item p50 \d+ ms p95 \d+ ms",
    r"^e2e\.integrity: offered \d+, .* lost 0, unscreened 0, duplicate findings 0$",
    r"^queue\.first_page: GET /queue/ p50 [\d.]+ ms p95 [\d.]+ ms with 300 open items",
    r"^queue\.filtered_page: GET /queue/\?severity=high&category=home_needling p50",
)


def test_the_benchmark_harness_runs_end_to_end_with_smoke_sizes() -> None:
    require_service("PostgreSQL at 127.0.0.1:5432", postgres_reachable(), "start PostgreSQL (see README)")
    require_service("redis-server", shutil.which("redis-server") is not None, "install Redis (apt-get install redis-server)")

    result = subprocess.run(
        [sys.executable, "bench/run_all.py", "--smoke", "--only", "intake,e2e,queue"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )

    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr[-4000:]}"
    lines = result.stdout.splitlines()
    for pattern in EXPECTED_LINES:
        assert any(re.search(pattern, line) for line in lines), f"no line matches {pattern!r} in:\n{result.stdout}"
