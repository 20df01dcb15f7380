// The session as an app uses it, derived from the wire types generated from the agent's
// models (./generated). Derived rather than written out, so a change to the models shows
// up here, and in the seed-compatibility check (test/contract), as a type error.
import type * as wire from './generated/index.js';

export type WireSessionConfig = wire.SessionConfig;
export type SessionType = NonNullable<wire.SessionConfig['type']>;
export type SessionState = wire.SessionConfig['state'];
export type TurnDetection = wire.SessionConfig['turnDetection'];
export type VoiceMode = NonNullable<wire.SessionConfig['voiceMode']>;
export type SessionSyncEventType = wire.SessionSyncEvent['type'];
export type RoomConfig = wire.RoomConfig;
export type StoredRoomConfig = wire.StoredRoomConfig;
export type ErrorCode = wire.ErrorCode;

/** Wire fields that carry an ISO 8601 time; the client turns them into `Date`. */
export const DATE_FIELDS = ['startedAt', 'lastSyncAt'] as const;
type DateField = (typeof DATE_FIELDS)[number];

type AppValue<K, V> = K extends DateField ? Date | Exclude<V, string> : V;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/**
 * The agent's session in the seed's shape: `startedAt`/`lastSyncAt` are `Date`s; the fields
 * the seed declares optional (`voiceMode`, `roomId`, `lastSyncAt`) are absent when they have
 * no value, as on the wire. Plus `sessionId` and `revision`.
 */
export type SessionConfig = Simplify<{
  [K in keyof WireSessionConfig]: AppValue<K, WireSessionConfig[K]>;
}>;

/** The agent's own link, as `payload.roomState.connectionState` reports it. */
export type AgentConnectionState = wire.RoomState['connectionState'];

/** What the agent sees when it emits an event (`payload.roomState`). */
export type RoomState = wire.RoomState;

/** Where an event came from: the agent, or this client noticing its own connection change. */
export type SessionSyncEventSource = 'agent' | 'client';

/**
 * One of the seed's four session-sync events. Events from the agent carry its `seq`;
 * events the client makes (its own link interrupted or restored, the agent joining or
 * leaving) have `seq: null` and `source: 'client'`.
 */
export interface SessionSyncEvent {
  type: SessionSyncEventType;
  seq: number | null;
  source: SessionSyncEventSource;
  payload: Simplify<Omit<wire.EventPayload, 'frontendState'> & { frontendState: SessionConfig }>;
}

/** The seed's `SessionValidationResult`, as `session.validate` returns it. */
export type SessionValidationResult = Simplify<
  Omit<wire.ValidationResult, 'corrections'> & { corrections: Partial<SessionConfig> }
>;

/** A snapshot of the agent's session (`session.snapshot`), in the app's form. */
export type SessionSnapshot = Simplify<
  Omit<wire.Snapshot, 'session' | 'roomConfig' | 'type' | 'v'> & {
    session: SessionConfig;
    roomConfig: StoredRoomConfig | null;
  }
>;

/** The client's own connection to the room. */
export type ConnectionStatus = 'disconnected' | 'connecting' | 'connected' | 'reconnecting';

export interface AgentInfo {
  identity: string;
  sid: string;
}

/**
 * Everything the client knows, as one immutable value. A new object is made on every
 * change, so it can be compared by reference (`useSyncExternalStore`, signals, stores).
 */
export interface SessionSyncState {
  /** The agent's session; `null` until an agent with a session is found. */
  session: SessionConfig | null;
  /** The same session as the agent sent it. */
  wire: WireSessionConfig | null;
  /** The seq of the last event applied in order (or of the last snapshot). */
  seq: number | null;
  /** Push-to-talk held, as the agent knows it. */
  pushToTalk: boolean;
  /** The agent's periodic validation, from the last snapshot. */
  syncEnabled: boolean | null;
  /** The stored room config, from the last snapshot. */
  roomConfig: StoredRoomConfig | null;
  /** The agent participant followed, found by its kind. */
  agent: AgentInfo | null;
  /** This client's connection to the room. */
  connection: ConnectionStatus;
  /** What the agent saw in its latest event. */
  roomState: RoomState | null;
  /** Whether the agent listens to the user's audio, from its latest event. */
  agentListening: boolean | null;
  /**
   * The agent's last validation and when it ran: a `session.validate` result, or a pass its
   * events told of (one that corrected something, or a clean timer pass it announced).
   */
  lastValidation: { result: SessionValidationResult; at: Date } | null;
  /** A snapshot has been asked for and not yet applied. */
  resyncing: boolean;
  /** Times this client's link came back after an interruption. */
  reconnects: number;
  /** Times the client had to take a snapshot because events were missing. */
  gaps: number;
}
