"""The speech models, chosen from settings and loaded once per process."""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Literal

from livekit.agents import inference
from livekit.agents import vad as agents_vad
from livekit.agents.voice.turn import TurnDetectionMode
from livekit.plugins import silero

from .settings import TurnDetectorChoice

logger = logging.getLogger("session-sync.models")

# livekit-plugins-turn-detector's hub files, as its loader asks for them. Spelled out here
# because importing the plugin registers its runners, which fail loudly without the files.
_HUB_REPO = "livekit/turn-detector"
_HUB_REVISIONS = {"english": "v1.2.2-en", "multilingual": "v0.4.1-intl"}
_HUB_FILES = (("model_q8.onnx", "onnx"), ("languages.json", None))

DOWNLOAD_COMMAND = "uv run python -m agent download-files"


class ModelFilesMissing(RuntimeError):
    """A selected model needs files that are not on this machine."""


@dataclass(frozen=True)
class TurnDetectorPlan:
    """What end-of-turn detection the worker will run, decided once at start-up."""

    requested: TurnDetectorChoice
    effective: TurnDetectorChoice
    problem: str | None = None


def missing_hub_files(choice: Literal["english", "multilingual"]) -> str | None:
    """Why the text model cannot load offline, or None when its files are all cached."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    revision = _HUB_REVISIONS[choice]
    for filename, subfolder in _HUB_FILES:
        try:
            hf_hub_download(
                _HUB_REPO, filename, subfolder=subfolder, revision=revision, local_files_only=True
            )
        except (LocalEntryNotFoundError, OSError):
            return f"{_HUB_REPO}@{revision} file {subfolder + '/' if subfolder else ''}{filename}"
    try:
        from transformers import AutoTokenizer

        AutoTokenizer.from_pretrained(_HUB_REPO, revision=revision, local_files_only=True)
    except OSError:
        return f"{_HUB_REPO}@{revision} tokenizer"
    return None


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


def load_models(plan: TurnDetectorPlan) -> LoadedModels:
    """Load everything heavy once; called from the process prewarm, never per call."""
    vad = silero.VAD.load()
    if plan.effective == "audio":
        import livekit.local_inference as local_inference

        local_inference.init_eot()  # ~240 MB, once per process, shared by every job
    elif plan.effective in ("english", "multilingual"):
        register_download_plugins(plan.effective)
    if plan.problem:
        logger.warning("%s; using VAD-only endpointing instead", plan.problem)
    logger.info("models loaded", extra={"turn_detector": plan.effective})
    return LoadedModels(vad=vad, plan=plan)
