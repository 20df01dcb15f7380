import { RpcError } from 'livekit-client';

import { ERROR_RPC_CODES, REPLY_LOST_RPC_CODES } from './generated/index.js';
import type { ProtocolErrorCode, SessionSyncMethod } from './generated/index.js';

/** LiveKit's own RPC errors, livekit-client's `RpcError.ErrorCode` names in lower case. */
export type LiveKitRpcErrorCode = Lowercase<keyof typeof RpcError.ErrorCode>;

/**
 * Codes for failures outside the agent's protocol: no agent to call, LiveKit's own RPC
 * errors, or a reply the client could not read.
 */
export type TransportErrorCode = 'no_agent' | LiveKitRpcErrorCode | 'bad_response' | 'livekit_error';

export type SessionSyncErrorCode = ProtocolErrorCode | TransportErrorCode;

const LIVEKIT_CODES = new Map<number, TransportErrorCode>(
  Object.entries(RpcError.ErrorCode).map(([name, code]) => [code, name.toLowerCase() as LiveKitRpcErrorCode]),
);

const PROTOCOL_BY_RPC = new Map<number, ProtocolErrorCode>(
  Object.entries(ERROR_RPC_CODES).map(([code, rpc]) => [rpc, code as ProtocolErrorCode]),
);

/** A command that failed: refused by the agent (a protocol code) or lost on the way. */
export class SessionSyncError extends Error {
  override readonly name = 'SessionSyncError';
  /** The protocol's error code (`invalid_transition`, …) or a transport code. */
  readonly code: SessionSyncErrorCode;
  /** The RPC error code (2400-2503 from the agent, `RpcError.ErrorCode` from LiveKit); null if none. */
  readonly rpcCode: number | null;
  /** The agent's `details` (`problems`, `state`, `allowed`, …); `{}` when there are none. */
  readonly details: Record<string, unknown>;
  readonly method: SessionSyncMethod;

  constructor(
    method: SessionSyncMethod,
    code: SessionSyncErrorCode,
    message: string,
    rpcCode: number | null = null,
    details: Record<string, unknown> = {},
  ) {
    super(message);
    this.method = method;
    this.code = code;
    this.rpcCode = rpcCode;
    this.details = details;
  }

  /** True when the agent refused the command: the session was left as it was. */
  get isProtocolError(): boolean {
    return this.code in ERROR_RPC_CODES;
  }

  /**
   * True when LiveKit lost the command or its reply (1501, 1502, 1503, 1505): it may or may
   * not have run, so read the session again. A reply too large (1504) is final.
   */
  get replyLost(): boolean {
    return this.rpcCode !== null && REPLY_LOST_RPC_CODES.has(this.rpcCode);
  }

  /** From an error thrown by `performRpc`. */
  static fromRpc(method: SessionSyncMethod, err: unknown): SessionSyncError {
    const e = err as { code?: unknown; message?: unknown; data?: unknown };
    const rpcCode = typeof e?.code === 'number' ? e.code : null;
    const message = typeof e?.message === 'string' ? e.message : String(err);
    let details: Record<string, unknown> = {};
    if (typeof e?.data === 'string' && e.data) {
      try {
        const parsed: unknown = JSON.parse(e.data);
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
          details = parsed as Record<string, unknown>;
        }
      } catch {
        details = { data: e.data };
      }
    }
    const code: SessionSyncErrorCode =
      (rpcCode !== null && (PROTOCOL_BY_RPC.get(rpcCode) ?? LIVEKIT_CODES.get(rpcCode))) || 'livekit_error';
    return new SessionSyncError(method, code, message, rpcCode, details);
  }
}
