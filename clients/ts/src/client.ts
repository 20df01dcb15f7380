import { ConnectionState, ParticipantKind, RoomEvent } from 'livekit-client';
import type { Participant, RemoteParticipant, Room } from 'livekit-client';

import {
  isWireEvent,
  isWireSessionConfig,
  isWireSnapshot,
  isWireValidationResult,
  parseJson,
  toRoomState,
  toSessionConfig,
  toSnapshot,
  toValidationResult,
} from './decode.js';
import { TypedEmitter } from './emitter.js';
import { SessionSyncError } from './errors.js';
import type * as wire from './generated/index.js';
import { ATTRIBUTES, SESSION_SYNC_TOPIC } from './generated/index.js';
import type { SessionSyncMethod, SessionSyncParams } from './generated/index.js';
import type {
  AgentInfo,
  ConnectionStatus,
  RoomConfig,
  SessionConfig,
  SessionSnapshot,
  SessionSyncEvent,
  SessionSyncEventType,
  SessionSyncState,
  SessionType,
  SessionValidationResult,
  WireSessionConfig,
} from './types.js';

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

/** The `sessionId` of the live session record in the room's metadata (protocol 8.7), if any. */
function liveRecordId(metadata: string | undefined): string | null {
  if (!metadata || !metadata.trimStart().startsWith('{')) return null;
  try {
    const record = (JSON.parse(metadata) as { sessionSync?: { sessionId?: unknown } }).sessionSync;
    return typeof record?.sessionId === 'string' ? record.sessionId : null;
  } catch {
    return null;
  }
}

function connectionOf(state: ConnectionState | string): ConnectionStatus {
  switch (state) {
    case ConnectionState.Connected:
      return 'connected';
    case ConnectionState.Connecting:
      return 'connecting';
    case ConnectionState.Reconnecting:
    case ConnectionState.SignalReconnecting:
      return 'reconnecting';
    default:
      return 'disconnected';
  }
}

/**
 * The agent's session in one LiveKit room, kept in step with the agent and with typed
 * methods for its commands (the seed's `LiveKitService`).
 *
 * The agent owns the session: this object follows the agent participant's `session.*`
 * attributes and its events on the `session-sync` topic, and asks for changes over RPC.
 * It applies the protocol's convergence rules: events are applied in `seq` order, a gap
 * (or a reconnect, or a new agent) takes a snapshot, duplicates and stale copies are
 * dropped, and a session never goes back to an older `revision` of the same agent.
 *
 * ```ts
 * const session = new SessionSync(room);
 * session.onSessionSync((event) => console.log(event.type, event.payload.trigger));
 * await session.startSession('voice-ptt');
 * ```
 */
export class SessionSync extends TypedEmitter<SessionSyncClientCallbacks> {
  readonly room: Room;
  private readonly options: Required<Omit<SessionSyncOptions, 'agentIdentity'>> &
    Pick<SessionSyncOptions, 'agentIdentity'>;
  private state: SessionSyncState = INITIAL_STATE;
  private readonly stateListeners = new Set<() => void>();
  private delivered = new Set<number>();
  private snapshotInFlight: Promise<SessionSnapshot | null> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  /** Failed snapshots in a row: the retry delay doubles with each, up to 30 s. */
  private failedSnapshots = 0;
  private readonly unbind: Array<() => void> = [];
  private disposed = false;
  private lastKnownSession: SessionConfig | null = null;
  /** This client's link is down (reconnecting) since the last interruption event. */
  private interrupted = false;
  /** The session whose agent left it live in the room's record, until another continues it. */
  private replacing: string | null = null;

  constructor(room: Room, options: SessionSyncOptions = {}) {
    super();
    this.room = room;
    this.options = {
      responseTimeout: options.responseTimeout ?? 10_000,
      resyncRetryDelay: options.resyncRetryDelay ?? 1_000,
      agentIdentity: options.agentIdentity,
    };
    this.bind(RoomEvent.Connected, this.handleConnected);
    this.bind(RoomEvent.ConnectionStateChanged, this.handleConnectionState);
    this.bind(RoomEvent.Reconnecting, this.handleReconnecting);
    this.bind(RoomEvent.SignalReconnecting, this.handleReconnecting);
    this.bind(RoomEvent.Reconnected, this.handleReconnected);
    this.bind(RoomEvent.Disconnected, this.handleDisconnected);
    this.bind(RoomEvent.ParticipantConnected, this.handleParticipantConnected);
    this.bind(RoomEvent.ParticipantDisconnected, this.handleParticipantDisconnected);
    this.bind(RoomEvent.ParticipantAttributesChanged, this.handleAttributesChanged);
    this.bind(RoomEvent.DataReceived, this.handleData);
    this.update({ connection: connectionOf(room.state) });
    if (this.state.connection === 'connected') this.handleConnected();
  }

