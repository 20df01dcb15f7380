"""The worker as users run it (`python -m agent start|dev`), in a child process, for e2e tests.

With root and `unshare`/`nsenter`/`ip` (as under `scripts/with-livekit-server`), the worker can
get a network namespace of its own, joined to the test's by a veth pair: its link to the server
can then be cut and restored like a real network failure, without touching the app's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[2]

OFFLINE = {
    "TURN_DETECTOR": "vad-only",
    "STT_MODEL": "none",  # a plain server has no LiveKit Inference, and this machine no network
    "TTS_MODEL": "none",
    "LLM_MODEL": "none",
    "LOG_LEVEL": "INFO",
}

# The worker's end of the veth pair and the test's: a /30 beside the server's 10.89.0.0/30.
TEST_SIDE, WORKER_SIDE = "10.89.1.1", "10.89.1.2"


def can_isolate() -> bool:
    """Whether a worker can be given a network namespace of its own here."""
    tools = ("unshare", "nsenter", "ip")
    return os.geteuid() == 0 and all(shutil.which(tool) for tool in tools)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class _Proxy:
    """Forwards TCP from the worker's namespace to the server, which listens on 127.0.0.1 only.

    Runs its own event loop in a thread, so it serves a worker whatever the test's loop does.
    """

    def __init__(self, listen: tuple[str, int], target: tuple[str, int]) -> None:
        self._listen, self._target = listen, target
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="e2e-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the proxy did not start")

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, *self._listen)
        )
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.close()
            return

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while chunk := await src.read(65536):
                    dst.write(chunk)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def close(self) -> None:
        def stop() -> None:
            if self._server is not None:
                self._server.close()
            for task in asyncio.all_tasks(self._loop):
                task.cancel()
            self._loop.stop()

        self._loop.call_soon_threadsafe(stop)
        self._thread.join(10)


def _ip(*args: str, netns_pid: int | None = None) -> None:
    command = ["ip", *args]
    if netns_pid is not None:
        command = ["nsenter", "-t", str(netns_pid), "-n", *command]
    subprocess.run(command, check=True, capture_output=True)


class Worker:
    """One `python -m agent` process; its output is kept for the failure report."""

    def __init__(
        self,
        mode: str,
        env: Mapping[str, str],
        *,
        isolated: bool = False,
    ) -> None:
        self.mode = mode
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._proxy: _Proxy | None = None
        self._link = f"ssag{uuid.uuid4().hex[:6]}"
        self.isolated = isolated
        server_url = urlparse(env["LIVEKIT_URL"])
        environment = {**os.environ, **OFFLINE, **env}
        self.metrics_host = "127.0.0.1"
        command = [sys.executable, "-m", "agent", mode]
        if isolated:
            # Held at `read` until its namespace has a link, so it never starts without one.
            command = ["unshare", "--net", "--", "sh", "-c", 'read _ && exec "$@"', "sh", *command]
            port = server_url.port or 80
            environment["LIVEKIT_URL"] = f"{server_url.scheme}://{TEST_SIDE}:{port}"
            self.metrics_host = WORKER_SIDE
        self.process = subprocess.Popen(
            command,
            cwd=REPO,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its job processes go with it
        )
        self._reader = threading.Thread(target=self._read, name="e2e-worker-log", daemon=True)
        self._reader.start()
        try:
            if isolated:
                self._wire_namespace(server_url.hostname or "127.0.0.1", server_url.port or 80)
            assert self.process.stdin is not None
            self.process.stdin.write(b"go\n")
            self.process.stdin.close()
        except BaseException:
            self.stop()
            raise

    def _wire_namespace(self, server_host: str, server_port: int) -> None:
        pid = self.process.pid
        peer = f"{self._link}p"
        _ip("link", "add", self._link, "type", "veth", "peer", "name", peer, "netns", str(pid))
        _ip("addr", "add", f"{TEST_SIDE}/30", "dev", self._link)
        _ip("link", "set", self._link, "up")
        _ip("link", "set", "lo", "up", netns_pid=pid)
        _ip("addr", "add", f"{WORKER_SIDE}/30", "dev", peer, netns_pid=pid)
        _ip("link", "set", peer, "up", netns_pid=pid)
        _ip("route", "add", "default", "via", TEST_SIDE, netns_pid=pid)
        self._proxy = _Proxy((TEST_SIDE, server_port), (server_host, server_port))

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            with self._changed:
                self.lines.append(raw.decode(errors="replace").rstrip())
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    # -- what it says -----------------------------------------------------------------------

    def count(self, text: str) -> int:
        with self._changed:
            return sum(text in line for line in self.lines)

    def wait_for_output(self, text: str, *, after: int = 0, timeout: float = 60) -> None:
        """Block until the worker has written `text` more than `after` times."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while sum(text in line for line in self.lines) <= after:
                if self.process.poll() is not None and not self._reader.is_alive():
                    raise AssertionError(f"the worker exited before {text!r}:\n{self.tail()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"the worker never wrote {text!r}:\n{self.tail()}")
                self._changed.wait(left)

    async def output(self, text: str, *, after: int = 0, timeout: float = 60) -> None:
        await asyncio.to_thread(self.wait_for_output, text, after=after, timeout=timeout)

    def tail(self, lines: int = 60) -> str:
        with self._changed:
            return "\n".join(self.lines[-lines:])

    def metrics_url(self, port: int) -> str:
        return f"http://{self.metrics_host}:{port}/metrics"

    # -- its link ---------------------------------------------------------------------------

    def cut_link(self) -> None:
        """Take the worker's only network link down: signalling, media and data all stop."""
        assert self.isolated, "only an isolated worker's link can be cut"
        _ip("link", "set", self._link, "down")

    def restore_link(self) -> None:
        assert self.isolated
        _ip("link", "set", self._link, "up")
        pid = self.process.pid
        with contextlib.suppress(subprocess.CalledProcessError):  # it may have survived
            _ip("route", "add", "default", "via", TEST_SIDE, netns_pid=pid)

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
            if self._proxy is not None:
                self._proxy.close()
            if self.isolated:
                with contextlib.suppress(subprocess.CalledProcessError):
                    _ip("link", "del", self._link)
            self._reader.join(5)


@contextlib.contextmanager
def running_worker(
    mode: str, env: Mapping[str, str], *, isolated: bool = False
) -> Iterator[Worker]:
    worker = Worker(mode, env, isolated=isolated)
    try:
        worker.wait_for_output("registered worker", timeout=120)
        yield worker
    finally:
        worker.stop()
