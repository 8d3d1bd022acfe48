"""Moderation queue page under a big backlog: GET /queue/ with N open items on PostgreSQL.

Seeds N open queue items (bench/queue_seed.py), logs in a moderator (session cookie), then
measures p95 of the first page, of a filtered page (severity + category), and of a bare Django
view that renders 50 rows of the same table (forum_helper/intake/bench_views.py), all under
gunicorn (2 sync workers), one request at a time from a separate process (page latency, not
capacity), interleaved so drift hits all three alike.

    python bench/bench_queue.py [--items 100000] [--requests 300] [--smoke]
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    PYTHON, ROOT, LoadResult, app_env, get_request, log, processes, run_load, start_gunicorn, throwaway_database, verdict,
)

TARGET_P95_MS = 100.0
PAGES = {
    "first": "/queue/",
    "filtered": "/queue/?severity=high&category=home_needling",
    "bare": "/bench/bare-queue/",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300, help="requests per page")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes for CI (no timing meaning)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.items, args.requests = 300, 10

    with throwaway_database() as database, processes() as group:
        env = app_env(database)
        seeded = subprocess.run([PYTHON, str(ROOT / "bench" / "queue_seed.py"), "--items", str(args.items)], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=1800)
        if seeded.returncode != 0:
            raise RuntimeError(f"seeding failed:\n{seeded.stdout}\n{seeded.stderr}")
        seed = json.loads(seeded.stdout.strip().splitlines()[-1])
        log(f"seeded {seed['items']} open queue items")
        port = start_gunicorn(group, env, workers=2)
        cookie = f"sessionid={seed['sessionid']}"
        results: dict[str, list[LoadResult]] = {name: [] for name in PAGES}
        for name, path in PAGES.items():  # warm-up, and a check that the page really renders for a moderator
            warm = run_load(port, [get_request(port, path, cookie=cookie)] * 5, connections=1)
            if warm.statuses != {200: 5}:
                raise RuntimeError(f"{path} answered {warm.statuses} (expected 200s) — see test-artifacts/bench/gunicorn.log")
        chunk = max(1, args.requests // 5)
        for _ in range(5):
            for name, path in PAGES.items():
                results[name].append(run_load(port, [get_request(port, path, cookie=cookie)] * chunk, connections=1))

    merged = {name: LoadResult(sum(p.elapsed for p in parts), [r for p in parts for r in p.results]) for name, parts in results.items()}
    bare_p95 = merged["bare"].latency_ms(95)
    ok = True
    for name in ("first", "filtered"):
        result = merged[name]
        p95 = result.latency_ms(95)
        ok &= result.ok == result.count
        print(f"queue.{name}_page: GET {PAGES[name]} p50 {result.latency_ms(50):.1f} ms p95 {p95:.1f} ms with "
              f"{seed['items']} open items vs bare 50-row page p95 {bare_p95:.1f} ms = {p95 / bare_p95:.2f}x "
              f"(target p95 <= {TARGET_P95_MS:.0f} ms: {verdict(p95 <= TARGET_P95_MS)}); {result.count} requests, 1 connection")
    return 0 if ok and merged["bare"].ok == merged["bare"].count else 1


if __name__ == "__main__":
    sys.exit(main())