  // -- reading the session ------------------------------------------------------------

  /** The agent's session in the seed's `SessionConfig` shape, or `null` if there is none. */
  getSessionConfig(): SessionConfig | null {
    return this.state.session;
  }

  /** Everything the client knows, as one immutable value (a new object on every change). */
  getState(): SessionSyncState {
    return this.state;
  }

  /**
   * Be told of every change of `getState()`; returns the function that stops it. Works with
   * React's `useSyncExternalStore(session.subscribe, session.getState)`.
   */
  subscribe = (listener: () => void): (() => void) => {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  };

  /** The seed's `setSessionSyncEventCallback`, returning a function that unsubscribes. */
  onSessionSync(callback: (event: SessionSyncEvent) => void): () => void {
    this.on(SessionSyncClientEvent.SessionSync, callback);
    return () => this.off(SessionSyncClientEvent.SessionSync, callback);
  }

  /** The seed's name for `onSessionSync`; replaces an earlier callback set this way. */
  setSessionSyncEventCallback(callback: ((event: SessionSyncEvent) => void) | null): void {
    this.seedCallbackOff?.();
    this.seedCallbackOff = callback ? this.onSessionSync(callback) : undefined;
  }
  private seedCallbackOff: (() => void) | undefined;

  // -- commands -------------------------------------------------------------------------

  /** `session.start`: start a session of this type (there must be no live session). */
  startSession(
    sessionType: SessionType,
    options: { sessionId?: string; roomConfig?: RoomConfig } = {},
  ): Promise<SessionConfig> {
    return this.command('session.start', { sessionType, ...options });
  }

  /** `session.switch`: change the type of the live session. */
  switchSession(sessionType: SessionType, options: { roomConfig?: RoomConfig } = {}): Promise<SessionConfig> {
    return this.command('session.switch', { sessionType, ...options });
  }

  /** `session.end`: end the session (back to `idle`). */
  endSession(): Promise<SessionConfig> {
    return this.command('session.end', {});
  }

  /** `session.set_muted`: stop (or resume) the agent listening in a voice session. */
  setMuted(muted: boolean): Promise<SessionConfig> {
    return this.command('session.set_muted', { muted });
  }

  /** `session.ptt_start`: the push-to-talk button is pressed (voice-ptt only). */
  startPushToTalk(): Promise<SessionConfig> {
    return this.command('session.ptt_start', {});
  }

  /** `session.ptt_end`: the button is released; what was said is answered. */
  endPushToTalk(): Promise<SessionConfig> {
    return this.command('session.ptt_end', {});
  }

  /** `session.ptt_cancel`: the press is aborted; what was said is dropped. */
  cancelPushToTalk(): Promise<SessionConfig> {
    return this.command('session.ptt_cancel', {});
  }

  /** `session.validate`: the agent checks (and corrects) the session now. */
  validateSessionState(): Promise<SessionValidationResult> {
    return this.command('session.validate', {});
  }

  /** `session.sync`: a validation pass, then one `session_state_sync` with this trigger. */
  syncSessionState(trigger = 'manual'): Promise<SessionConfig> {
    return this.command('session.sync', { trigger });
  }

  /** `session.set_sync_enabled`: turn the agent's periodic validation on or off. */
  async setSessionSyncEnabled(enabled: boolean): Promise<SessionConfig> {
    const session = await this.command('session.set_sync_enabled', { enabled });
    this.update({ syncEnabled: enabled });
    return session;
  }

  /** `session.snapshot`: read the whole session from the agent and apply it. */
  async snapshot(): Promise<SessionSnapshot> {
    return this.command('session.snapshot', {});
  }

