"""The worker as users run it (`python -m agent start|dev`), in a child process, for the e2e
tests and the benchmarks; or another worker module run the same way (`module=`).

A worker can reach the server through a relay the test holds: cutting the relay drops the
agent's signalling connection (the one its attributes travel on) and refuses it until the relay
is restored, without touching the app's link.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Mapping
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[1]
LOGS = REPO / ".tools" / "logs"
"""Each worker's output is written here as it runs (the folder is ignored by git)."""

STARTED: list[Path] = []
"""The log of every worker started in this run, for the report of a failed test."""

OFFLINE = {
    "TURN_DETECTOR": "vad-only",
    "STT_MODEL": "none",  # a plain server has no LiveKit Inference, and this machine no network
    "TTS_MODEL": "none",
    "LLM_MODEL": "none",
    "LOG_LEVEL": "INFO",
}


_prctl = getattr(ctypes.CDLL(None), "prctl", None)
"""Looked up here, in the parent: the child of a fork should not load symbols. Linux only."""


def _stop_with_parent() -> None:
    """In the child, before it runs: SIGTERM it if the thread that started it exits first
    (the whole process, when started from the main thread)."""
    assert _prctl is not None
    _prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class Relay:
    """A TCP relay from a local port to the server, run on a thread with its own event loop so
    it serves the worker whatever the test's loop is doing. `cut` closes every connection and
    refuses new ones; `restore` accepts again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, name="e2e-relay")
        self._thread.daemon = True
        self._thread.start()
        self.restore()

    def _call(self, make: Callable[[], Coroutine[None, None, None]]) -> None:
        asyncio.run_coroutine_threadsafe(make(), self._loop).result(10)

    def restore(self) -> None:
        async def listen() -> None:
            if self._server is None:
                self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

        self._call(listen)

    def cut(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
                self._server = None
            for writer in list(self._writers):
                writer.transport.abort()
            self._writers.clear()

        self._call(close)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while chunk := await src.read(65536):
                    dst.write(chunk)
                    await dst.drain()
            dst.transport.abort()
            self._writers.discard(dst)

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def close(self) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


class Worker:
    """One `python -m <module> <mode>` process (`agent` unless told); its output is kept in
    memory and in `log_path`. With `stop_with_parent`, it is sent SIGTERM if this process dies
    without stopping it (a benchmark killed from outside)."""

    def __init__(
        self,
        mode: str,
        env: Mapping[str, str],
        *,
        relayed: bool = False,
        module: str = "agent",
        stop_with_parent: bool = False,
    ) -> None:
        if stop_with_parent and _prctl is None:
            raise RuntimeError("stop_with_parent needs Linux (prctl PR_SET_PDEATHSIG)")
        self.mode = mode
        self.lines: list[str] = []
        self._changed = threading.Condition()
        environment = {**os.environ, **OFFLINE, **env}
        self.relay: Relay | None = None
        if relayed:
            url = urlparse(environment["LIVEKIT_URL"])
            self.relay = Relay((url.hostname or "127.0.0.1", url.port or 80))
            environment["LIVEKIT_URL"] = f"{url.scheme}://127.0.0.1:{self.relay.port}"
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", module, mode],
                cwd=REPO,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its job processes are stopped with it
                preexec_fn=_stop_with_parent if stop_with_parent else None,
            )
        except BaseException:
            if self.relay is not None:
                self.relay.close()
            raise
        LOGS.mkdir(parents=True, exist_ok=True)
        name = "worker" if module == "agent" else module.rsplit(".", 1)[-1]
        stamp = f"{time.strftime('%H%M%S')}-{self.process.pid}"
        self.log_path = LOGS / f"e2e-{name}-{mode}-{stamp}.log"
        STARTED.append(self.log_path)
        self._reader = threading.Thread(target=self._read, name="e2e-worker-log", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.log_path.open("w") as log:
            for raw in self.process.stdout:
                line = raw.decode(errors="replace").rstrip()
                log.write(line + "\n")
                log.flush()
                with self._changed:
                    self.lines.append(line)
                    self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    # -- what it says -----------------------------------------------------------------------

    def count(self, *texts: str) -> int:
        """How many lines the worker has written that contain every one of `texts`."""
        with self._changed:
            return sum(all(t in line for t in texts) for line in self.lines)

    def wait_for_output(self, *texts: str, after: int = 0, timeout: float = 60) -> None:
        """Block until more than `after` lines contain every one of `texts`."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while sum(all(t in line for t in texts) for line in self.lines) <= after:
                if self.process.poll() is not None and not self._reader.is_alive():
                    raise AssertionError(f"the worker exited before {texts!r}: {self.log_path}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"the worker never wrote {texts!r}: {self.log_path}")
                self._changed.wait(left)

    async def output(self, *texts: str, after: int = 0, timeout: float = 60) -> None:
        await asyncio.to_thread(self.wait_for_output, *texts, after=after, timeout=timeout)

    def logged(self, room: str, text: str) -> bool:
        """Whether the job in `room` has logged `text`."""
        return self.count(f'"room": "{room}"', text) > 0

    def tail(self, lines: int = 60) -> str:
        with self._changed:
            return "\n".join(self.lines[-lines:])

    def metrics_url(self, port: int) -> str:
        return f"http://127.0.0.1:{port}/metrics"

    # -- its link ---------------------------------------------------------------------------

    def cut_link(self) -> None:
        """Drop the worker's connections to the server and refuse new ones."""
        assert self.relay is not None, "start the worker with relayed=True"
        self.relay.cut()

    def restore_link(self) -> None:
        assert self.relay is not None
        self.relay.restore()

    # -- its end ----------------------------------------------------------------------------

    def signal(self, sig: int) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, sig)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def stop(self) -> None:
        """Stop it and everything it started; never leaves a process behind."""
        try:
            if self.process.poll() is None:
                self.signal(signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(5)  # a `start` worker drains: it waits for its jobs
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
            if self.relay is not None:
                self.relay.close()
            self._reader.join(5)


@contextlib.contextmanager
def running_worker(mode: str, env: Mapping[str, str], *, relayed: bool = False) -> Iterator[Worker]:
    worker = Worker(mode, env, relayed=relayed)
    try:
        # A `start` worker registers once its job processes are warm, or after the worker's
        # prewarm limit (agent/server.py); importing alone took a minute on a busy machine.
        worker.wait_for_output("registered worker", timeout=300)
        yield worker
    finally:
        worker.stop()
