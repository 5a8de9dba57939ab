"""What the event log costs writes: create and comment throughput with and without event rows.

    python -m bench.events_bench --size 10000 --seconds 10 --rounds 2

Seeds `ticketdesk_load` (bench.seed), then runs the create and comment scenarios of
bench/load.py against a `ticketdesk serve` process writing event rows, and against one started
with TICKETDESK_BENCH_EVENT_ROWS=false (the same code, the rows left out), alternating the two
`--rounds` times so that both see the same machine. Prints req/s per mode and the ratio.
"""

import argparse
import asyncio
import statistics
import sys

import asyncpg

from bench import load
from bench import seed as seeding

MODES = {"with events": {}, "without events": {"TICKETDESK_BENCH_EVENT_ROWS": "false"}}


async def main_async(args: argparse.Namespace) -> None:
    opts = load.Options(
        url=args.url,
        seconds=args.seconds,
        warmup=1.0,
        concurrency=args.concurrency,
        workers=args.workers,
        db_seconds=0,
        scenarios=("create", "comment"),
    )
    await seeding.ensure_database(opts.url)
    await seeding.seed(opts.url, tickets=args.size, customers=500, agents=20)
    conn = await asyncpg.connect(**seeding.connect_args(opts.url))
    rates: dict[str, dict[str, list[float]]] = {m: {"create": [], "comment": []} for m in MODES}
    try:
        actors = await load.load_actors(conn, args.size, opts.concurrency)
        for round_ in range(1, args.rounds + 1):
            for mode, env in MODES.items():
                print(f"round {round_}: {mode}", flush=True)
                run = await load.run_http(conn, actors, opts, extra_env=env)
                for name, result in run.results.items():
                    rates[mode][name].append(result.requests_per_second)
    finally:
        await conn.close()
    print()
    # Each round runs both modes back to back, so a round's ratio compares like with like even
    # when the machine's load drifts; the median of the rounds' ratios is the figure.
    print("req/s: the median of the rounds; ratio: the median of the rounds' ratios")
    print(f"{'scenario':<10} {'with events':>12} {'without':>10} {'ratio':>6}")
    for name in ("create", "comment"):
        with_, without = rates["with events"][name], rates["without events"][name]
        ratio = statistics.median(w / wo for w, wo in zip(with_, without, strict=True))
        mid_with, mid_without = statistics.median(with_), statistics.median(without)
        print(f"{name:<10} {mid_with:>12.0f} {mid_without:>10.0f} {ratio:>6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--url", default=load.DEFAULT_URL)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    asyncio.run(main_async(parser.parse_args()))
    sys.exit(0)


if __name__ == "__main__":
    main()