  /**
   * The seed's `setSessionConfig`: ask the agent for the session described (the agent owns
   * it, so this sends the commands that lead there and resolves with the agent's result).
   */
  async setSessionConfig(config: Pick<Partial<SessionConfig>, 'type' | 'state' | 'isMuted'>): Promise<SessionConfig | null> {
    let current = this.state.session;
    const live = current !== null && current.type !== null && (current.state === 'active' || current.state === 'syncing');
    if (config.type === null || config.state === 'ending' || config.state === 'idle') {
      return current && !(current.type === null && current.state === 'idle') ? this.endSession() : current;
    }
    if (config.type !== undefined && config.type !== current?.type) {
      current = live ? await this.switchSession(config.type) : await this.startSession(config.type);
    }
    if (config.isMuted !== undefined && config.isMuted !== current?.isMuted) {
      current = await this.setMuted(config.isMuted);
    }
    return current;
  }

  /**
   * Any command by name, with typed params and result. Results that carry the session are
   * applied at once (they are never older than what the client holds: revisions only grow).
   */
  async command<M extends SessionSyncMethod>(method: M, params: SessionSyncParams[M]): Promise<CommandResult<M>> {
    const agent = this.state.agent;
    if (!agent) {
      throw new SessionSyncError(method, 'no_agent', 'no agent participant in the room');
    }
    let response: string;
    try {
      response = await this.room.localParticipant.performRpc({
        destinationIdentity: agent.identity,
        method,
        payload: JSON.stringify(params ?? {}),
        responseTimeout: this.options.responseTimeout,
      });
    } catch (err) {
      const error = SessionSyncError.fromRpc(method, err);
      // The command may have run: read the session again rather than guess.
      if (error.replyLost && method !== 'session.snapshot') void this.resync('reply_lost');
      throw error;
    }
    const result = parseJson(response);
    if (method === 'session.snapshot') {
      if (!isWireSnapshot(result)) throw this.badResponse(method, response);
      if (this.state.agent?.sid !== agent.sid) return toSnapshot(result) as CommandResult<M>;
      return this.applySnapshot(result, 'requested') as CommandResult<M>;
    }
    if (method === 'session.validate') {
      if (!isWireValidationResult(result)) throw this.badResponse(method, response);
      const validation = toValidationResult(result);
      this.update({ lastValidation: { result: validation, at: new Date() } });
      return validation as CommandResult<M>;
    }
    if (!isWireSessionConfig(result)) throw this.badResponse(method, response);
    if (this.state.agent?.sid === agent.sid) this.applySession(result, agent);
    return toSessionConfig(result) as CommandResult<M>;
  }

  /** Ask the agent for a snapshot now (also done on every gap, reconnect and new agent). */
  resync(reason = 'manual'): Promise<SessionSnapshot | null> {
    if (this.snapshotInFlight) return this.snapshotInFlight;
    if (!this.state.agent || this.state.connection !== 'connected') return Promise.resolve(null);
    this.update({ resyncing: true });
    const attempt = this.takeSnapshot(reason).finally(() => {
      this.snapshotInFlight = null;
    });
    this.snapshotInFlight = attempt;
    return attempt;
  }

