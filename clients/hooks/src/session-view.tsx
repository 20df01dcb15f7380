// The starter's session view, reduced to what it shows and does: the agent's state from
// `useAgent` (and `useVoiceAssistant`), the transcript from `useSessionMessages`, chat through
// `useChat`, and a microphone control. Unlike the starter, the microphone follows the agent's
// `session.type`: hidden and off in a text session, and a hold-to-talk button in voice-ptt.
import { type FormEvent, useEffect, useState } from 'react';
import {
  useAgent,
  useChat,
  useSessionContext,
  useSessionMessages,
  useTrackToggle,
  useVoiceAssistant,
} from '@livekit/components-react';
import { Track } from 'livekit-client';

import { type SessionType, pushToTalk, requestSessionType, usePublishedSession } from './agent-session';
import { probe } from './probe';

export function SessionView({ wantedType }: { wantedType: SessionType | null }) {
  const session = useSessionContext();
  const { messages } = useSessionMessages(session);
  const agent = useAgent();
  const assistant = useVoiceAssistant();
  const { send } = useChat();
  const participant = agent.internal.agentParticipant;
  const published = usePublishedSession(participant);
  const mic = useTrackToggle({ source: Track.Source.Microphone });
  const [userMuted, setUserMuted] = useState(false);
  const [draft, setDraft] = useState('');
  const [pressError, setPressError] = useState<string | null>(null);

  probe.record('agent', agent.state);
  probe.record('assistant', assistant.state);
  probe.record('session.type', published.type ?? 'none');
  probe.record('connection', session.connectionState);
  probe.record('microphone', mic.enabled ? 'on' : 'off');

  useEffect(() => {
    if (wantedType) {
      // The agent may act on it even when the server's answer is slow to come back.
      requestSessionType(session.room, wantedType).catch((err: unknown) =>
        probe.notes.push(`requesting ${wantedType}: ${String(err)}`),
      );
    }
  }, [session.room, wantedType]);

  // A text session takes no speech: the microphone goes off, and comes back in a voice type.
  const textSession = published.type === 'text';
  const voiceSession = published.type === 'voice-ptt' || published.type === 'voice-vad';
  useEffect(() => {
    if (mic.pending) return;
    if (textSession && mic.enabled) void mic.toggle(false);
    if (voiceSession && !mic.enabled && !userMuted) void mic.toggle(true);
  }, [textSession, voiceSession, mic, userMuted]);

  const press = (method: 'session.ptt_start' | 'session.ptt_end') => {
    if (!participant) return;
    pushToTalk(session.room, participant, method).then(
      () => setPressError(null),
      (err: unknown) => setPressError(String(err)),
    );
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const text = draft.trim();
    if (!text) return;
    setDraft('');
    void send(text);
  };

  return (
    <section>
      <dl>
        <dt>agent (useAgent)</dt>
        <dd data-testid="agent-state">{agent.state}</dd>
        <dt>agent (useVoiceAssistant)</dt>
        <dd data-testid="assistant-state">{assistant.state}</dd>
        <dt>session type</dt>
        <dd data-testid="session-type">{published.type ?? 'none'}</dd>
        <dt>session state</dt>
        <dd data-testid="session-state">{published.state ?? 'none'}</dd>
        <dt>push-to-talk</dt>
        <dd data-testid="push-to-talk">{published.pushToTalk ?? 'none'}</dd>
      </dl>
      {voiceSession && (
        <p>
          <button
            type="button"
            aria-label="Toggle microphone"
            aria-pressed={mic.enabled}
            disabled={mic.pending}
            onClick={() => {
              setUserMuted(mic.enabled);
              void mic.toggle();
            }}
          >
            {mic.enabled ? 'Microphone on' : 'Microphone off'}
          </button>{' '}
          {published.type === 'voice-ptt' && (
            <button type="button" onPointerDown={() => press('session.ptt_start')} onPointerUp={() => press('session.ptt_end')}>
              Hold to talk
            </button>
          )}
          {pressError && <span className="failure"> {pressError}</span>}
        </p>
      )}
      <form onSubmit={submit}>
        <input aria-label="Message" value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="Type something..." />
        <button type="submit">Send</button>
      </form>
      <ol data-testid="messages">
        {messages.map((m) => (
          <li key={m.id} data-type={m.type} data-local={m.from?.isLocal ? 'true' : 'false'}>
            {m.message}
          </li>
        ))}
      </ol>
    </section>
  );
}
