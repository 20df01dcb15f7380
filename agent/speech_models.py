"""The speech models, chosen from settings and loaded once per process."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from livekit.agents import inference
from livekit.agents import vad as agents_vad
from livekit.agents.voice.turn import TurnDetectionMode
from livekit.plugins import silero

from .local_stt import LocalSTT, PocketSphinxModel
from .local_tts import EspeakVoice, LocalTTS
from .settings import LOCAL, Settings, TurnDetectorChoice, load_settings

logger = logging.getLogger("agent.speech_models")


@dataclass
class LoadedModels:
    vad: agents_vad.VAD
    turn_detector: TurnDetectorChoice
    """TURN_DETECTOR: what ends a user's turn in a voice-vad session."""
    stt_model: PocketSphinxModel | None = None
    """Loaded when STT_MODEL is local."""
    tts_voice: EspeakVoice | None = None
    """Found when TTS_MODEL is local."""

    def speech_to_text(self, model: str | None) -> LocalSTT | str | None:
        """What AgentSession takes as `stt` for the effective STT_MODEL."""
        if model == LOCAL:
            return LocalSTT(self.stt_model) if self.stt_model is not None else None
        return model

    def text_to_speech(self, model: str | None) -> LocalTTS | str | None:
        """What AgentSession takes as `tts` for the effective TTS_MODEL."""
        if model == LOCAL:
            return LocalTTS(self.tts_voice) if self.tts_voice is not None else None
        return model

    def server_turn_detection(self) -> TurnDetectionMode:
        """The framework's turn detection for "the agent decides" (voice-vad).

        A fresh detector per session is cheap: the weights are shared per process. A model
        that fails here costs the call its end-of-turn model, never the call itself.
        """
        try:
            return self._make_turn_detector()
        except Exception:
            logger.exception(
                "the %s end-of-turn model failed to load; this call uses VAD-only endpointing",
                self.turn_detector,
            )
            return "vad"

    def _make_turn_detector(self) -> TurnDetectionMode:
        if self.turn_detector == "audio":
            # Pinned to the on-device model: unpinned, the framework picks its cloud model
            # on LiveKit Cloud and in dev mode.
            return inference.TurnDetector(version="v1-mini")
        return "vad"


def load_models(settings: Settings) -> LoadedModels:
    """Load everything heavy once; called from the process prewarm, never per call."""
    vad = silero.VAD.load()
    stt_model = PocketSphinxModel() if settings.effective_stt_model == LOCAL else None
    tts_voice = EspeakVoice.find() if settings.effective_tts_model == LOCAL else None
    logger.info("models loaded", extra={"turn_detector": settings.turn_detector})
    return LoadedModels(
        vad=vad, turn_detector=settings.turn_detector, stt_model=stt_model, tts_voice=tts_voice
    )


_ModelsKey = tuple[TurnDetectorChoice, bool, bool]
_process_models: dict[_ModelsKey, LoadedModels] = {}
_process_models_lock = threading.Lock()


def shared_models(settings: Settings) -> LoadedModels:
    """This process's models, loaded by the first caller and shared by every later one.

    Under the thread executor every job's prewarm runs in the worker process, and a process
    forked from the framework's forkserver inherits what `preload_shared_models` loaded
    there; either way silero and the local speech models are loaded once per process. The
    on-device end-of-turn weights are not loaded here: the framework preloads them
    (`LIVEKIT_AGENTS_PRELOAD_LOCAL_INFERENCE`) where every job shares them, and otherwise
    the first detector of a process loads them.
    """
    key = (
        settings.turn_detector,
        settings.effective_stt_model == LOCAL,
        settings.effective_tts_model == LOCAL,
    )
    with _process_models_lock:
        models = _process_models.get(key)
        if models is None:
            models = _process_models[key] = load_models(settings)
        return models


def preload_shared_models() -> None:
    """Load the models ahead of the job processes (in the forkserver, see `agent.preload`).

    A failure here is left for the job's own prewarm to meet and report.
    """
    try:
        shared_models(load_settings())
    except Exception:
        logger.debug("models not preloaded; each job process loads its own", exc_info=True)


def describe_models(settings: Settings) -> list[str]:
    """One line per session type: the models it will use, for the start-up log."""
    llm = settings.llm_model or "offline responder"
    stt = _speech_name(settings.effective_stt_model, "pocketsphinx en-us")
    tts = _speech_name(settings.effective_tts_model, "espeak-ng")
    end_of_turn = {
        "audio": "silero VAD + on-device end-of-turn model (turn-detector-v1-mini)",
        "vad-only": "silero VAD only",
    }[settings.turn_detector]
    voice = f"speech-to-text {stt}, LLM {llm}, speech {tts}"
    if settings.effective_stt_model is None:
        voice = "unavailable: STT_MODEL=none"
    return [
        f"text: LLM {llm}, replies in text",
        f"voice-ptt: {voice}; the app's press ends the turn",
        f"voice-vad: {voice}; {end_of_turn} ends the turn"
        if settings.effective_stt_model is not None
        else f"voice-vad: {voice}",
    ]


def _speech_name(model: str | None, local_name: str) -> str:
    if model is None:
        return "off"
    return f"local ({local_name})" if model == LOCAL else f"{model} (LiveKit Inference)"
