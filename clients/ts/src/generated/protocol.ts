/* eslint-disable */
// Generated from docs/schema/protocol.json by scripts/gen_contract.py. Do not edit.

import type { NoParams, SessionConfig, SetMutedParams, SetSyncEnabledParams, Snapshot, StartSessionParams, SwitchSessionParams, SyncParams, ValidationResult } from './messages.js';

export const PROTOCOL_VERSION = 1;
export const SESSION_SYNC_TOPIC = 'session-sync';
export const MAX_PACKET_BYTES = 15360;

/** Every command, with the params it takes and what it returns. */
export interface SessionSyncParams {
  'session.start': StartSessionParams;
  'session.switch': SwitchSessionParams;
  'session.end': NoParams;
  'session.set_muted': SetMutedParams;
  'session.ptt_start': NoParams;
  'session.ptt_end': NoParams;
  'session.ptt_cancel': NoParams;
  'session.snapshot': NoParams;
  'session.validate': NoParams;
  'session.sync': SyncParams;
  'session.set_sync_enabled': SetSyncEnabledParams;
}

export interface SessionSyncResults {
  'session.start': SessionConfig;
  'session.switch': SessionConfig;
  'session.end': SessionConfig;
  'session.set_muted': SessionConfig;
  'session.ptt_start': SessionConfig;
  'session.ptt_end': SessionConfig;
  'session.ptt_cancel': SessionConfig;
  'session.snapshot': Snapshot;
  'session.validate': ValidationResult;
  'session.sync': SessionConfig;
  'session.set_sync_enabled': SessionConfig;
}

export type SessionSyncMethod = keyof SessionSyncParams;

export const SESSION_SYNC_METHODS = [
  'session.start',
  'session.switch',
  'session.end',
  'session.set_muted',
  'session.ptt_start',
  'session.ptt_end',
  'session.ptt_cancel',
  'session.snapshot',
  'session.validate',
  'session.sync',
  'session.set_sync_enabled',
] as const satisfies readonly SessionSyncMethod[];

/** Commands that leave the session as they found it when run again: safe to resend. */
export const REPEATABLE_METHODS: ReadonlySet<SessionSyncMethod> = new Set([
  'session.switch',
  'session.set_muted',
  'session.ptt_start',
  'session.snapshot',
  'session.validate',
  'session.sync',
  'session.set_sync_enabled',
]);

/** LiveKit RPC codes after which a command may or may not have run: its reply was lost. */
export const REPLY_LOST_RPC_CODES: ReadonlySet<number> = new Set([
  1501,
  1502,
  1503,
  1505,
]);

export const SESSION_SYNC_EVENT_TYPES = [
  'session_state_sync',
  'room_state_change',
  'connection_interruption',
  'session_inconsistency',
] as const;

/** The string code of each protocol error and the RPC code it is sent with. */
export const ERROR_RPC_CODES = {
  malformed: 2400,
  unknown_type: 2405,
  unsupported_version: 2426,
  unknown_method: 2404,
  invalid_params: 2422,
  forbidden: 2403,
  invalid_transition: 2409,
  wrong_session_type: 2412,
  payload_too_large: 2413,
  rate_limited: 2429,
  unavailable: 2501,
  busy: 2503,
  internal: 2500,
} as const;

export type ProtocolErrorCode = keyof typeof ERROR_RPC_CODES;

/** The participant attributes the agent publishes, and the one the app may set. */
export const ATTRIBUTES = {
  config: 'session.config',
  revision: 'session.revision',
  id: 'session.id',
  type: 'session.type',
  state: 'session.state',
  turnDetection: 'session.turnDetection',
  muted: 'session.muted',
  pushToTalk: 'session.pushToTalk',
  protocol: 'session.protocol',
  seq: 'session.seq',
  requestedType: 'session.requestedType',
} as const;

export const SESSION_TYPES = [
  'text',
  'voice-ptt',
  'voice-vad',
] as const;

export const SESSION_STATES = [
  'idle',
  'active',
  'syncing',
  'ending',
  'error',
] as const;
