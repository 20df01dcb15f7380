import type { SessionSyncEvent, SessionValidationResult } from './types.js';

/** A validation pass of the agent, as its events tell it. */
export interface ValidationPass {
  result: SessionValidationResult;
  /** When the agent checked (its clock, from the event). */
  at: Date;
  /** What ran it: `initial`, `periodic`, or a `session.sync` trigger. */
  trigger: string;
}

/** The timer's passes: each ends with one `session_state_sync` with this trigger once the
 * agent announces clean passes too (docs/protocol.md 7.2). */
const TIMER_TRIGGERS: ReadonlySet<string> = new Set(['initial', 'periodic']);

/**
 * Follows the agent's validation passes through its events: a pass that finds something sends
 * one `session_inconsistency` per finding (trigger `"<pass>:<check>"`) and then one
 * `session_state_sync` with the pass's trigger; a clean timer pass, when announced, sends only
 * the latter. Pure: feed it the events in order.
 */
export class ValidationFromEvents {
  private findings: string[] = [];
  private passTrigger: string | null = null;

  /** The pass this event completes, or `null`. */
  next(event: SessionSyncEvent): ValidationPass | null {
    if (event.source !== 'agent') return null;
    const { trigger } = event.payload;
    if (event.type === 'session_inconsistency') {
      const pass = trigger.slice(0, Math.max(0, trigger.lastIndexOf(':'))) || trigger;
      if (pass !== this.passTrigger) this.findings = [];
      this.passTrigger = pass;
      this.findings.push(event.payload.detail ?? trigger);
      return null;
    }
    if (event.type !== 'session_state_sync') return null;
    const ends = trigger === this.passTrigger || (TIMER_TRIGGERS.has(trigger) && this.passTrigger === null);
    if (!ends) return null;
    const inconsistencies = trigger === this.passTrigger ? this.findings : [];
    this.findings = [];
    this.passTrigger = null;
    return {
      result: {
        isValid: inconsistencies.length === 0,
        inconsistencies,
        corrections: {},
        needsResync: inconsistencies.length > 0,
      },
      at: new Date(event.payload.timestamp),
      trigger,
    };
  }
}
