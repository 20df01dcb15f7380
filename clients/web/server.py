"""The page's local endpoint: access tokens, a read-only view of every room's agent session,
and the built page itself. The API secret stays here; the browser only ever gets tokens.

    uv run python clients/web/server.py                  # http://127.0.0.1:8787
    uv run python clients/web/server.py --port 9000 --static clients/web/dist

Reads LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET from the environment.

GET  /api/token?room=NAME&identity=ID  -> {"url", "token", "room", "identity"}
GET  /api/rooms                        -> every room with its agent's published session
POST /api/rooms/NAME/drift             -> overwrite one of the agent's session attributes
                                          (only with SESSION_SYNC_TEST_HOOKS=1: for tests)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from livekit import api
from livekit.protocol.models import ParticipantInfo

logger = logging.getLogger("session-sync-web")

NAME = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")
TOKEN_TTL = timedelta(hours=1)
HERE = Path(__file__).resolve().parent


class Config:
    def __init__(self) -> None:
        missing = [
            v for v in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET") if not os.getenv(v)
        ]
        if missing:
            raise SystemExit(f"set {', '.join(missing)} (see the README)")
        self.url = os.environ["LIVEKIT_URL"]
        self.key = os.environ["LIVEKIT_API_KEY"]
        self.secret = os.environ["LIVEKIT_API_SECRET"]
        self.test_hooks = os.getenv("SESSION_SYNC_TEST_HOOKS") == "1"


def _name(value: str | None, what: str, default: str | None = None) -> str:
    value = value or default
    if not value or not NAME.match(value):
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"{what} must be 1-128 letters, digits or _.:@-"}),
            content_type="application/json",
        )
    return value


def mint_token(config: Config, room: str, identity: str) -> str:
    grants = api.VideoGrants(
        room_join=True,
        room=room,
        can_publish=True,
        can_subscribe=True,
        can_publish_data=True,
        # The app may set its own `session.requestedType` attribute.
        can_update_own_metadata=True,
    )
    return (
        api.AccessToken(config.key, config.secret)
        .with_identity(identity)
        .with_name(identity)
        .with_grants(grants)
        .with_ttl(TOKEN_TTL)
        .to_jwt()
    )


def _is_agent(p: ParticipantInfo) -> bool:
    return p.kind == ParticipantInfo.Kind.AGENT


def describe_agent(p: ParticipantInfo) -> dict[str, Any]:
    """The agent's session as it publishes it (attributes only: this view never calls it)."""
    attrs = dict(p.attributes)
    session: Any = None
    if raw := attrs.get("session.config"):
        try:
            session = json.loads(raw)
        except ValueError:
            session = None
    return {
        "identity": p.identity,
        "joinedAt": p.joined_at,
        "session": session,
        "pushToTalk": attrs.get("session.pushToTalk"),
        "protocol": attrs.get("session.protocol"),
        "attributes": {k: v for k, v in attrs.items() if k.startswith("session.")},
    }


async def handle_token(request: web.Request) -> web.Response:
    config: Config = request.app["config"]
    room = _name(request.query.get("room"), "room")
    identity = _name(request.query.get("identity"), "identity", f"user-{secrets.token_hex(3)}")
    token = mint_token(config, room, identity)
    body = {"url": config.url, "token": token, "room": room, "identity": identity}
    return web.json_response(body)


async def handle_rooms(request: web.Request) -> web.Response:
    lk: api.LiveKitAPI = request.app["lk"]
    rooms = (await lk.room.list_rooms(api.ListRoomsRequest())).rooms
    out = []
    for room in sorted(rooms, key=lambda r: r.creation_time):
        participants = (
            await lk.room.list_participants(api.ListParticipantsRequest(room=room.name))
        ).participants
        out.append(
            {
                "name": room.name,
                "createdAt": room.creation_time,
                "participants": [
                    {"identity": p.identity, "kind": "agent" if _is_agent(p) else "standard"}
                    for p in participants
                ],
                "agents": [describe_agent(p) for p in participants if _is_agent(p)],
            }
        )
    return web.json_response({"rooms": out})


async def handle_drift(request: web.Request) -> web.Response:
    """Overwrite one of the agent's published attributes, as a stale or tampered copy would:
    the agent's validation must find it and publish the session again."""
    config: Config = request.app["config"]
    if not config.test_hooks:
        raise web.HTTPNotFound()
    lk: api.LiveKitAPI = request.app["lk"]
    room = _name(request.match_info["room"], "room")
    listed = await lk.room.list_participants(api.ListParticipantsRequest(room=room))
    agent = next((p for p in listed.participants if _is_agent(p)), None)
    if agent is None:
        raise web.HTTPNotFound(text="no agent in that room")
    wrong = "error" if agent.attributes.get("session.state") != "error" else "idle"
    await lk.room.update_participant(
        api.UpdateParticipantRequest(
            room=room, identity=agent.identity, attributes={"session.state": wrong}
        )
    )
    return web.json_response({"agent": agent.identity, "attributes": {"session.state": wrong}})


def build_app(config: Config, static: Path | None) -> web.Application:
    app = web.Application()
    app["config"] = config

    async def open_api(app: web.Application) -> Any:
        app["lk"] = api.LiveKitAPI(config.url, config.key, config.secret)
        yield
        await app["lk"].aclose()

    app.cleanup_ctx.append(open_api)
    app.router.add_get("/api/token", handle_token)
    app.router.add_get("/api/rooms", handle_rooms)
    app.router.add_post("/api/rooms/{room}/drift", handle_drift)
    if static is not None and static.is_dir():

        async def index(request: web.Request) -> web.FileResponse:
            return web.FileResponse(static / "index.html")

        async def monitor(request: web.Request) -> web.FileResponse:
            return web.FileResponse(static / "monitor.html")

        app.router.add_get("/", index)
        app.router.add_get("/monitor", monitor)
        app.router.add_static("/", static)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="Token endpoint and monitor API for the page")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument(
        "--static", type=Path, default=HERE / "dist", help="built page to serve (npm run build)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    web.run_app(build_app(Config(), args.static), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
