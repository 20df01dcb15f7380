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
  id: string | null;
  method: string;
  result: SessionConfig | Snapshot | ValidationResult;
  v: number;
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
  voiceMode: ('push-to-talk' | 'continuous') | null;
  isMuted: boolean;
  turnDetection: 'server' | 'client' | 'none';
  roomId: string | null;
  lastSyncAt: string | null;
  syncAttempts: number;
  inconsistencyDetected: boolean;
  voiceActivityEnabled: boolean;
}
export interface Snapshot {
  type: 'snapshot';
  seq: number;
  session: SessionConfig;
  roomConfig: StoredRoomConfig | null;
  pushToTalk: boolean;
  syncEnabled: boolean;
  v: number;
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
  corrections: {
    [k: string]: unknown | undefined;
  };
  needsResync: boolean;
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
  id: string | null;
  method: string | null;
  error: ErrorBody;
  v: number;
}
export interface EventPayload {
  sessionId: string;
  frontendState: SessionConfig;
  roomState: {
    [k: string]: unknown | undefined;
  } | null;
  timestamp: number;
  trigger: string;
  detail: string | null;
}
export interface NoParams {}
/**
 * A command sent as a data message on the `session-sync` topic.
 */
export interface RequestEnvelope {
  type: 'request';
  id: string;
  method: string;
  params?: {
    [k: string]: unknown | undefined;
  };
  v?: number;
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
  v: number;
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
