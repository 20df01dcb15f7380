"""The worker is killed mid-session and another takes over: the app sees the same session go
on, with revisions that never go backwards."""

from __future__ import annotations

import os
import signal

import pytest

from support.e2e_app import (
    AGENT_NAME,
    continued_by_a_new_agent,
    dispatch,
    join_app,
    takes_commands_in_the_same_session,
)
from support.livekit_server import ServerInfo, new_room_name
from support.worker_process import running_worker

from .conftest import START_LOAD, worker_env

pytestmark = [pytest.mark.livekit_server]

RESTART_AGENT = f"{AGENT_NAME}-restart"


async def test_a_worker_replacing_a_killed_one_continues_the_push_to_talk_session(
    info: ServerInfo,
) -> None:
    # Local speech-to-text, so a voice-ptt session can run with no keys and no network.
    env = worker_env(
        info,
        **START_LOAD,
        AGENT_NAME=RESTART_AGENT,
        STT_MODEL="local",
        HEALTH_PORT="0",  # beside the suite's shared worker
    )
    room = new_room_name("e2e-restart")
    first = running_worker("start", env)
    worker = first.__enter__()
    try:
        await dispatch(info, room, "voice-ptt", agent_name=RESTART_AGENT)
        app = await join_app(info, room)
        await app.until(lambda: app.client.session()["type"] == "voice-ptt", "voice-ptt")
        pressed = await app.call("session.ptt_start")
        await app.until(lambda: "sessionSync" in app.room.metadata, "the session's record")
        first_agent = app.agent
        os.killpg(worker.process.pid, signal.SIGKILL)  # the worker and its jobs, no goodbye
        worker.wait(10)
    finally:
        first.__exit__(None, None, None)
    try:
        with running_worker("start", env):
            await dispatch(info, room, agent_name=RESTART_AGENT)  # the app's backend, again
            # A `start` worker prepares a job process first: a minute or more on a busy machine.
            client = await continued_by_a_new_agent(app, first_agent, pressed, timeout=180)
            await takes_commands_in_the_same_session(client, pressed)
    finally:
        await app.leave()
