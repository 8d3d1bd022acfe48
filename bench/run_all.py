"""Run every benchmark (`make bench`) and print one line per figure.

Each figure is compared with a bare baseline built in the same run on the same machine.
`--smoke` runs each with tiny sizes (a few seconds) so CI can check the harness works;
smoke figures mean nothing. Benchmarks owned elsewhere (bench_analysis.py, bench_backtest.py)
are run too when present. Exit status: non-zero when any benchmark failed to run or lost data.

    python bench/run_all.py [--smoke] [--only intake,e2e,queue] [--e2e-rate 300] [--e2e-seconds 60] [--queue-items 100000]
"""
import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated subset of: intake,e2e,queue,analysis,backtest")
    parser.add_argument("--intake-requests", type=int)
    parser.add_argument("--e2e-rate", type=float)
    parser.add_argument("--e2e-seconds", type=float)
    parser.add_argument("--queue-items", type=int)
    args = parser.parse_args()

    # Benchmarks owned elsewhere take --posts instead of --smoke.
    smoke_args = {"analysis": ["--posts", "200"], "backtest": ["--posts", "500"]}
    benches: list[tuple[str, list[str]]] = [
        ("intake", ["bench_intake.py"] + (["--requests", str(args.intake_requests)] if args.intake_requests else [])),
        ("e2e", ["bench_e2e.py"] + (["--rate", str(args.e2e_rate)] if args.e2e_rate else [])
         + (["--seconds", str(args.e2e_seconds)] if args.e2e_seconds else [])),
        ("queue", ["bench_queue.py"] + (["--items", str(args.queue_items)] if args.queue_items else [])),
        ("analysis", ["bench_analysis.py"]),
        ("backtest", ["bench_backtest.py"]),
    ]
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    failed = []
    for name, command in benches:
        if only and name not in only:
            continue
        script = ROOT / "bench" / command[0]
        if not script.exists():
            print(f"{name}: skipped ({script.name} not present)", flush=True)
            continue
        started = time.monotonic()
        smoke = smoke_args.get(name, ["--smoke"]) if args.smoke else []
        argv = [sys.executable, str(script), *command[1:], *smoke]
        result = subprocess.run(argv, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        sys.stdout.write(result.stdout)
        if result.returncode != 0:
            failed.append(name)
            print(f"{name}: FAILED (exit {result.returncode}; details on stderr above)", flush=True)
        print(f"[bench] {name} took {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
