"""HTTP load generator, run as its own process so it never shares the server's interpreter.

Reads prepared raw HTTP/1.1 requests (pickled list of bytes) and sends them over loopback
with N concurrent connections (asyncio, one TCP connection per request: gunicorn's sync
workers close the connection after every response, so keep-alive would not be used anyway).

Closed loop (default): each connection sends its next request as soon as the previous answer
arrived; measures capacity. Open loop (--rate R): request i is due at start + i/R; measures
latency at a given offered load. Writes JSON: per request [wall send time, latency s, status].

    python bench/loadgen.py --port 8000 --requests reqs.pickle --out result.json [--connections 16] [--rate 300] [--duration 60]
"""
import argparse
import asyncio
import json
import pickle
import time


async def _one(port: int, raw: bytes, timeout: float) -> int:
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    try:
        writer.write(raw)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout)
        status = int(status_line.split(b" ", 2)[1])
        await asyncio.wait_for(reader.read(), timeout)  # until the server closes
        return status
    finally:
        writer.close()


async def _run(port: int, requests: list[bytes], connections: int, rate: float | None, timeout: float, duration: float) -> dict:
    results: list[list[float] | None] = [None] * len(requests)
    next_index = 0
    start = time.monotonic()

    async def worker() -> None:
        nonlocal next_index
        while next_index < len(requests):
            if duration and time.monotonic() - start > duration:
                return  # the server could not absorb the offered load in time: the rest is never sent
            index = next_index
            next_index += 1
            if rate:
                delay = start + index / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            wall, begin = time.time(), time.perf_counter()
            try:
                status = await _one(port, requests[index], timeout)
            except (OSError, asyncio.TimeoutError, ValueError, IndexError):
                status = 0  # connection refused/reset, timeout, or no status line
            results[index] = [wall, time.perf_counter() - begin, status]

    await asyncio.gather(*(worker() for _ in range(connections)))
    return {"elapsed": time.monotonic() - start, "results": [r for r in results if r is not None]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--requests", required=True, help="pickle file: list of raw request bytes")
    parser.add_argument("--out", required=True)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rate", type=float, default=0.0, help="open loop: requests per second (0 = closed loop)")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--duration", type=float, default=0.0, help="stop sending new requests after this many seconds")
    args = parser.parse_args()
    with open(args.requests, "rb") as handle:
        requests = pickle.load(handle)
    result = asyncio.run(_run(args.port, requests, args.connections, args.rate or None, args.timeout, args.duration))
    with open(args.out, "w") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main()
