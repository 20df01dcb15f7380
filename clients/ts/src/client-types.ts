import type {
  AgentInfo,
  SessionConfig,
  SessionSnapshot,
  SessionSyncEvent,
  SessionSyncState,
  SessionValidationResult,
} from './types.js';
import type { SessionSyncMethod } from './generated/index.js';

export interface SessionSyncOptions {
  /**
   * Follow only the agent with this identity. The participant must still be an agent
   * (`ParticipantKind.AGENT`); without it the first agent in the room is followed, preferring
   * one that publishes `session.protocol`.
   */
  agentIdentity?: string;
  /** How long a command waits for the agent's reply, in ms (LiveKit clamps it to ≥ 8000). */
  responseTimeout?: number;
  /** Delay before a failed snapshot is asked for again, in ms. */
  resyncRetryDelay?: number;
  /**
   * For how long (ms) a command whose reply was lost is not given up on, with backoff, each
   * time once the link is up and an agent is followed (protocol 6.4): a repeatable one is
   * sent again; one that cannot be repeated (`session.start`, `session.end`,
   * `session.ptt_end`, `session.ptt_cancel`) is read back from a snapshot, whose session is
   * the result if it shows the command ran, and sent again if not. 0: never (the error is
   * thrown, its `replyLost` set, and the session read again).
   */
  retryWindow?: number;
}

/** Events of a `SessionSync`, in livekit-client's style (`session.on(SessionSyncClientEvent.X, …)`). */
export enum SessionSyncClientEvent {
  /** One of the seed's four session-sync events, from the agent or made by this client. */
  SessionSync = 'sessionSync',
  /** The agent's session changed (a new revision, another agent, or none). */
  SessionChanged = 'sessionChanged',
  /** Anything in `getState()` changed. */
  StateChanged = 'stateChanged',
  /** Another agent participant is followed, or none. */
  AgentChanged = 'agentChanged',
  /** A snapshot was applied. */
  Resynced = 'resynced',
}

export type SessionSyncClientCallbacks = {
  sessionSync: (event: SessionSyncEvent) => void;
  sessionChanged: (session: SessionConfig | null, previous: SessionConfig | null) => void;
  stateChanged: (state: SessionSyncState) => void;
  agentChanged: (agent: AgentInfo | null) => void;
  resynced: (snapshot: SessionSnapshot, reason: string) => void;
};

/** What each command resolves with, in the app's form. */
export type CommandResult<M extends SessionSyncMethod> = M extends 'session.snapshot'
  ? SessionSnapshot
  : M extends 'session.validate'
    ? SessionValidationResult
    : SessionConfig;
