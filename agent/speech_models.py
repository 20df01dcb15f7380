"""The speech models, chosen from settings and loaded once per process."""

from __future__ import annotations

import importlib
import logging
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import Literal

from livekit.agents import inference
from livekit.agents import vad as agents_vad
from livekit.agents.voice.turn import TurnDetectionMode
from livekit.plugins import silero

from .local_stt import LocalSTT, PocketSphinxModel
from .local_tts import EspeakVoice, LocalTTS
from .settings import LOCAL, Settings, TurnDetectorChoice, load_settings

logger = logging.getLogger("agent.speech_models")

DOWNLOAD_COMMAND = "uv run python -m agent download-files"


class ModelFilesMissing(RuntimeError):
    """A selected model needs files that are not on this machine."""


@dataclass(frozen=True)
class TurnDetectorPlan:
    """What end-of-turn detection the worker will run, decided once at start-up."""

    requested: TurnDetectorChoice
    effective: TurnDetectorChoice
    problem: str | None = None


# Run in a child process: importing livekit-plugins-turn-detector registers its inference
# runners, which fail the worker when the files are missing, and the hub's offline switch is
# read once, when huggingface_hub is imported.
_OFFLINE_DOWNLOAD_CHECK = """
import sys
from livekit.agents import Plugin
import livekit.plugins.turn_detector
for plugin in Plugin.registered_plugins:
    if plugin.package == "livekit.plugins.turn_detector":
        try:
            plugin.download_files()
        except Exception as e:
            print(str(e) or type(e).__name__)
            sys.exit(1)
"""
_OFFLINE_CHECK_TIMEOUT_SECONDS = 120.0


def missing_hub_files(choice: Literal["english", "multilingual"]) -> str | None:
    """Why the text models cannot load offline, or None when their files are all here.

    Asks the plugin's own public `download_files()` with the hub switched offline, so it
    succeeds only from what is already cached: the files, repository and revisions are the
    plugin's, never copies of them. `download-files` fetches the english and multilingual
    models together, so both are checked.
    """
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    try:
        result = subprocess.run(
            [sys.executable, "-W", "ignore", "-c", _OFFLINE_DOWNLOAD_CHECK],
            env=env,
            capture_output=True,
            text=True,
            timeout=_OFFLINE_CHECK_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"the {choice} model files could not be checked within the time allowed"
    if result.returncode == 0:
        return None
    lines = (result.stdout.strip() or result.stderr.strip()).splitlines()
    detail = lines[-1] if lines else "no detail given"
    return f"the text end-of-turn models are not in this machine's model cache ({detail})"


def plan_turn_detector(
    choice: TurnDetectorChoice, *, fallback: Literal["vad-only", "refuse"]
) -> TurnDetectorPlan:
    """Check the selected end-of-turn model can load here; fall back or refuse if not."""
    if choice not in ("english", "multilingual"):
        return TurnDetectorPlan(requested=choice, effective=choice)
    missing = missing_hub_files(choice)
    if missing is None:
        return TurnDetectorPlan(requested=choice, effective=choice)
    problem = (
        f"TURN_DETECTOR={choice} needs model files that are not on this machine "
        f"(missing: {missing}). Fetch them with: TURN_DETECTOR={choice} {DOWNLOAD_COMMAND}"
    )
    if fallback == "refuse":
        raise ModelFilesMissing(problem + "  (or set TURN_DETECTOR=audio, which works offline)")
    return TurnDetectorPlan(requested=choice, effective="vad-only", problem=problem)


def register_download_plugins(choice: TurnDetectorChoice) -> None:
    """Make `download-files` fetch the text end-of-turn models when they are selected."""
    if choice in ("english", "multilingual"):
        importlib.import_module("livekit.plugins.turn_detector")


@dataclass
class LoadedModels:
    vad: agents_vad.VAD
    plan: TurnDetectorPlan
    stt_model: PocketSphinxModel | None = None
    """Loaded when STT_MODEL is local."""
    tts_voice: EspeakVoice | None = None
    """Found when TTS_MODEL is local."""

    def speech_to_text(self, model: str | None) -> LocalSTT | str | None:
        """What AgentSession takes as `stt` for the effective STT_MODEL."""
        if model == LOCAL:
            return LocalSTT(self.stt_model, self.vad) if self.stt_model is not None else None
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
                self.plan.effective,
            )
            return "vad"

    def _make_turn_detector(self) -> TurnDetectionMode:
        match self.plan.effective:
            case "audio":
                return inference.TurnDetector(version="v1-mini")
            case "english":
                from livekit.plugins.turn_detector.english import EnglishModel

                return EnglishModel()
            case "multilingual":
                from livekit.plugins.turn_detector.multilingual import MultilingualModel

                return MultilingualModel()
        return "vad"


def load_models(settings: Settings, plan: TurnDetectorPlan) -> LoadedModels:
    """Load everything heavy once; called from the process prewarm, never per call."""
    vad = silero.VAD.load()
    if plan.effective in ("english", "multilingual"):
        register_download_plugins(plan.effective)
    if plan.problem:
        logger.warning("%s; using VAD-only endpointing instead", plan.problem)
    stt_model = PocketSphinxModel() if settings.effective_stt_model == LOCAL else None
    tts_voice = EspeakVoice.find() if settings.effective_tts_model == LOCAL else None
    logger.info("models loaded", extra={"turn_detector": plan.effective})
    return LoadedModels(vad=vad, plan=plan, stt_model=stt_model, tts_voice=tts_voice)


_ModelsKey = tuple[TurnDetectorPlan, bool, bool]
_process_models: dict[_ModelsKey, LoadedModels] = {}
_process_models_lock = threading.Lock()


def shared_models(settings: Settings, plan: TurnDetectorPlan) -> LoadedModels:
    """This process's models, loaded by the first caller and shared by every later one.

    Under the thread executor every job's prewarm runs in the worker process, and a process
    forked from the framework's forkserver inherits what `preload_shared_models` loaded
    there; either way silero and the local speech models are loaded once per process. The
    on-device end-of-turn weights are not loaded here: the framework preloads them
    (`LIVEKIT_AGENTS_PRELOAD_LOCAL_INFERENCE`) where every job shares them, and otherwise
    the first detector of a process loads them.
    """
    key = (
        plan,
        settings.effective_stt_model == LOCAL,
        settings.effective_tts_model == LOCAL,
    )
    with _process_models_lock:
        models = _process_models.get(key)
        if models is None:
            models = _process_models[key] = load_models(settings, plan)
        return models


def preload_shared_models() -> None:
    """Load the models ahead of the job processes (in the forkserver, see `agent.preload`).

    A failure here is left for the job's own prewarm to meet and report.
    """
    try:
        settings = load_settings()
        plan = plan_turn_detector(settings.turn_detector, fallback=settings.turn_detector_fallback)
        shared_models(settings, plan)
    except Exception:
        logger.debug("models not preloaded; each job process loads its own", exc_info=True)


def describe_models(settings: Settings, plan: TurnDetectorPlan) -> list[str]:
    """One line per session type: the models it will use, for the start-up log."""
    llm = settings.llm_model or "offline responder"
    stt = _speech_name(settings.effective_stt_model, "pocketsphinx en-us")
    tts = _speech_name(settings.effective_tts_model, "espeak-ng")
    end_of_turn = {
        "audio": "silero VAD + on-device end-of-turn model (turn-detector-v1-mini)",
        "english": "silero VAD + end-of-turn model english",
        "multilingual": "silero VAD + end-of-turn model multilingual",
        "vad-only": "silero VAD only",
    }[plan.effective]
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
