/* eslint-disable */
// Generated from docs/schema/session-sync.schema.json by scripts/gen_contract.py. Do not edit.

/** Any message on the session-sync data topic. */
export type SessionSyncMessage = SessionSyncEvent | Snapshot | Ack | ErrorReply | RequestEnvelope;

export type ErrorCode =
  | 'malformed'
  | 'unknown_type'
  | 'unsupported_version'
  | 'unknown_method'
  | 'invalid_params'
  | 'forbidden'
  | 'invalid_transition'
  | 'wrong_session_type'
  | 'payload_too_large'
  | 'rate_limited'
  | 'unavailable'
  | 'busy'
  | 'internal';

export interface Ack {
  type: 'ack';
  id: string;
  method:
    | 'session.start'
    | 'session.switch'
    | 'session.end'
    | 'session.set_muted'
    | 'session.ptt_start'
    | 'session.ptt_end'
    | 'session.ptt_cancel'
    | 'session.snapshot'
    | 'session.validate'
    | 'session.sync'
    | 'session.set_sync_enabled';
  result: SessionConfig | Snapshot | ValidationResult;
  v: 1;
}
/**
 * The seed's `SessionConfig`, plus the session id and a revision that grows on every change.
 */
export interface SessionConfig {
  sessionId: string;
  revision: number;
  type: ('text' | 'voice-ptt' | 'voice-vad') | null;
  state: 'idle' | 'active' | 'syncing' | 'ending' | 'error';
  startedAt: string | null;
  voiceMode?: 'push-to-talk' | 'continuous';
  isMuted: boolean;
  turnDetection: 'server' | 'client' | 'none';
  roomId?: string;
  lastSyncAt?: string;
  syncAttempts: number;
  inconsistencyDetected: boolean;
  voiceActivityEnabled: boolean;
}
export interface Snapshot {
  type: 'snapshot';
  seq: number;
  session: SessionConfig;
  roomConfig?: StoredRoomConfig;
  pushToTalk: boolean;
  syncEnabled: boolean;
  v: 1;
}
/**
 * The seed's `LiveKitRoomConfig`: what the frontend applies to its own connection.
 */
export interface StoredRoomConfig {
  sessionId: string;
  sessionType: ('text' | 'voice-ptt' | 'voice-vad') | null;
  turnDetection: 'server' | 'client' | 'none';
  voiceActivityEnabled: boolean;
  adaptiveStream: boolean;
  dynacast: boolean;
  audioSettings: StoredAudioSettings;
}
export interface StoredAudioSettings {
  echoCancellation: boolean;
  noiseSuppression: boolean;
  autoGainControl: boolean;
}
/**
 * The seed's `SessionValidationResult`.
 */
export interface ValidationResult {
  isValid: boolean;
  inconsistencies: string[];
  corrections: SessionCorrections;
  needsResync: boolean;
}
/**
 * The seed's `Partial<SessionConfig>`: only the fields a validation pass corrects (never
 * to `null`: an unset field is not a correction).
 */
export interface SessionCorrections {
  type?: 'text' | 'voice-ptt' | 'voice-vad';
  state?: 'idle' | 'active' | 'syncing' | 'ending' | 'error';
  startedAt?: string;
  voiceMode?: 'push-to-talk' | 'continuous';
  isMuted?: boolean;
  turnDetection?: 'server' | 'client' | 'none';
  roomId?: string;
  lastSyncAt?: string;
  syncAttempts?: number;
  inconsistencyDetected?: boolean;
  voiceActivityEnabled?: boolean;
}
export interface AudioSettings {
  echoCancellation?: boolean;
  noiseSuppression?: boolean;
  autoGainControl?: boolean;
}
export interface ErrorBody {
  code: ErrorCode;
  rpcCode: number;
  message: string;
  details: {
    [k: string]: unknown | undefined;
  };
}
export interface ErrorReply {
  type: 'error';
  id?: string;
  method?:
    | 'session.start'
    | 'session.switch'
    | 'session.end'
    | 'session.set_muted'
    | 'session.ptt_start'
    | 'session.ptt_end'
    | 'session.ptt_cancel'
    | 'session.snapshot'
    | 'session.validate'
    | 'session.sync'
    | 'session.set_sync_enabled';
  error: ErrorBody;
  v: 1;
}
export interface EventPayload {
  sessionId: string;
  frontendState: SessionConfig;
  roomState?: RoomState;
  timestamp: number;
  trigger: string;
  detail?: string;
}
/**
 * What the agent sees when it emits an event (`payload.roomState`): the room's name, its
 * own link, and, when it has turn-taking, what that turn-taking actually does.
 */
