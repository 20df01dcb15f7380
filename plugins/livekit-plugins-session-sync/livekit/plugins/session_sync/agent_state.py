"""The agent's `lk.agent.state` in every attribute update the publisher makes. Pure: no I/O.

A LiveKit client reports a participant's attribute update as the keys whose values changed
(livekit-client's `AttributesChanged`), and a frontend may keep only the last such report:
@livekit/components-react's `useAgent` did up to 2.9.23, and its 20 s check then ends a call
whose agent it believes never finished initializing. An update that leaves `lk.agent.state`
as it was hides the state from such a frontend. So an update made while the agent is
`listening` or `speaking` goes out marked `thinking` (the agent is at work on the session),
and is followed, once no newer update waits, by one that sets the state back: the last change
any frontend sees names the agent's state. While `thinking` nothing is marked: the framework
changes the state again as the reply starts or ends.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .attributes import ATTR_AGENT_STATE

# The agent's current state as the framework knows it (`AgentSession.agent_state`), or None
# when there is no agent session: then the publisher leaves the key alone.
AgentStateSource = Callable[[], str | None]

WORKING = "thinking"
# States a session update would otherwise leave unchanged until the user does something.
MARKED = frozenset({"listening", "speaking"})


def stamp(attributes: Mapping[str, str], state: str | None) -> tuple[dict[str, str], bool]:
    """The update as sent, and whether a `restore` must follow it."""
    if state is None:
        return dict(attributes), False
    if state in MARKED:
        return {**attributes, ATTR_AGENT_STATE: WORKING}, True
    return {**attributes, ATTR_AGENT_STATE: state}, False


def restore(attributes: Mapping[str, str], state: str | None) -> dict[str, str]:
    """The update that follows a marked one: the agent's state as it now is."""
    return {**attributes, ATTR_AGENT_STATE: state} if state is not None else dict(attributes)
