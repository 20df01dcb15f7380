// The agent's session as it publishes it, read from its participant's full attribute set on
// every change (never from one change event alone: an event carries only the keys that
// changed), and the app's two session actions.
import { useEffect, useState } from 'react';
import { ParticipantEvent, type RemoteParticipant, type Room } from 'livekit-client';

export type SessionType = 'text' | 'voice-ptt' | 'voice-vad';
export const SESSION_TYPES: readonly SessionType[] = ['text', 'voice-ptt', 'voice-vad'];

export function isSessionType(value: string | null | undefined): value is SessionType {
  return SESSION_TYPES.includes(value as SessionType);
}

export type PublishedSession = { type: string | null; state: string | null; pushToTalk: string | null };

export function usePublishedSession(agent: RemoteParticipant | null): PublishedSession {
  const read = (): PublishedSession => ({
    type: agent?.attributes['session.type'] ?? null,
    state: agent?.attributes['session.state'] ?? null,
    pushToTalk: agent?.attributes['session.pushToTalk'] ?? null,
  });
  const [session, setSession] = useState(read);
  useEffect(() => {
    setSession(read());
    if (!agent) return;
    const changed = () => setSession(read());
    agent.on(ParticipantEvent.AttributesChanged, changed);
    return () => {
      agent.off(ParticipantEvent.AttributesChanged, changed);
    };
  }, [agent]);
  return session;
}

/** Ask the agent for a session type: the app's own `session.requestedType` attribute. */
export async function requestSessionType(room: Room, type: SessionType): Promise<void> {
  await room.localParticipant.setAttributes({ 'session.requestedType': type });
}

/** A push-to-talk press or release, by RPC to the agent (docs/protocol.md, 5). */
export async function pushToTalk(room: Room, agent: RemoteParticipant, method: 'session.ptt_start' | 'session.ptt_end') {
  return room.localParticipant.performRpc({
    destinationIdentity: agent.identity,
    method,
    payload: '{}',
    responseTimeout: 15_000,
  });
}