export interface RoomState {
  roomId: string;
  connectionState: 'disconnected' | 'connecting' | 'connected' | 'reconnecting';
  turnDetection?: 'server' | 'client' | 'none';
  audioInputEnabled?: boolean;
}
export interface NoParams {}
/**
 * A command sent as a data message on the `session-sync` topic.
 */
export interface RequestEnvelope {
  type: 'request';
  id: string;
  method:
    | 'session.start'
    | 'session.switch'
    | 'session.end'
    | 'session.set_muted'
    | 'session.ptt_start'
    | 'session.ptt_end'
    | 'session.ptt_cancel'
    | 'session.snapshot'
    | 'session.validate'
    | 'session.sync'
    | 'session.set_sync_enabled';
  params?: {
    [k: string]: unknown | undefined;
  };
  v?: 1;
}
/**
 * The seed's `LiveKitRoomConfig`: what the frontend applies to its own connection.
 */
export interface RoomConfig {
  sessionId: string;
  sessionType: ('text' | 'voice-ptt' | 'voice-vad') | null;
  turnDetection: 'server' | 'client' | 'none';
  voiceActivityEnabled: boolean;
  adaptiveStream?: boolean;
  dynacast?: boolean;
  audioSettings?: AudioSettings;
}
/**
 * The agent's participant attributes, every value a string, all set in one update per
 * change. `session.config` is the source of truth; the others are for filtering.
 */
export interface SessionAttributes {
  /**
   * The whole SessionConfig as compact JSON.
   */
  'session.config': string;
  'session.revision': string;
  'session.id': string;
  'session.type': ('text' | 'voice-ptt' | 'voice-vad') | 'none';
  'session.state': 'idle' | 'active' | 'syncing' | 'ending' | 'error';
  'session.turnDetection': 'server' | 'client' | 'none';
  'session.muted': 'true' | 'false';
  'session.pushToTalk': 'pressed' | 'released';
  'session.protocol': '1';
  /**
   * The highest event seq sent (or given up); above the app's lastSeq means events were lost.
   */
  'session.seq': string;
  /**
   * LiveKit Agents' own agent state, in every update where the agent runs an AgentSession (protocol 2.3).
   */
  'lk.agent.state'?: 'initializing' | 'idle' | 'listening' | 'thinking' | 'speaking';
}
/**
 * The seed's `SessionSyncEvent`, plus a per-agent sequence number and the protocol version.
 */
export interface SessionSyncEvent {
  type:
    | 'session_state_sync'
    | 'room_state_change'
    | 'connection_interruption'
    | 'session_inconsistency';
  seq: number;
  payload: EventPayload;
  v: 1;
}
export interface SetMutedParams {
  muted: boolean;
}
export interface SetSyncEnabledParams {
  enabled: boolean;
}
export interface StartSessionParams {
  sessionType: 'text' | 'voice-ptt' | 'voice-vad';
  sessionId?: string | null;
  roomConfig?: RoomConfig | null;
}
export interface SwitchSessionParams {
  sessionType: 'text' | 'voice-ptt' | 'voice-vad';
  roomConfig?: RoomConfig | null;
}
export interface SyncParams {
  trigger?: string;
}
