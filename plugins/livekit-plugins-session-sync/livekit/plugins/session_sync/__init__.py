"""Session state synchronization between a LiveKit agent and the app its user holds.

The agent owns the session; the frontend reads it from the agent's participant
attributes and `session-sync` data events, and changes it with RPC or data commands.
See docs/protocol.md for the wire contract.
"""

from .agent_state import AgentStateSource
from .attributes import ATTR_AGENT_STATE
from .models import (
    AudioSettings,
    ConnectionState,
    RoomConfig,
    RoomState,
    SessionConfig,
    SessionCorrections,
    SessionState,
    SessionType,
    TurnDetection,
    ValidationResult,
    VoiceMode,
)
from .options import SyncOptions
from .policy import (
    ALLOWED_TRANSITIONS,
    TURN_PROFILES,
    TransitionError,
    TurnProfile,
    expected_audio_input,
    turn_profile,
)
from .protocol import (
    ATTR_REQUESTED_TYPE,
    MAX_PACKET_BYTES,
    METHODS,
    PROTOCOL_VERSION,
    REPEATABLE_METHODS,
    REPLY_LOST_RPC_CODES,
    TOPIC,
    ErrorCode,
    Method,
    ProtocolError,
    SessionSyncEvent,
    Snapshot,
)
from .resume import RoomMetadataStore, SessionRecord, SessionStore
from .room import LiveKitRoom, RoomListener, RoomPort
from .state import SyncState
from .summary import SessionSummaries, SessionSummary, SessionTally
from .synchronizer import SessionSynchronizer
from .turn_taking import TurnTakingObservation, TurnTakingPort, TurnTakingTarget
from .version import __version__

__all__ = [
    "ALLOWED_TRANSITIONS",
    "ATTR_AGENT_STATE",
    "ATTR_REQUESTED_TYPE",
    "MAX_PACKET_BYTES",
    "METHODS",
    "PROTOCOL_VERSION",
    "REPEATABLE_METHODS",
    "REPLY_LOST_RPC_CODES",
    "TOPIC",
    "TURN_PROFILES",
    "AgentStateSource",
    "AudioSettings",
    "ConnectionState",
    "ErrorCode",
    "LiveKitRoom",
    "Method",
    "ProtocolError",
    "RoomConfig",
    "RoomListener",
    "RoomMetadataStore",
    "RoomPort",
    "RoomState",
    "SessionConfig",
    "SessionCorrections",
    "SessionRecord",
    "SessionState",
    "SessionStore",
    "SessionSummaries",
    "SessionSummary",
    "SessionSyncEvent",
    "SessionSynchronizer",
    "SessionTally",
    "SessionType",
    "Snapshot",
    "SyncOptions",
    "SyncState",
    "TransitionError",
    "TurnDetection",
    "TurnProfile",
    "TurnTakingObservation",
    "TurnTakingPort",
    "TurnTakingTarget",
    "ValidationResult",
    "VoiceMode",
    "__version__",
    "expected_audio_input",
    "turn_profile",
]

from livekit.agents import Plugin

from .log import logger


class SessionSyncPlugin(Plugin):
    def __init__(self) -> None:
        super().__init__(__name__, __version__, __package__, logger)


Plugin.register_plugin(SessionSyncPlugin())
