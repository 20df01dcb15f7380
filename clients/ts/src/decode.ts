// Reading what the agent sends: JSON checks on the way in, and the wire form turned into
// the app's form (ISO times to Date). Older agents sent the seed's optional fields as `null`
// instead of leaving them out; those are read as absent.
import type * as wire from './generated/index.js';
import { SESSION_STATES, SESSION_SYNC_EVENT_TYPES, SESSION_TYPES } from './generated/index.js';
import type {
  RoomState,
  SessionConfig,
  SessionSnapshot,
  SessionValidationResult,
  WireSessionConfig,
} from './types.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isStringOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';
/** An optional field: absent, `null` (older agents) or a string. */
const isOptionalString = (v: unknown): boolean => v === undefined || isStringOrNull(v);
const oneOf = <T extends string>(list: readonly T[], v: unknown): v is T =>
  typeof v === 'string' && (list as readonly string[]).includes(v);

export function parseJson(text: string | Uint8Array): unknown {
  try {
    return JSON.parse(typeof text === 'string' ? text : new TextDecoder().decode(text));
  } catch {
    return undefined;
  }
}

export function isWireSessionConfig(v: unknown): v is WireSessionConfig {
  return (
    isObject(v) &&
    typeof v.sessionId === 'string' &&
    isInt(v.revision) &&
    (v.type === null || oneOf(SESSION_TYPES, v.type)) &&
    oneOf(SESSION_STATES, v.state) &&
    isStringOrNull(v.startedAt) &&
    isOptionalString(v.lastSyncAt) &&
    isOptionalString(v.roomId) &&
    isOptionalString(v.voiceMode) &&
    typeof v.isMuted === 'boolean' &&
    typeof v.turnDetection === 'string'
  );
}

export function isWireEvent(v: unknown): v is wire.SessionSyncEvent {
  return (
    isObject(v) &&
    oneOf(SESSION_SYNC_EVENT_TYPES, v.type) &&
    isInt(v.seq) &&
    isObject(v.payload) &&
    isWireSessionConfig(v.payload.frontendState) &&
    typeof v.payload.trigger === 'string'
  );
}

export function isWireSnapshot(v: unknown): v is wire.Snapshot {
  return (
    isObject(v) &&
    (v.type === undefined || v.type === 'snapshot') &&
    isInt(v.seq) &&
    isWireSessionConfig(v.session) &&
    typeof v.pushToTalk === 'boolean'
  );
}

export function isWireValidationResult(v: unknown): v is wire.ValidationResult {
  return (
    isObject(v) &&
    typeof v.isValid === 'boolean' &&
    Array.isArray(v.inconsistencies) &&
    isObject(v.corrections)
  );
}

const toDate = (iso: string): Date => new Date(iso);

/** The agent's session in the app's form. */
export function toSessionConfig(w: WireSessionConfig): SessionConfig {
  const { voiceMode, roomId, lastSyncAt, startedAt, ...rest } = w;
  const out: SessionConfig = { ...rest, startedAt: startedAt === null ? null : toDate(startedAt) };
  // `!= null`: an older agent sent these as null.
  if (voiceMode != null) out.voiceMode = voiceMode;
  if (roomId != null) out.roomId = roomId;
  if (lastSyncAt != null) out.lastSyncAt = toDate(lastSyncAt);
  return out;
}

/** Only the fields of a `SessionConfig` a correction may name, in the app's form. */
export function toCorrections(c: wire.SessionCorrections): Partial<SessionConfig> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(c)) {
    if (value == null) continue; // an older agent could send null
    out[key] = (key === 'startedAt' || key === 'lastSyncAt') && typeof value === 'string' ? toDate(value) : value;
  }
  return out as Partial<SessionConfig>;
}

export function toValidationResult(w: wire.ValidationResult): SessionValidationResult {
  return {
    isValid: w.isValid,
    inconsistencies: [...w.inconsistencies],
    corrections: toCorrections(w.corrections),
    needsResync: w.needsResync,
  };
}

export function toSnapshot(w: wire.Snapshot): SessionSnapshot {
  return {
    seq: w.seq,
    session: toSessionConfig(w.session),
    roomConfig: w.roomConfig ?? null, // absent (older agents: null) when none is stored
    pushToTalk: w.pushToTalk,
    syncEnabled: w.syncEnabled,
  };
}

export function toRoomState(v: unknown): RoomState | undefined {
  if (!isObject(v) || typeof v.roomId !== 'string') return undefined;
  if (!oneOf(['connecting', 'connected', 'reconnecting', 'disconnected'] as const, v.connectionState)) {
    return undefined;
  }
  const out: RoomState = { roomId: v.roomId, connectionState: v.connectionState };
  if (oneOf(['server', 'client', 'none'] as const, v.turnDetection)) out.turnDetection = v.turnDetection;
  if (typeof v.audioInputEnabled === 'boolean') out.audioInputEnabled = v.audioInputEnabled;
  return out;
}
