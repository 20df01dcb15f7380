// A page built the way LiveKit's agent starter (livekit-examples/agent-starter-react) is:
// `useSession` with a token source, `SessionProvider`, the starter's `useAgentErrors`
// (which ends the call when `useAgent` reports `failed`), and a session view on `useAgent`,
// `useVoiceAssistant`, `useSessionMessages` and `useChat`. The browser tests in e2e/ drive it
// against the real worker, built at the starter's pinned versions and at the newest.
//
//   /?room=NAME&identity=ID&type=text|voice-ptt|voice-vad
import { useCallback, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { RoomAudioRenderer, SessionProvider, useSession } from '@livekit/components-react';
import { TokenSource } from 'livekit-client';

import { useAgentErrors } from './agent-errors';
import { isSessionType } from './agent-session';
import { probe } from './probe';
import { SessionView } from './session-view';

const params = new URLSearchParams(location.search);
const room = params.get('room') ?? `hooks-${Math.random().toString(36).slice(2, 8)}`;
const identity = params.get('identity') ?? `user-${Math.random().toString(36).slice(2, 8)}`;
const requested = params.get('type');
const wantedType = isSessionType(requested) ? requested : null;

/** The page's endpoint (clients/web/server.py) mints the token. */
const tokenSource = TokenSource.custom(async () => {
  const query = new URLSearchParams({ room, identity });
  const res = await fetch(`/api/token?${query}`);
  if (!res.ok) throw new Error(`the token endpoint answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { url: string; token: string };
  return { serverUrl: body.url, participantToken: body.token };
});

function AppSetup({ onFailure }: { onFailure: (reasons: string[]) => void }) {
  useAgentErrors(onFailure);
  return null;
}

function App() {
  const session = useSession(tokenSource);
  const [ended, setEnded] = useState<string[] | null>(null);
  const onFailure = useCallback((reasons: string[]) => setEnded(reasons), []);
  const start = useMemo(
    () => () => {
      probe.startedAt = Date.now();
      setEnded(null);
      // As the starter's "Start call": the microphone on, with the pre-connect buffer.
      session.start().catch((err: unknown) => probe.notes.push(`start: ${String(err)}`));
    },
    [session],
  );
  return (
    <SessionProvider session={session}>
      <AppSetup onFailure={onFailure} />
      <h1>components-react agent hooks ({probe.build})</h1>
      <p>
        room <code data-testid="room">{room}</code>, connection{' '}
        <code data-testid="connection">{session.connectionState}</code>
      </p>
      {ended && (
        <p className="failure" data-testid="failure">
          Session ended: {ended.join('; ')}
        </p>
      )}
      {session.isConnected ? (
        <SessionView wantedType={wantedType} />
      ) : (
        <button type="button" onClick={start}>
          Start call
        </button>
      )}
      <RoomAudioRenderer />
    </SessionProvider>
  );
}

createRoot(document.getElementById('root')!).render(<App />);
