"""Reaching the real LiveKit server the e2e and contract tests run against.

`scripts/with-livekit-server` starts one on 127.0.0.1 and sets LIVEKIT_URL and the keys. A test
that needs it takes the `info` fixture (tests/conftest.py): in CI (`CI` set) it fails when
there is no server to reach; on a developer's machine it is skipped with the command that
starts one.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from urllib.parse import urlparse

from livekit import api, rtc

HOW_TO_RUN = "start one with: scripts/with-livekit-server uv run pytest"


@dataclass(frozen=True)
class ServerInfo:
    url: str
    api_key: str
    api_secret: str

    def token(
        self,
        room: str,
        identity: str,
        *,
        kind: str = "standard",
        can_update_own_metadata: bool = True,
        attributes: dict[str, str] | None = None,
        agent: bool = False,
    ) -> str:
        grants = api.VideoGrants(
            room_join=True,
            room=room,
            can_update_own_metadata=can_update_own_metadata,
            agent=agent,
        )
        token = (
            api.AccessToken(self.api_key, self.api_secret)
            .with_identity(identity)
            .with_kind(kind)  # type: ignore[arg-type]
            .with_grants(grants)
        )
        if attributes:
            token = token.with_attributes(attributes)
        return token.to_jwt()

    async def join(self, room: str, identity: str, **token_options: object) -> rtc.Room:
        joined = rtc.Room()
        await joined.connect(self.url, self.token(room, identity, **token_options))  # type: ignore[arg-type]
        return joined

    def api(self) -> api.LiveKitAPI:
        return api.LiveKitAPI(self.url, self.api_key, self.api_secret)


def new_room_name(prefix: str = "session-sync") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    port = parsed.port or (443 if parsed.scheme in ("wss", "https") else 80)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def server_from_env() -> ServerInfo | str:
    """The server named in the environment, or what is missing (no server, none answering)."""
    needed = ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")
    missing = [name for name in needed if not os.environ.get(name)]
    if missing:
        return f"needs a LiveKit server: {', '.join(missing)} not set"
    if not _reachable(os.environ["LIVEKIT_URL"]):
        return f"no LiveKit server answers at {os.environ['LIVEKIT_URL']}"
    return ServerInfo(*(os.environ[name] for name in needed))
