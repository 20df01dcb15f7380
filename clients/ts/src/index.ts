export { SessionSync } from './client.js';
export { SessionSyncClientEvent } from './client-types.js';
export type { CommandResult, SessionSyncClientCallbacks, SessionSyncOptions } from './client-types.js';
export { SessionSyncError } from './errors.js';
export type { LiveKitRpcErrorCode, SessionSyncErrorCode, TransportErrorCode } from './errors.js';
export { toSessionConfig, toValidationResult } from './decode.js';
export { DATE_FIELDS } from './types.js';
export type {
  AgentConnectionState,
  AgentInfo,
  ConnectionStatus,
  ErrorCode,
  RoomConfig,
  RoomState,
  SessionConfig,
  SessionSnapshot,
  SessionState,
  SessionSyncEvent,
  SessionSyncEventSource,
  SessionSyncEventType,
  SessionSyncState,
  SessionType,
  SessionValidationResult,
  StoredRoomConfig,
  TurnDetection,
  VoiceMode,
  WireSessionConfig,
} from './types.js';
export {
  ATTRIBUTES,
  ERROR_RPC_CODES,
  MAX_PACKET_BYTES,
  PROTOCOL_VERSION,
  SESSION_STATES,
  SESSION_SYNC_EVENT_TYPES,
  SESSION_SYNC_METHODS,
  SESSION_SYNC_TOPIC,
  SESSION_TYPES,
} from './generated/index.js';
export type { ProtocolErrorCode, SessionSyncMethod, SessionSyncParams, SessionSyncResults } from './generated/index.js';
export type * as wire from './generated/messages.js';