  /** Stop following the room. The room itself is left as it is. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const off of this.unbind.splice(0)) off();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.stateListeners.clear();
    this.removeAllListeners();
  }

  // -- room events ----------------------------------------------------------------------

  private bind<A extends unknown[]>(event: RoomEvent, handler: (...args: A) => void): void {
    const fn = handler.bind(this) as (...args: unknown[]) => void;
    const room = this.room as unknown as {
      on(e: string, f: (...args: unknown[]) => void): unknown;
      off(e: string, f: (...args: unknown[]) => void): unknown;
    };
    room.on(event, fn);
    this.unbind.push(() => room.off(event, fn));
  }

  private handleConnected(): void {
    this.update({ connection: 'connected' });
    this.selectAgent();
    void this.resync('connected');
  }

  private handleConnectionState(state: ConnectionState): void {
    const connection = connectionOf(state);
    if (connection === 'reconnecting') this.handleReconnecting();
    else this.update({ connection });
  }

  private handleReconnecting(): void {
    if (this.interrupted) return;
    this.interrupted = true;
    this.update({ connection: 'reconnecting' });
    this.emitClientEvent('connection_interruption', 'client:reconnecting');
  }

  private handleReconnected(): void {
    this.interrupted = false;
    this.update({ connection: 'connected', reconnects: this.state.reconnects + 1 });
    this.emitClientEvent('room_state_change', 'client:reconnected');
    this.selectAgent();
    // Events may have been missed while the link was down.
    void this.resync('reconnected');
  }

  private handleDisconnected(): void {
    this.interrupted = false;
    this.replacing = null;
    this.update({ connection: 'disconnected' });
    this.emitClientEvent('connection_interruption', 'client:disconnected');
    this.setAgent(null);
  }

  private handleParticipantConnected(participant: RemoteParticipant): void {
    if (participant.kind === ParticipantKind.AGENT) this.selectAgent();
  }

  private handleParticipantDisconnected(participant: RemoteParticipant): void {
    if (participant.identity !== this.state.agent?.identity) return;
    const session = this.state.session;
    if (session && session.state !== 'idle' && liveRecordId(this.room.metadata) === session.sessionId) {
      // Its session is still live in the room's record: a new agent continues it (protocol
      // 8.7). The app sees an interruption, not the session going away.
      this.replacing = session.sessionId;
      this.emitClientEvent('connection_interruption', 'client:agent_reconnecting');
      this.setAgent(null);
    } else {
      this.replacing = null;
      this.emitClientEvent('room_state_change', 'client:agent_left');
      this.setAgent(null);
    }
    this.selectAgent();
  }

  private handleAttributesChanged(changed: Record<string, string>, participant: Participant): void {
    if (participant.kind !== ParticipantKind.AGENT) return;
    if (!this.state.agent || ATTRIBUTES.protocol in changed) this.selectAgent();
    const agent = this.state.agent;
    // Another agent's attributes are not this session's.
    if (!agent || participant.identity !== agent.identity) return;
    this.applyAttributes(participant.attributes ?? changed, agent);
  }

  private handleData(payload: Uint8Array, participant?: RemoteParticipant, _kind?: unknown, topic?: string): void {
    if (topic !== SESSION_SYNC_TOPIC || !participant || participant.kind !== ParticipantKind.AGENT) return;
    // After a full reconnect, the agent's data can arrive before the client has been told
    // the agent is (back) in the room.
    if (!this.state.agent) this.selectAgent();
    const agent = this.state.agent;
    if (!agent || participant.identity !== agent.identity) return;
    const message = parseJson(payload);
    if (isWireEvent(message)) {
      this.applyEvent(message, agent);
    } else if (isWireSnapshot(message) && (message as { type?: string }).type === 'snapshot') {
      this.applySnapshot(message, 'published');
    }
    // ack/error replies are for data requests, which this client does not send.
  }

  // -- the agent participant ------------------------------------------------------------

  private selectAgent(): void {
    const agents = [...this.room.remoteParticipants.values()].filter(
      (p) =>
        p.kind === ParticipantKind.AGENT &&
        (this.options.agentIdentity === undefined || p.identity === this.options.agentIdentity),
    );
    const current = this.state.agent;
    const stillHere = current && agents.find((p) => p.identity === current.identity && p.sid === current.sid);
    if (stillHere && ATTRIBUTES.protocol in (stillHere.attributes ?? {})) return;
    const chosen = agents.find((p) => ATTRIBUTES.protocol in (p.attributes ?? {})) ?? stillHere ?? agents[0];
    if (!chosen) {
      if (current) this.setAgent(null);
      return;
    }
    if (current && chosen.identity === current.identity && chosen.sid === current.sid) return;
    this.setAgent(chosen);
  }

  private setAgent(participant: RemoteParticipant | null): void {
    const previous = this.state.agent;
    const agent = participant ? { identity: participant.identity, sid: participant.sid } : null;
    if (previous?.identity === agent?.identity && previous?.sid === agent?.sid) return;
    // A new agent starts again at seq 1 and revision 1: forget what the last one said. A
    // session being continued is kept: its next agent publishes it above every revision seen.
    this.delivered.clear();
    this.failedSnapshots = 0;
    this.snapshotInFlight = null;
    const prevSession = this.state.session;
    const kept = this.replacing !== null;
    this.update({
      agent,
      session: kept ? this.state.session : null,
      wire: kept ? this.state.wire : null,
      seq: null,
      pushToTalk: false,
      syncEnabled: null,
      roomConfig: null,
      roomState: null,
      agentListening: null,
      resyncing: false,
    });
    this.emit(SessionSyncClientEvent.AgentChanged, agent);
    if (participant && agent) {
      this.applyAttributes(participant.attributes ?? {}, agent);
      if (this.state.connection === 'connected') void this.resync('agent_changed');
    }
    if (prevSession !== this.state.session) {
      this.emit(SessionSyncClientEvent.SessionChanged, this.state.session, prevSession);
    }
  }

  // -- convergence ----------------------------------------------------------------------

  /** Replace the session if `next` is newer (or the first); true if it was applied. */
  private applySession(next: WireSessionConfig, agent: AgentInfo): boolean {
    if (this.state.agent?.sid !== agent.sid) return false;
    const held = this.state.wire;
    if (held && next.revision <= held.revision) return false;
    const previous = this.state.session;
    const session = toSessionConfig(next);
    this.update({ wire: next, session });
    this.emit(SessionSyncClientEvent.SessionChanged, session, previous);
    if (this.replacing !== null) {
      const continued = this.replacing === next.sessionId;
      this.replacing = null;
      if (continued) this.emitClientEvent('room_state_change', 'client:agent_reconnected');
    }
    return true;
  }

