"""Worker memory per concurrent voice-vad job, on the real server. Not a test.

    scripts/with-livekit-server uv run --no-sync python -m benchmarks.bench_memory
    scripts/with-livekit-server uv run --no-sync python -m benchmarks.bench_memory \
        --variants ours-process,bare-process --levels 1,5 --settle 10     # a quick look

Each variant starts a worker in `start` mode with explicit dispatch, then grows to 1, 5 and 10
concurrent rooms. Each room is a voice-vad session: the app joins, publishes a microphone
track playing `tests/fixtures/say_good_morning.wav` in a loop (1.2 s of speech, then
silence), so silero VAD runs on every frame, the end-of-turn model and pocketsphinx on each
utterance; a room counts as heard once the agent has gone `thinking` (a committed turn). At
each level, after the rooms have talked for `--settle` seconds, every room has been heard
(so each job's models have all run) and the framework has warmed its idle processes again,
the proportional set size of the whole worker (the sum of `Pss` in
`/proc/<pid>/smaps_rollup` over the worker process and every descendant: forkserver, job
processes, idle processes) is sampled three times and the median kept. The cost of an extra
job is the slope from the first level to the last. A job the framework kills on a starved
machine (it finds the process unresponsive) shows as fewer agents than rooms, and fails the
run.

Variants, one after the other in the same run:

- ours-process / ours-thread: `python -m agent start` with `JOB_EXECUTOR=process|thread`,
  `STT_MODEL=local`, `TTS_MODEL=none`, the offline responder, `TURN_DETECTOR=audio`;
- bare-process / bare-thread: `python -m benchmarks.bare_voice_worker start`, the framework
  alone with the same models loaded the plain way (silero and pocketsphinx in the prewarm of
  every job process, the end-of-turn model left to the framework's preload).

Exits non-zero when an "ours" variant costs 80 MB or more per extra concurrent job.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import signal
import statistics
import sys
import time
import uuid
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from livekit import api, rtc
from livekit.agents.utils.hw.cpu import get_cpu_monitor

from support.worker_process import Worker

REPO = Path(__file__).resolve().parents[1]
SPEECH = REPO / "tests" / "fixtures" / "say_good_morning.wav"
SILENCE_SECONDS = 20.0
"""Between two plays of the recording: pocketsphinx decodes each utterance (about 0.5-0.9
CPU-s per second of speech), and ten rooms talking often would starve two shared cores
until the framework kills job processes it finds unresponsive."""
FRAME_MS = 10
TARGET_MB_PER_JOB = 80.0
VARIANTS = ("ours-process", "bare-process", "ours-thread", "bare-thread")
SAMPLES = 3
AGENT_JOIN_TIMEOUT = 180.0
IDLE_PROCESSES = math.ceil(get_cpu_monitor().cpu_count())
"""What the framework keeps warm in `start` mode, besides the running jobs."""
INITIALIZED = ('"process initialized"', '"job runner initialized"')
"""What the framework logs when a job process or thread is warm."""


def progress(line: str) -> None:
    print(time.strftime("%H:%M:%S"), line, file=sys.stderr, flush=True)


def smaps_pss_kib(pid: int) -> int:
    """A process's proportional set size: shared pages count once across the processes."""
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            # the parent is the second field after the command, which may hold spaces
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        found.extend(kids := children.get(queue.pop(), []))
        queue.extend(kids)
    return found


def tree_pss_mb(pid: int) -> tuple[float, int]:
    """The PSS of a process and all its descendants, in MB, and how many processes."""
    total, count = 0, 0
    for member in [pid, *descendants(pid)]:
        with contextlib.suppress(OSError):
            total += smaps_pss_kib(member)
            count += 1
    return total / 1024, count


def read_speech() -> tuple[int, np.ndarray]:
    with wave.open(str(SPEECH)) as w:
        rate = w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    return rate, samples


@dataclass
class App:
    """The user's app in one room: publishes the recording in a loop, counts agent turns."""

    room: rtc.Room
    turns: int = 0
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def agent_joined(self) -> bool:
        return any(
            p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT
            for p in self.room.remote_participants.values()
        )

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.room.disconnect()


