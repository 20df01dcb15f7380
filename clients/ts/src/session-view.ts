import { ATTRIBUTES } from './generated/index.js';
import type * as wire from './generated/index.js';
import type { SessionSyncClientCallbacks } from './client-types.js';
import { SessionSyncClientEvent } from './client-types.js';
import { isWireSessionConfig, parseJson, toRoomState, toSessionConfig, toSnapshot } from './decode.js';
import type {
  AgentInfo,
  SessionConfig,
  SessionSnapshot,
  SessionSyncEvent,
  SessionSyncEventType,
  SessionSyncState,
  WireSessionConfig,
} from './types.js';

const INITIAL_STATE: SessionSyncState = {
  session: null,
  wire: null,
  seq: null,
  pushToTalk: false,
  syncEnabled: null,
  roomConfig: null,
  agent: null,
  connection: 'disconnected',
  roomState: null,
  agentListening: null,
  lastValidation: null,
  resyncing: false,
  reconnects: 0,
  gaps: 0,
};

/** How far back delivered seqs are remembered, to drop duplicates. */
const SEQ_MEMORY = 512;

export type Emit = <K extends keyof SessionSyncClientCallbacks>(
  event: K,
  ...args: Parameters<SessionSyncClientCallbacks[K]>
) => void;

/**
 * What the client knows of the agent's session, and the protocol's convergence rules that
 * keep it: events in `seq` order, duplicates and stale copies dropped, a session never back
 * to an older `revision` of the same agent. Room events and commands feed it; it asks for a
 * snapshot (`needSnapshot`) when events were lost or the sync setting changed.
 */
export class SessionView {
  private current: SessionSyncState = INITIAL_STATE;
  private readonly delivered = new Set<number>();
  private lastKnownSession: SessionConfig | null = null;

  constructor(
    private readonly emit: Emit,
    private readonly needSnapshot: (reason: 'gap' | 'sync_enabled_changed') => void,
  ) {}

  /** Everything the client knows, as one immutable value (a new object on every change). */
  get state(): SessionSyncState {
    return this.current;
  }

  /** A new agent starts again at seq 1: forget which seqs the last one delivered. */
  forgetSeqs(): void {
    this.delivered.clear();
  }

  /** The highest seq delivered, 0 for none. */
  highestDelivered(): number {
    return Math.max(0, ...this.delivered);
  }

  /** Replace the session if `next` is newer (or the first); true if it was applied. */
  applySession(next: WireSessionConfig, agent: AgentInfo): boolean {
    if (this.state.agent?.sid !== agent.sid) return false;
    const held = this.state.wire;
    if (held && next.revision <= held.revision) return false;
    const previous = this.state.session;
    const session = toSessionConfig(next);
    this.update({ wire: next, session });
    this.emit(SessionSyncClientEvent.SessionChanged, session, previous);
    return true;
  }

  applyAttributes(attributes: Readonly<Record<string, string>>, agent: AgentInfo): void {
    const raw = attributes[ATTRIBUTES.config];
    if (raw !== undefined) {
      const config = parseJson(raw);
      if (isWireSessionConfig(config)) {
        const applied = this.applySession(config, agent);
        // The press state belongs to the revision it was published with.
        if (applied || config.revision === this.state.wire?.revision) {
          const ptt = attributes[ATTRIBUTES.pushToTalk];
          if (ptt !== undefined) this.update({ pushToTalk: ptt === 'pressed' });
        }
      }
    }
  }

  applyEvent(event: wire.SessionSyncEvent, agent: AgentInfo): void {
    const lastSeq = this.state.seq;
    const { seq } = event;
    if (this.delivered.has(seq) || (lastSeq !== null && seq <= lastSeq)) {
      // A duplicate, or an event already covered by a snapshot: nothing new.
      if (lastSeq !== null && seq === lastSeq + 1) this.advanceSeq(seq);
      return;
    }
    this.applySession(event.payload.frontendState, agent);
    const roomState = toRoomState(event.payload.roomState);
    this.update({
      roomState: roomState ?? this.state.roomState,
      agentListening: roomState?.audioInputEnabled ?? this.state.agentListening,
    });
    this.remember(seq);
    // The event says the setting was touched, not its value: read it (protocol 7.4).
    if (event.type === 'session_state_sync' && event.payload.trigger === 'session.set_sync_enabled') {
      this.needSnapshot('sync_enabled_changed');
    }
    if (lastSeq !== null && seq === lastSeq + 1) {
      this.advanceSeq(seq);
    } else if (lastSeq !== null) {
      // Events were lost (or are late): the snapshot says where to continue.
      this.update({ gaps: this.state.gaps + 1 });
      this.needSnapshot('gap');
    }
    this.deliver({
      type: event.type,
      seq,
      source: 'agent',
      payload: {
        sessionId: event.payload.sessionId,
        frontendState: toSessionConfig(event.payload.frontendState),
        ...(roomState ? { roomState } : {}),
        timestamp: event.payload.timestamp,
        trigger: event.payload.trigger,
        ...(event.payload.detail != null ? { detail: event.payload.detail } : {}),
      },
    });
  }

  applySnapshot(message: wire.Snapshot, reason: string): SessionSnapshot {
    const agent = this.state.agent;
    const snapshot = toSnapshot(message);
    if (!agent) return snapshot;
    this.applySession(message.session, agent);
    if (message.session.revision >= (this.state.wire?.revision ?? 0)) {
      this.update({ pushToTalk: message.pushToTalk });
    }
    this.update({
      syncEnabled: message.syncEnabled,
      roomConfig: message.roomConfig ?? null,
    });
    this.advanceSeq(Math.max(message.seq, this.state.seq ?? 0));
    this.emit(SessionSyncClientEvent.Resynced, snapshot, reason);
    return snapshot;
  }

  /** Move `seq` to `to`, then over any later events already delivered out of order. */
  private advanceSeq(to: number): void {
    let seq = to;
    while (this.delivered.has(seq + 1)) seq += 1;
    if (seq !== this.state.seq) this.update({ seq });
    for (const old of this.delivered) if (old < seq - SEQ_MEMORY) this.delivered.delete(old);
  }

  private remember(seq: number): void {
    this.delivered.add(seq);
  }

  private deliver(event: SessionSyncEvent): void {
    this.emit(SessionSyncClientEvent.SessionSync, event);
  }

  emitClientEvent(type: SessionSyncEventType, trigger: string): void {
    // A full reconnect forgets the agent before it reports the interruption: the last
    // session known still says what was interrupted.
    const session = this.state.session ?? this.lastKnownSession;
    if (!session) return;
    this.deliver({
      type,
      seq: null,
      source: 'client',
      payload: {
        sessionId: session.sessionId,
        frontendState: session,
        timestamp: Date.now(),
        trigger,
      },
    });
  }

  update(patch: Partial<SessionSyncState>): void {
    let changed = false;
    for (const key of Object.keys(patch) as Array<keyof SessionSyncState>) {
      if (this.state[key] !== patch[key]) {
        changed = true;
        break;
      }
    }
    if (!changed) return;
    this.current = { ...this.current, ...patch };
    if (this.state.session) this.lastKnownSession = this.state.session;
    this.emit(SessionSyncClientEvent.StateChanged, this.state);
  }
}
