"""The console as a person uses it: a real pseudo-terminal walks the seed's four scenarios."""

import codecs
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from agent.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
TRANSCRIPT_TIMEOUT = 30
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="drives a Linux pseudo-terminal")


class Terminal:
    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        # 50 rows of 220 columns, so no reply is wrapped across lines
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 220, 0, 0))

        def own_terminal() -> None:  # so Ctrl-C and the console's own exit reach the child
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env,
            preexec_fn=own_terminal,
        )  # fmt: skip
        os.close(slave)
        self.raw = ""
        """Everything printed, control sequences included."""
        self.seen = ""
        self._read_upto = 0
        # A read can end inside a character: decoded alone, the box-drawing line the
        # console draws around its prompt would show a broken character there.
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def _pump(self, seconds: float) -> bool:
        """Read what is there within `seconds`; False once the child closed the terminal."""
        r, _, _ = select.select([self.master], [], [], seconds)
        if not r:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # the child closed the terminal
            return False
        if not chunk:
            return False
        self.feed(chunk)
        return True

    def feed(self, chunk: bytes) -> None:
        text = self._decoder.decode(chunk)
        self.raw += text
        self.seen += ANSI.sub("", text)

    def wait_exit(self, timeout: float = 60) -> int:
        """Wait for the child to exit, reading all it printed."""
        deadline = time.monotonic() + timeout
        while self._pump(0.2):
            if time.monotonic() > deadline:
                raise AssertionError(f"the console did not exit; it showed:\n{self.seen[-3000:]}")
        return self.proc.wait(timeout=max(deadline - time.monotonic(), 1))

    def expect(self, pattern: str, timeout: float = 30) -> str:
        """Wait for `pattern` in what was printed since the last match; return that output."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.seen[self._read_upto :])
            if match:
                text = self.seen[self._read_upto : self._read_upto + match.end()]
                self._read_upto += match.end()
                return text
            self._pump(0.2)
        tail = self.seen[self._read_upto :][-3000:]
        raise AssertionError(f"timed out waiting for {pattern!r}; the console showed:\n{tail}")

    def type(self, line: str) -> None:
        """Type `line` at the prompt once it is back (keys pressed while the console is busy
        answering are dropped by the framework's prompt)."""
        self.expect(r"Type to talk to your agent")
        time.sleep(0.3)
        os.write(self.master, line.encode() + b"\r")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


@pytest.fixture
def console(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k.upper() not in Settings.env_names()}
    # A release that waits for the transcript timeout would take all of it: the test shows
    # it does not, with a timeout long enough that a loaded machine cannot blur the two.
    env.update(
        COLUMNS="220",
        LINES="50",
        SYNC_INTERVAL_SECONDS="3600",
        PTT_TRANSCRIPT_TIMEOUT_SECONDS=str(TRANSCRIPT_TIMEOUT),
    )
    terminal = Terminal([sys.executable, "-m", "agent", "console", "--text"], env)
    yield terminal
    terminal.close()


def test_console_walks_the_four_scenarios_with_say(console: Terminal) -> None:
    console.expect(r"console ready", timeout=120)
    assert "models for voice-vad: speech-to-text local" in console.seen

    # 1. Basic session sync.
    console.type("/status")
    console.expect(r"type=text state=active")

    # 2. A voice session with turn detection: a push-to-talk press, then VAD.
    console.type("/type voice-ptt")
    console.expect(r"type=voice-ptt state=active turnDetection=client")
    console.type("/ptt start")
    console.expect(r"pushToTalk|revision")
    console.type("/say how are you doing")
    console.expect(r'said "how are you doing"', timeout=30)
    console.expect(r"heard: how are you doing", timeout=30)  # shown as soon as it is final
    time.sleep(2.0)  # as people do, a pause before letting go: nothing is left to hear
    console.type("/ptt end")
    released = time.monotonic()
    console.expect(
        r'agent says:[\s\S]*You\s+said:\s+"how\s+are\s+you\s+doing"',
        timeout=TRANSCRIPT_TIMEOUT + 10,
    )
    answered_after = time.monotonic() - released
    assert answered_after < TRANSCRIPT_TIMEOUT / 2, (
        f"the press was answered {answered_after:.1f} s after its release: it waited for the "
        f"{TRANSCRIPT_TIMEOUT} s transcript timeout"
    )
    console.type("/type voice-vad")
    console.expect(r"type=voice-vad state=active turnDetection=server")
    console.type("/say nice to meet you")
    console.expect(r"heard: nice to meet you", timeout=30)
    console.expect(r'agent says:[\s\S]*You\s+said:\s+"nice\s+to\s+meet\s+you"', timeout=30)

    # 3. Connection interruption and recovery.
    console.type("/interrupt 3")
    console.expect(r"link is down for 3 s")
    console.type("/status")
    console.expect(r"the agent holds type=voice-vad state=syncing")
    console.expect(r"link restored; type=voice-vad state=active", timeout=30)

    # 4. Validation with auto-correction.
    console.type("/drift")
    console.expect(r"microphone is now off")
    console.type("/validate")
    console.expect(r'"isValid": false')

    console.type("/quit")
    console.expect(r"shutting down worker")
    console.wait_exit()
    assert_no_spinner_left(console)
    assert "was never awaited" not in console.seen
    assert "Traceback" not in console.seen
    # The worker's end of a room's session is not the console's: it would say none started.
    assert "before its session started" not in console.seen


def test_a_character_split_across_reads_is_read_whole() -> None:
    terminal = Terminal.__new__(Terminal)  # the reader alone, without a child
    terminal.raw = terminal.seen = ""
    terminal._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    line = ("\u2500" * 40).encode()
    terminal.feed(line[:61])  # ends inside the 21st character
    terminal.feed(line[61:])
    assert terminal.seen == "\u2500" * 40


@pytest.fixture
def quiet_console(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k.upper() not in Settings.env_names()}
    env.update(COLUMNS="220", LINES="50", SYNC_INTERVAL_SECONDS="3600", LOG_LEVEL="ERROR")
    terminal = Terminal([sys.executable, "-m", "agent", "console", "--text"], env)
    yield terminal
    terminal.close()


def test_a_quiet_console_shows_answers_without_llm_timing_and_quits_cleanly(
    quiet_console: Terminal,
) -> None:
    console = quiet_console
    deadline = time.monotonic() + 120
    while True:  # with LOG_LEVEL=ERROR nothing says the session is up: ask until it is
        console.type("/status")
        answer = console.expect(r"type=\w+ state=\w+|command failed[^\n]*", timeout=60)
        if "type=text state=active" in answer:
            break
        assert time.monotonic() < deadline, f"no session after 120 s: {answer}"
    console.expect(r"Type to talk to your agent")
    answered = console.seen[console.seen.rfind("type=text state=active") :]
    assert "llm_ttft" not in answered.split("Type to talk")[0]

    console.type("/quit")
    assert console.wait_exit() == 0
    assert "console ready" not in console.seen  # INFO, and LOG_LEVEL is ERROR
    assert_no_spinner_left(console)
    assert "Traceback" not in console.seen


def assert_no_spinner_left(console: Terminal) -> None:
    """The framework's "Thinking..." display, drawn while /quit is answered, is erased
    (ESC [2K) before the console exits, not left on the screen."""
    after_quit = console.raw[console.raw.rfind("/quit") :]
    last_spinner = after_quit.rfind("Thinking...")
    assert last_spinner == -1 or "\x1b[2K" in after_quit[last_spinner:], after_quit[-500:]