async def play_in_loop(source: rtc.AudioSource, rate: int, speech: np.ndarray) -> None:
    per_frame = rate * FRAME_MS // 1000
    silence = np.zeros(int(rate * SILENCE_SECONDS), dtype=np.int16)
    clip = np.concatenate([speech, silence])
    clip = clip[: len(clip) // per_frame * per_frame]
    while True:
        for start in range(0, len(clip), per_frame):
            chunk = clip[start : start + per_frame]
            await source.capture_frame(rtc.AudioFrame(chunk.tobytes(), rate, 1, per_frame))


async def open_room(url: str, key: str, secret: str, agent_name: str) -> App:
    name = f"bench-memory-{uuid.uuid4().hex[:8]}"
    async with api.LiveKitAPI(url, key, secret) as lkapi:
        await lkapi.room.create_room(api.CreateRoomRequest(name=name))
        await lkapi.agent_dispatch.create_dispatch(
            api.CreateAgentDispatchRequest(agent_name=agent_name, room=name, metadata="voice-vad")
        )
    token = (
        api.AccessToken(key, secret)
        .with_identity("app-user")
        .with_grants(api.VideoGrants(room_join=True, room=name))
        .to_jwt()
    )
    room = rtc.Room()
    app = App(room)

    def on_attributes(changed: dict[str, str], participant: rtc.Participant) -> None:
        if changed.get("lk.agent.state") == "thinking":
            app.turns += 1

    room.on("participant_attributes_changed", on_attributes)
    await room.connect(url, token)
    rate, speech = read_speech()
    source = rtc.AudioSource(rate, 1)
    track = rtc.LocalAudioTrack.create_audio_track("microphone", source)
    options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
    await room.local_participant.publish_track(track, options)
    deadline = time.monotonic() + AGENT_JOIN_TIMEOUT
    while not app.agent_joined():
        if time.monotonic() > deadline:
            await room.disconnect()
            raise RuntimeError(f"no agent joined {name} in {AGENT_JOIN_TIMEOUT:.0f} s")
        await asyncio.sleep(0.25)
    task = asyncio.create_task(play_in_loop(source, rate, speech))
    app.tasks.add(task)
    return app


@dataclass
class Level:
    jobs: int
    pss_mb: float
    processes: int
    heard: int
    agents: int
    """Rooms whose agent is still there when sampled: a job the framework killed (a process
    it found unresponsive on a starved machine) leaves its room and its memory uncounted."""


async def sample(pid: int) -> tuple[float, int]:
    readings = []
    for _ in range(SAMPLES):
        readings.append(tree_pss_mb(pid))
        await asyncio.sleep(2.0)
    return statistics.median(r[0] for r in readings), max(r[1] for r in readings)


WORKER_ENV = {
    "STT_MODEL": "local",
    "TTS_MODEL": "none",
    "LLM_MODEL": "none",
    "TURN_DETECTOR": "audio",
    "DEFAULT_SESSION_TYPE": "voice-vad",
    "MAX_JOBS": "32",
    "LOG_LEVEL": "INFO",
}


async def until_said(worker: Worker, *texts: str, count: int = 1, timeout: float) -> None:
    """Wait, without blocking the loop, until `count` of the worker's lines each hold one of
    `texts` (the framework logs a different line for a warm process and a warm thread)."""
    deadline = time.monotonic() + timeout
    while sum(worker.count(text) for text in texts) < count:
        if worker.process.poll() is not None:
            raise RuntimeError(f"the worker exited; see {worker.log_path}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the worker never said {texts!r}; see {worker.log_path}")
        await asyncio.sleep(0.5)


def start_worker(variant: str, agent_name: str) -> Worker:
    """`python -m agent start` or the bare worker, in its own process group."""
    who, executor = variant.split("-")
    env = {**WORKER_ENV, "AGENT_NAME": agent_name, "JOB_EXECUTOR": executor, "HEALTH_PORT": "0"}
    module = "agent" if who == "ours" else "benchmarks.bare_voice_worker"
    return Worker("start", env, module=module, stop_with_parent=True)


async def run_variant(variant: str, levels: list[int], settle: float) -> list[Level]:
    url, key = os.environ["LIVEKIT_URL"], os.environ["LIVEKIT_API_KEY"]
    secret = os.environ["LIVEKIT_API_SECRET"]
    agent_name = f"bench-memory-{variant}-{uuid.uuid4().hex[:6]}"
    worker = start_worker(variant, agent_name)
    apps: list[App] = []
    rows: list[Level] = []
    try:
        progress(f"{variant}: starting the worker (log: {worker.log_path})")
        await until_said(worker, "registered worker", timeout=180)
        await until_said(worker, *INITIALIZED, count=IDLE_PROCESSES, timeout=180)
        await asyncio.sleep(5)
        pss, count = await sample(worker.process.pid)
        rows.append(Level(0, pss, count, 0, 0))
        progress(f"{variant}: idle: {pss:.0f} MB PSS over {count} processes")
        for level in levels:
            while len(apps) < level:
                apps.append(await open_room(url, key, secret, agent_name))
                progress(f"{variant}: room {len(apps)} has its agent")
            await asyncio.sleep(settle)
            # A voice job's memory includes what its models write while they work: wait
            # until every room has had a turn (VAD, end-of-turn model and STT all ran).
            # An agent whose link dropped on a starved machine gets a while to come back.
            for _ in range(180):
                if all(app.turns and app.agent_joined() for app in apps):
                    break
                await asyncio.sleep(1)
            # Each job took a warm process (or thread); measure once the framework has
            # warmed their replacements, so that every level holds the same idle ones.
            with contextlib.suppress(RuntimeError):
                await until_said(worker, *INITIALIZED, count=level + IDLE_PROCESSES, timeout=120)
            pss, count = await sample(worker.process.pid)
            heard = sum(app.turns > 0 for app in apps)
            agents = sum(app.agent_joined() for app in apps)
            rows.append(Level(level, pss, count, heard, agents))
            progress(
                f"{variant}: {level} jobs: {pss:.0f} MB PSS over {count} processes, "
                f"{agents}/{level} agents present, {heard}/{level} rooms had a turn committed"
            )
    finally:
        for app in apps:
            with contextlib.suppress(Exception):
                await app.close()
        worker.stop()
    return rows


def per_extra_job(rows: list[Level]) -> float:
    first, last = rows[1], rows[-1]
    return (last.pss_mb - first.pss_mb) / max(1, last.jobs - first.jobs)


def print_table(results: dict[str, list[Level]], levels: list[int]) -> None:
    print("\nWorker PSS (MB, whole process tree) by concurrent voice-vad jobs\n")
    heads = " | ".join(f"{n} job{'s' if n > 1 else ''}" for n in levels)
    print(f"| Worker | idle | {heads} | per extra job ({levels[0]}->{levels[-1]}) | heard |")
    print("|---|---|" + "---|" * len(levels) + "---|---|")
    for variant, rows in results.items():
        cells = " | ".join(
            f"{r.pss_mb:.0f} ({r.processes} proc" + (f", {r.agents} agents)" if lost(r) else ")")
            for r in rows[1:]
        )
        heard = f"{rows[-1].heard}/{rows[-1].jobs}"
        print(
            f"| {variant} | {rows[0].pss_mb:.0f} | {cells} | **{per_extra_job(rows):.1f}** "
            f"| {heard} |"
        )


def lost(row: Level) -> bool:
    return row.agents < row.jobs


def main() -> None:
    parser = argparse.ArgumentParser(description="Worker memory per concurrent voice-vad job")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--levels", default="1,5,10")
    parser.add_argument("--settle", type=float, default=20.0, help="seconds of talk per level")
    args = parser.parse_args()
    levels = sorted(int(n) for n in args.levels.split(","))
    variants = args.variants.split(",")
    unknown = set(variants) - set(VARIANTS)
    if unknown or len(levels) < 2:
        parser.error(f"variants from {', '.join(VARIANTS)} and at least two levels")
    if not os.environ.get("LIVEKIT_URL"):
        parser.error("needs a server: scripts/with-livekit-server uv run --no-sync python -m ...")
    # Stopped from outside: unwind, so every worker started here is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    load = os.getloadavg()
    results: dict[str, list[Level]] = {}
    failed: list[str] = []
    for variant in variants:
        try:
            results[variant] = asyncio.run(run_variant(variant, levels, args.settle))
        except RuntimeError as e:  # a starved machine: the other variants still run
            progress(f"{variant}: FAILED: {e}")
            failed.append(variant)
    after = os.getloadavg()
    print_table(results, levels)
    print(
        f"\nload average (1 min) {load[0]:.1f} at the start, {after[0]:.1f} at the end, "
        f"on {os.cpu_count()} cores"
    )
    ok = True
    for variant, rows in results.items():
        if not variant.startswith("ours"):
            continue
        cost = per_extra_job(rows)
        whole = rows[-1].heard == rows[-1].jobs and not any(lost(r) for r in rows[1:])
        met = cost < TARGET_MB_PER_JOB and whole
        ok = ok and met
        print(
            f"Target: {variant} < {TARGET_MB_PER_JOB:.0f} MB PSS per extra job, every room "
            f"heard, no job lost: {'met' if met else 'MISSED'} ({cost:.1f} MB)"
        )
    for variant in failed:
        print(f"{variant}: FAILED (see the progress above)")
    sys.exit(0 if ok and not failed else 1)


if __name__ == "__main__":
    main()
