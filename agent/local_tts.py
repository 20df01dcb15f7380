"""Speech on this machine: Debian's espeak-ng, run as a subprocess, streamed in frames.

No keys, no network. Each sentence is one espeak-ng process whose audio is handed to the
framework as it is produced; an interruption ends the process at once.
"""

from __future__ import annotations

import asyncio
import shutil
import struct
import subprocess
from dataclasses import dataclass
from typing import Literal

from livekit.agents import APIConnectionError, tts, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions

MODEL = "espeak-ng"
PROVIDER = "local"
SAMPLE_RATE = 22050
"""espeak-ng's output rate."""

INSTALL_HELP = (
    "TTS_MODEL=local needs espeak-ng: sudo apt-get install -y espeak-ng "
    "(Fedora: sudo dnf install -y espeak-ng; macOS: brew install espeak-ng), "
    "or set TTS_MODEL=none"
)

_READ_BYTES = 4096  # about 90 ms of audio per read


class EspeakMissing(RuntimeError):
    """espeak-ng is not installed here."""


@dataclass(frozen=True)
class EspeakVoice:
    """Where espeak-ng is and how it speaks; found once per process."""

    binary: str
    voice: str = "en-us+f3"
    words_per_minute: int = 140

    @classmethod
    def find(cls) -> EspeakVoice:
        """Check espeak-ng runs here; blocking, so call it from the prewarm, not a job."""
        binary = shutil.which("espeak-ng")
        if binary is None:
            raise EspeakMissing(INSTALL_HELP)
        try:
            subprocess.run([binary, "--version"], check=True, capture_output=True, timeout=10)
        except (OSError, subprocess.SubprocessError) as e:
            raise EspeakMissing(f"espeak-ng does not run ({e}); {INSTALL_HELP}") from None
        return cls(binary)

    def command(self) -> list[str]:
        # The text goes in on stdin, so no text can be taken for an option.
        return [self.binary, "--stdout", "-v", self.voice, "-s", str(self.words_per_minute)]


class LocalTTS(tts.TTS[Literal["metrics_collected", "error"]]):
    """A non-streaming TTS; the session's stream adapter hands it one sentence at a time."""

    def __init__(self, voice: EspeakVoice) -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False),
            sample_rate=SAMPLE_RATE,
            num_channels=1,
        )
        self.voice = voice

    @property
    def model(self) -> str:
        return MODEL

    @property
    def provider(self) -> str:
        return PROVIDER

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        return _EspeakStream(tts=self, input_text=text, conn_options=conn_options)


class _EspeakStream(tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        owner = self._tts
        assert isinstance(owner, LocalTTS)
        proc = await asyncio.create_subprocess_exec(
            *owner.voice.command(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(self.input_text.encode())
            proc.stdin.close()
            sample_rate = await _read_wav_header(proc.stdout)
            output_emitter.initialize(
                request_id=utils.shortuuid("espeak_"),
                sample_rate=sample_rate,
                num_channels=1,
                mime_type="audio/pcm",
            )
            odd = b""  # a read can end inside a sample
            while chunk := await proc.stdout.read(_READ_BYTES):
                data, odd = _whole_samples(odd + chunk)
                if data:
                    output_emitter.push(data)
            output_emitter.flush()
            if await proc.wait() != 0:
                raise APIConnectionError(f"espeak-ng exited with {proc.returncode}")
        finally:
            if proc.returncode is None:  # interrupted: stop speaking now
                proc.kill()
                await proc.wait()


def _whole_samples(data: bytes) -> tuple[bytes, bytes]:
    cut = len(data) - len(data) % 2
    return data[:cut], data[cut:]


async def _read_wav_header(stream: asyncio.StreamReader) -> int:
    """Skip the WAV header of espeak-ng's stdout, returning the sample rate.

    Streamed WAV has no final sizes, so only the chunk layout up to `data` is read.
    """
    try:
        riff = await stream.readexactly(12)
        if riff[:4] != b"RIFF" or riff[8:12] != b"WAVE":
            raise APIConnectionError("espeak-ng did not write WAV audio")
        sample_rate = SAMPLE_RATE
        while True:
            chunk_id, size = struct.unpack("<4sI", await stream.readexactly(8))
            if chunk_id == b"data":
                return sample_rate
            body = await stream.readexactly(size)
            if chunk_id == b"fmt ":
                channels, sample_rate = struct.unpack("<HI", body[2:8])
                if channels != 1 or struct.unpack("<H", body[14:16])[0] != 16:
                    raise APIConnectionError("espeak-ng wrote audio that is not 16-bit mono")
    except asyncio.IncompleteReadError:
        raise APIConnectionError("espeak-ng produced no audio") from None