  private applyAttributes(attributes: Readonly<Record<string, string>>, agent: AgentInfo): void {
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

  private applyEvent(event: wire.SessionSyncEvent, agent: AgentInfo): void {
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
    if (lastSeq !== null && seq === lastSeq + 1) {
      this.advanceSeq(seq);
    } else if (lastSeq !== null) {
      // Events were lost (or are late): the snapshot says where to continue.
      this.update({ gaps: this.state.gaps + 1 });
      void this.resync('gap');
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

  private applySnapshot(message: wire.Snapshot, reason: string): SessionSnapshot {
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

  private async takeSnapshot(reason: string): Promise<SessionSnapshot | null> {
    const agent = this.state.agent;
    try {
      const result = await this.command('session.snapshot', {});
      if (this.state.agent?.sid !== agent?.sid) return null;
      this.failedSnapshots = 0;
      this.update({ resyncing: false });
      this.emitClientEvent('session_state_sync', `client:resync:${reason}`);
      // An event past the snapshot may have been seen already while a gap stays open.
      const highest = Math.max(0, ...this.delivered);
      if (this.state.seq !== null && highest > this.state.seq) this.scheduleRetry(reason);
      return result;
    } catch {
      if (this.state.agent?.sid === agent?.sid) {
        this.failedSnapshots += 1;
        this.update({ resyncing: false });
        this.scheduleRetry(reason);
      }
      return null;
    }
  }

  private scheduleRetry(reason: string): void {
    if (this.retryTimer || this.disposed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.disposed) void this.resync(reason);
    }, Math.min(30_000, this.options.resyncRetryDelay * 2 ** Math.max(0, this.failedSnapshots - 1)));
  }

  // -- output ---------------------------------------------------------------------------

  private deliver(event: SessionSyncEvent): void {
    this.emit(SessionSyncClientEvent.SessionSync, event);
  }

  private emitClientEvent(type: SessionSyncEventType, trigger: string): void {
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

  private badResponse(method: SessionSyncMethod, response: string): SessionSyncError {
    return new SessionSyncError(method, 'bad_response', `unreadable reply to ${method}: ${response.slice(0, 200)}`);
  }

  private update(patch: Partial<SessionSyncState>): void {
    let changed = false;
    for (const key of Object.keys(patch) as Array<keyof SessionSyncState>) {
      if (this.state[key] !== patch[key]) {
        changed = true;
        break;
      }
    }
    if (!changed) return;
    this.state = { ...this.state, ...patch };
    if (this.state.session) this.lastKnownSession = this.state.session;
    for (const listener of [...this.stateListeners]) listener();
    this.emit(SessionSyncClientEvent.StateChanged, this.state);
  }
}

/** What each command resolves with, in the app's form. */
export type CommandResult<M extends SessionSyncMethod> = M extends 'session.snapshot'
  ? SessionSnapshot
  : M extends 'session.validate'
    ? SessionValidationResult
    : SessionConfig;
