// `tsc --strict` check (npm run typecheck): the types the client gives an app are
// assignable to the seed's, copied below verbatim from session-synchronization.md.
// Nothing here runs; a mismatch is a compile error.
import type {
  SessionConfig,
  SessionSyncEvent,
  SessionValidationResult,
  WireSessionConfig,
} from '../../src/index.js';

// ---- the seed's declarations (src/types/message.types.ts of the app) ----------------

type SessionType = 'text' | 'voice-ptt' | 'voice-vad' | null;
type SessionState = 'idle' | 'active' | 'ending' | 'syncing' | 'error';

interface SeedSessionConfig {
  type: SessionType; // 'text' | 'voice-ptt' | 'voice-vad' | null
  state: SessionState; // 'idle' | 'active' | 'ending' | 'syncing' | 'error'
  startedAt: Date | null;
  voiceMode?: 'push-to-talk' | 'continuous';
  isMuted?: boolean;
  turnDetection?: 'server' | 'client' | 'none';

  // Synchronization fields
  roomId?: string;
  lastSyncAt?: Date;
  syncAttempts?: number;
  inconsistencyDetected?: boolean;
  voiceActivityEnabled?: boolean;
}

interface SeedSessionSyncEvent {
  type: 'session_state_sync' | 'room_state_change' | 'connection_interruption' | 'session_inconsistency';
  payload: {
    sessionId: string;
    frontendState: SeedSessionConfig;
    roomState?: Partial<SeedSessionConfig>;
    timestamp: number;
    trigger: string;
  };
}

// The seed uses this type without declaring it; its fields are those `validateSessionState`
// returns in the seed.
interface SeedSessionValidationResult {
  isValid: boolean;
  inconsistencies: string[];
  corrections: Partial<SeedSessionConfig>;
  needsResync: boolean;
}

// ---- the checks ---------------------------------------------------------------------

type Assignable<From, To> = [From] extends [To] ? true : false;
const expectTrue = <T extends true>(_: T): void => undefined;

expectTrue<Assignable<SessionConfig, SeedSessionConfig>>(true);
expectTrue<Assignable<SessionSyncEvent, SeedSessionSyncEvent>>(true);
expectTrue<Assignable<SessionValidationResult, SeedSessionValidationResult>>(true);

// Assignment in both directions of use: an app passes the client's values where its own
// code expects the seed's types.
export function asSeed(
  config: SessionConfig,
  event: SessionSyncEvent,
  validation: SessionValidationResult,
): [SeedSessionConfig, SeedSessionSyncEvent, SeedSessionValidationResult] {
  return [config, event, validation];
}

// ---- where the wire form differs from the seed (what the client converts) ------------
// Each line below is an error today. When the agent's models change so that one is not
// (e.g. `voiceMode` left out instead of sent as null), tsc reports the unused directive and
// the conversion in src/decode.ts can go.

export function wireDifferences(w: WireSessionConfig): void {
  // @ts-expect-error the agent sends times as ISO strings; the seed has Date
  const startedAt: SeedSessionConfig['startedAt'] = w.startedAt;
  // @ts-expect-error the agent sends null where the seed leaves voiceMode out
  const voiceMode: SeedSessionConfig['voiceMode'] = w.voiceMode;
  // @ts-expect-error the agent sends null where the seed leaves roomId out
  const roomId: SeedSessionConfig['roomId'] = w.roomId;
  // @ts-expect-error the agent sends null (or an ISO string) where the seed has an optional Date
  const lastSyncAt: SeedSessionConfig['lastSyncAt'] = w.lastSyncAt;
  void [startedAt, voiceMode, roomId, lastSyncAt];
}
