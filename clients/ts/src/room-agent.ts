// What the client reads from the room: its connection in the client's words, the session
// record a departed agent left live (protocol 8.7), and which agent participant to follow.
import { ConnectionState, ParticipantKind } from 'livekit-client';
import type { RemoteParticipant } from 'livekit-client';

import { ATTRIBUTES } from './generated/index.js';
import type { AgentInfo, ConnectionStatus } from './types.js';

/** The `sessionId` of the live session record in the room's metadata (protocol 8.7), if any. */
export function liveRecordId(metadata: string | undefined): string | null {
  if (!metadata || !metadata.trimStart().startsWith('{')) return null;
  try {
    const record = (JSON.parse(metadata) as { sessionSync?: { sessionId?: unknown } }).sessionSync;
    return typeof record?.sessionId === 'string' ? record.sessionId : null;
  } catch {
    return null;
  }
}

export function connectionOf(state: ConnectionState | string): ConnectionStatus {
  switch (state) {
    case ConnectionState.Connected:
      return 'connected';
    case ConnectionState.Connecting:
      return 'connecting';
    case ConnectionState.Reconnecting:
    case ConnectionState.SignalReconnecting:
      return 'reconnecting';
    default:
      return 'disconnected';
  }
}

/**
 * The agent participant to follow (only `agentIdentity` when set): the current one while it
 * publishes the session, else the first that does, else the current one or the first agent.
 */
export function chooseAgent(
  participants: Iterable<RemoteParticipant>,
  current: AgentInfo | null,
  agentIdentity: string | undefined,
): RemoteParticipant | null {
  const agents = [...participants].filter(
    (p) => p.kind === ParticipantKind.AGENT && (agentIdentity === undefined || p.identity === agentIdentity),
  );
  const stillHere = current && agents.find((p) => p.identity === current.identity && p.sid === current.sid);
  if (stillHere && ATTRIBUTES.protocol in (stillHere.attributes ?? {})) return stillHere;
  return agents.find((p) => ATTRIBUTES.protocol in (p.attributes ?? {})) ?? stillHere ?? agents[0] ?? null;
}
