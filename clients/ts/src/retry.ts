// When a command whose reply was lost is sent again, or read back (docs/protocol.md 6.4).
import type { SessionSyncError } from './errors.js';
import { REPEATABLE_METHODS } from './generated/index.js';

/** First wait before a command is sent again; it doubles each time, up to `RETRY_MAX_DELAY_MS`. */
export const RETRY_FIRST_DELAY_MS = 250;
export const RETRY_MAX_DELAY_MS = 2_000;

/**
 * A command worth sending again: running it twice leaves the session as once, and LiveKit
 * lost its reply on the way (1501, 1502, 1503, 1505). The app's own full reconnect is the
 * common cause: the SDK forgets every participant, and with them the replies it awaited
 * (1503), though the agent never left.
 */
export function worthRetrying(error: SessionSyncError): boolean {
  return REPEATABLE_METHODS.has(error.method) && error.replyLost;
}

/** Backoff schedule: the delay before each further send, or null once `deadline` would pass. */
export class Backoff {
  private delay = RETRY_FIRST_DELAY_MS;

  constructor(private readonly deadline: number) {}

  next(now = Date.now()): number | null {
    const delay = this.delay;
    if (now + delay > this.deadline) return null;
    this.delay = Math.min(delay * 2, RETRY_MAX_DELAY_MS);
    return delay;
  }

  get remaining(): number {
    return Math.max(0, this.deadline - Date.now());
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
