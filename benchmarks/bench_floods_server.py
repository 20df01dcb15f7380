"""The floods of the fault benchmark over a real LiveKit server, with the agent in a process
of its own. Not a test.

`bench_faults` floods an agent that shares its process and its event loop with the in-memory
room, so the network's own work (for RPC, a caller's and a handler's task per call) counts
against the agent. Here the agent runs as the worker does: a `SessionSynchronizer` on an
`rtc.Room`, alone in its process (`support/faults/flood_agent.py`), with the options of
the in-memory floods. It watches its own loop and reports the figures; the user's app and the
stranger run here, on the Python SDK.

For each path (data, RPC, the `session.requestedType` attribute) and flooder (a stranger,
the user's own app): 10,000 messages in one burst, while the user sends a command every
150 ms (RPC and data in turn). Targets: every message answered once (an RPC with a result or
an error, never a timeout or an unanswered code 1500-1503; a data message with one reply; an
attribute change refused with one error, acted on, or a repeat of the type already running),
the user answered throughout (during a stranger's flood, every probe succeeds), and the
agent's loop never held 50 ms or more by one callback or task step, in the agent's thread CPU
time (wall time beside it: on a shared machine it also counts waiting to be scheduled). Each
row is shown beside the same burst into an agent that does nothing but answer
(`flood_agent --bare`): the SDK's and the server's own share. The places of the longest
steps and the longest garbage collection (which runs inside a step) are printed above the
table.

What the SDK (Python 1.1.21 on the Rust core) and the server (v1.13.5) do with a burst, from
their source:

- `Room._listen_task` takes every event queued so far in one task step: its queue's `get`
  returns at once while events wait, and `_room_queue.join()` waits on nothing when no stream
  subscribes. A backlog of data packets or attribute changes is handed to the agent's
  handlers back to back in that step, the more of them the busier the agent's loop was when
  they came. The agent's handler only queues each message (`intake`): of the step, about
  6 us a data packet is the agent's and about 100 us the SDK's own (measured on 2 cores).
- Every event crosses from the Rust core into Python on a thread of its own, which parses
  and queues it holding the GIL: that is not in the agent's thread CPU time, only its wall.
- Each incoming RPC gets a task of its own (`_handle_rpc_method_invocation`) and a deadline
  timer. The receipt the caller waits for (7 s by default) is sent by the Rust core before
  the handler runs; the burst allows 60 s, so only the agent could leave a call unanswered.
- The server forwards reliable data without a rate limit and, by default
  (`datachannel_slow_threshold` 0), queues it for a slow reader without a bound instead of
  dropping it. All of it reaches the agent on one ordered channel and one queue of events
  into Python, so the user's commands reach the agent's handlers behind whatever of a
  stranger's burst is queued before them: the user's slowest answer is shown beside the
  bare agent's.
- `set_attributes` fails once the server has not acknowledged it within 5 s, the wait for
  its turn to be sent included: of 1,000 at once (the server logging at debug), three in
  four never left the app, so the app keeps 100 in flight. Even so the SDK reports a few as
  failed (`request timeout`) that the server applied all the same, and under the flood the
  app's signalling may fall behind and resume its connection. The agent counts the changes
  that reached it; only those it never saw are left out, and shown.
- The app sends through `support/faults/burst.py`: the SDK's own `perform_rpc`,
  `publish_data` and `set_attributes` each wait on a queue that is handed every event, which
  costs the app O(n²) for n calls in flight.

The server in dev mode logs every signalling message; `LIVEKIT_LOG_LEVEL=info` keeps that
work off the machine the figures come from. Exits non-zero on a missed target.

    LIVEKIT_LOG_LEVEL=info scripts/with-livekit-server \
        uv run --no-sync python -m benchmarks.bench_floods_server [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time

from support.faults.flood_server import flood_on_server
from support.faults.flood_traffic import SCENARIOS, FloodResult
from support.livekit_server import HOW_TO_RUN, ServerInfo, server_from_env

Row = tuple[str, str, bool]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _row(result: FloodResult) -> Row:
    name = result.name
    for label, figures in (("agent", result.hold), ("nothing listening", result.baseline)):
        places = ", ".join(f"{place} {_ms(took)}" for place, took in figures.places())
        collection = _ms(figures.longest_collection)
        print(f"  {name}, {label}: longest steps {places or '-'}; longest collection {collection}")
    for problem in result.escaped[:5]:
        print(f"  {name}:", problem[:300])
    for reason in sorted(set(result.app_errors)):
        count = result.app_errors.count(reason)
        print(f"  {name}: the app's SDK reported {count} sends failed: {reason}")
    return (name, result.describe(), result.met)


async def main(args: argparse.Namespace) -> int:
    info = _server()
    messages = 1_000 if args.quick else 10_000
    rows: list[Row] = []
    started = time.perf_counter()
    for path, flooder in SCENARIOS:
        if args.only and f"{path}/{flooder}" not in args.only:
            continue
        result = await flood_on_server(info, path, flooder, messages, baseline=not args.no_baseline)
        rows.append(_row(result))
        print(f"  {rows[-1][0]}: {'met' if rows[-1][2] else 'missed'}", flush=True)
    print(f"\nfloods over the real server at {info.url}, the agent in its own process\n")
    print("| Fault | Measured | Target | Met |")
    print("|---|---|---|---|")
    for name, measured, ok in rows:
        print(f"| {name} | {measured} | < 50 ms, all | {'yes' if ok else '**no**'} |")
    print(f"\n({time.perf_counter() - started:.0f} s in all)")
    missed = [name for name, _, ok in rows if not ok]
    if missed:
        print("missed:", ", ".join(missed))
        return 1
    return 0


def _server() -> ServerInfo:
    found = server_from_env()
    if isinstance(found, str):
        raise SystemExit(f"{found}; {HOW_TO_RUN}")
    return found


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 messages a flood")
    parser.add_argument(
        "--only", nargs="*", metavar="PATH/FLOODER", help="these scenarios (e.g. rpc/user)"
    )
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the burst into an agent doing nothing"
    )
    logging.basicConfig(level=logging.ERROR)
    sys.exit(asyncio.run(main(parser.parse_args())))
