// `tsc --strict` check (npm run typecheck): the types the client gives an app are
// assignable to the seed's, copied below verbatim from session-synchronization.md (renamed
// Seed*). scripts/check-seed-samples.mjs checks the agent's real messages against them too.
// Nothing here runs; a mismatch is a compile error.
import type {
  SessionConfig,
  SessionSyncEvent,
  SessionValidationResult,
  WireSessionConfig,
} from '../../src/index.js';

// ---- the seed's declarations (src/types/message.types.ts of the app) ----------------

export type SessionType = 'text' | 'voice-ptt' | 'voice-vad' | null;
export type SessionState = 'idle' | 'active' | 'ending' | 'syncing' | 'error';

export interface SeedSessionConfig {
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

export interface SeedLiveKitRoomConfig {
  sessionId: string;
  sessionType: SessionType;
  turnDetection: 'server' | 'client' | 'none';
  voiceActivityEnabled: boolean;
  adaptiveStream: boolean;
  dynacast: boolean;
  audioSettings: {
    echoCancellation: boolean;
    noiseSuppression: boolean;
    autoGainControl: boolean;
  };
}

export interface SeedSessionSyncEvent {
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
export interface SeedSessionValidationResult {
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
// Each line below is an error today. When the agent's models change so that one is not,
// tsc reports the unused directive and the conversion in src/decode.ts can go.

export function wireDifferences(w: WireSessionConfig): void {
  // @ts-expect-error the agent sends times as ISO strings; the seed has Date
  const startedAt: SeedSessionConfig['startedAt'] = w.startedAt;
  // @ts-expect-error the agent sends an ISO string where the seed has an optional Date
  const lastSyncAt: SeedSessionConfig['lastSyncAt'] = w.lastSyncAt;
  void [startedAt, lastSyncAt];
}

// The wire form itself, everything but the times, is what the seed declares: no `null`
// where the seed has an optional field.
export function wireIsSeedButTimes(
  config: WireSessionConfig,
): Omit<SeedSessionConfig, 'startedAt' | 'lastSyncAt'> {
  return config;
}

/**
 * What `JSON.parse` gives for a value of type `T` that was sent with `JSON.stringify`: a
 * `Date` becomes its ISO string, everything else keeps its type. The samples the agent sends
 * are checked against `JsonForm` of the seed's types (test/seed-samples).
 */
export type JsonForm<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? JsonForm<U>[]
    : T extends object
      ? { [K in keyof T]: JsonForm<T[K]> }
      : T;
