import { ParticipantKind, RoomEvent } from 'livekit-client';
import type { ConnectionState, Participant, RemoteParticipant, Room, RoomEventCallbacks } from 'livekit-client';

import type { CommandResult, SessionSyncOptions } from './client-types.js';
import { SessionSyncClientEvent } from './client-types.js';
import { SessionCommands } from './commands.js';
import { isWireEvent, isWireSessionConfig, isWireSnapshot, isWireValidationResult, parseJson } from './decode.js';
import { toSessionConfig, toSnapshot, toValidationResult } from './decode.js';
import { SessionSyncError } from './errors.js';
import { ranAccordingTo, readsBack } from './read-back.js';
import type { ReadBackMethod } from './read-back.js';
import { sendCommand, whenAgentReady } from './send-command.js';
import type { CommandReply } from './send-command.js';
import { ATTRIBUTES, SESSION_SYNC_TOPIC } from './generated/index.js';
import type { SessionSyncMethod, SessionSyncParams } from './generated/index.js';
import { chooseAgent, connectionOf, liveRecordId } from './room-agent.js';
import { SessionView } from './session-view.js';
import type { AgentInfo, SessionConfig, SessionSnapshot, SessionSyncEvent, SessionSyncState } from './types.js';

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
 * session.on(SessionSyncClientEvent.SessionSync, (event) => console.log(event.type, event.payload.trigger));
 * await session.startSession('voice-ptt');
 * ```
 */
export class SessionSync extends SessionCommands {
  readonly room: Room;
  private readonly options: Required<Omit<SessionSyncOptions, 'agentIdentity'>> &
    Pick<SessionSyncOptions, 'agentIdentity'>;
  private readonly view = new SessionView(
    (event, ...args) => {
      this.emit(event, ...args);
      if (event === SessionSyncClientEvent.SessionChanged) this.checkContinued();
    },
    (reason) => void this.resync(reason),
  );
  private snapshotInFlight: Promise<SessionSnapshot | null> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  /** Failed snapshots in a row: the retry delay doubles with each, up to 30 s. */
  private failedSnapshots = 0;
  private readonly unbind: Array<() => void> = [];
  private disposed = false;
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
      retryWindow: options.retryWindow ?? 20_000,
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
    this.view.update({ connection: connectionOf(room.state) });
    if (this.view.state.connection === 'connected') this.handleConnected();
  }

  // -- reading the session ------------------------------------------------------------

  /** The agent's session in the seed's `SessionConfig` shape, or `null` if there is none. */
  getSessionConfig(): SessionConfig | null {
    return this.view.state.session;
  }

  /** Everything the client knows, as one immutable value (a new object on every change). */
  getState(): SessionSyncState {
    return this.view.state;
  }

  /**
   * The seed's callback for every session-sync event: replaces the one set before, and
   * `null` removes it. Other listeners use `on(SessionSyncClientEvent.SessionSync, …)`.
   */
  setSessionSyncEventCallback(callback: ((event: SessionSyncEvent) => void) | null): void {
    if (this.seedCallback) this.off(SessionSyncClientEvent.SessionSync, this.seedCallback);
    this.seedCallback = callback ?? undefined;
    if (callback) this.on(SessionSyncClientEvent.SessionSync, callback);
  }
  private seedCallback: ((event: SessionSyncEvent) => void) | undefined;

  // -- commands (the typed ones are in SessionCommands) ----------------------------------

  /**
   * `session.set_sync_enabled`: turn the agent's periodic validation on or off. The agent
   * commits it as a new revision (protocol 7.4), so the result is a newer session.
   */
  async setSessionSyncEnabled(enabled: boolean): Promise<SessionConfig> {
    const session = await this.command('session.set_sync_enabled', { enabled });
    this.view.update({ syncEnabled: enabled });
    return session;
  }

  /**
   * Any command by name, with typed params and result. Results that carry the session are
   * applied at once (they are never older than what the client holds: revisions only grow).
   * The reply can arrive before the events the command caused (protocol 8.8): those are
   * then taken by `seq` as they come and never move the session back to their revision.
   */
  command<M extends SessionSyncMethod>(method: M, params: SessionSyncParams[M]): Promise<CommandResult<M>> {
    return this.send(method, params, this.options.retryWindow);
  }

  /** `command`, with a reply lost on the way sent again or read back for `retryWindow` ms. */
  private async send<M extends SessionSyncMethod>(
    method: M,
    params: SessionSyncParams[M],
    retryWindow: number,
  ): Promise<CommandResult<M>> {
    let agent = this.view.state.agent;
    if (!agent) {
      throw new SessionSyncError(method, 'no_agent', 'no agent participant in the room');
    }
    const { responseTimeout } = this.options;
    const payload = JSON.stringify(params ?? {});
    let reply: CommandReply;
    try {
      const send = { room: this.room, method, payload, responseTimeout, retryWindow, stopped: () => this.disposed };
      const agentReachable = (ms: number) => this.agentReachable(ms);
      const readBack = readsBack(method) ? (ms: number) => this.readBack(method, params, ms) : undefined;
      reply = await sendCommand({ ...send, agentReachable, readBack }, agent);
    } catch (err) {
      // The command may have run: read the session again rather than guess.
      if (err instanceof SessionSyncError && err.replyLost && method !== 'session.snapshot') void this.resync('reply_lost');
      throw err;
    }
    // Read back from a snapshot, which is applied already.
    if ('readBack' in reply) return reply.readBack as CommandResult<M>;
    const response = reply.response;
    agent = reply.agent;
    const result = parseJson(response);
    if (method === 'session.snapshot') {
      if (!isWireSnapshot(result)) throw this.badResponse(method, response);
      if (this.view.state.agent?.sid !== agent.sid) return toSnapshot(result) as CommandResult<M>;
      return this.view.applySnapshot(result, 'requested') as CommandResult<M>;
    }
    if (method === 'session.validate') {
      if (!isWireValidationResult(result)) throw this.badResponse(method, response);
      const validation = toValidationResult(result);
      this.view.update({ lastValidation: { result: validation, at: new Date() } });
      return validation as CommandResult<M>;
    }
    if (!isWireSessionConfig(result)) throw this.badResponse(method, response);
    if (this.view.state.agent?.sid === agent.sid) this.view.applySession(result, agent);
    return toSessionConfig(result) as CommandResult<M>;
  }

  /** The session a snapshot shows `method` left, if it shows that the command ran. */
  private async readBack<M extends ReadBackMethod>(
    method: M,
    params: SessionSyncParams[M],
    ms: number,
  ): Promise<SessionConfig | null> {
    const snapshot = await this.send('session.snapshot', {}, ms);
    return ranAccordingTo(method, params, snapshot) ? snapshot.session : null;
  }

  /** The agent followed, once this client's link is up and it follows one; null after `ms`. */
  private agentReachable(ms: number): Promise<AgentInfo | null> {
    const ready = () => (!this.disposed && this.view.state.connection === 'connected' ? this.view.state.agent : null);
    if (this.disposed) return Promise.resolve(null);
    return whenAgentReady(ready, (check) => {
      this.on(SessionSyncClientEvent.StateChanged, check);
      return () => this.off(SessionSyncClientEvent.StateChanged, check);
    }, ms);
  }

  /** Ask the agent for a snapshot now (also done on every gap, reconnect and new agent). */
  resync(reason = 'manual'): Promise<SessionSnapshot | null> {
    if (this.snapshotInFlight) return this.snapshotInFlight;
    if (!this.view.state.agent || this.view.state.connection !== 'connected') return Promise.resolve(null);
    this.view.update({ resyncing: true });
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
    this.removeAllListeners();
  }

  // -- room events ----------------------------------------------------------------------

  /** Listen to `event` with a handler of livekit-client's type for it, until `dispose()`. */
  private bind<E extends keyof RoomEventCallbacks>(event: E, handler: RoomEventCallbacks[E]): void {
    // `bind` cannot keep a generic function's type; the handler's was checked above.
    const fn = (handler as (...args: never[]) => void).bind(this) as RoomEventCallbacks[E];
    this.room.on(event, fn);
    this.unbind.push(() => this.room.off(event, fn));
  }

  private handleConnected(): void {
    this.view.update({ connection: 'connected' });
    this.selectAgent();
    void this.resync('connected');
  }

  private handleConnectionState(state: ConnectionState): void {
    const connection = connectionOf(state);
    if (connection === 'reconnecting') this.handleReconnecting();
    else this.view.update({ connection });
  }

  private handleReconnecting(): void {
    if (this.interrupted) return;
    this.interrupted = true;
    this.view.update({ connection: 'reconnecting' });
    this.view.emitClientEvent('connection_interruption', 'client:reconnecting');
  }

  private handleReconnected(): void {
    this.interrupted = false;
    this.view.update({ connection: 'connected', reconnects: this.view.state.reconnects + 1 });
    this.view.emitClientEvent('room_state_change', 'client:reconnected');
    this.selectAgent();
    // Events may have been missed while the link was down.
    void this.resync('reconnected');
  }

  private handleDisconnected(): void {
    this.interrupted = false;
    this.replacing = null;
    this.view.update({ connection: 'disconnected' });
    this.view.emitClientEvent('connection_interruption', 'client:disconnected');
    this.setAgent(null);
  }

  private handleParticipantConnected(participant: RemoteParticipant): void {
    if (participant.kind === ParticipantKind.AGENT) this.selectAgent();
  }

  private handleParticipantDisconnected(participant: RemoteParticipant): void {
    if (participant.identity !== this.view.state.agent?.identity) return;
    const session = this.view.state.session;
    if (session && session.state !== 'idle' && liveRecordId(this.room.metadata) === session.sessionId) {
      // Its session is still live in the room's record: a new agent continues it (protocol
      // 8.7). The app sees an interruption, not the session going away.
      this.replacing = session.sessionId;
      this.view.emitClientEvent('connection_interruption', 'client:agent_reconnecting');
    } else {
      this.view.emitClientEvent('room_state_change', 'client:agent_left');
    }
    this.setAgent(null);
    this.selectAgent();
  }

  private handleAttributesChanged(changed: Record<string, string>, participant: Participant): void {
    if (participant.kind !== ParticipantKind.AGENT) return;
    if (!this.view.state.agent || ATTRIBUTES.protocol in changed) this.selectAgent();
    const agent = this.view.state.agent;
    // Another agent's attributes are not this session's.
    if (!agent || participant.identity !== agent.identity) return;
    this.view.applyAttributes(participant.attributes ?? changed, agent);
  }

  private handleData(payload: Uint8Array, participant?: RemoteParticipant, _kind?: unknown, topic?: string): void {
    if (topic !== SESSION_SYNC_TOPIC || !participant || participant.kind !== ParticipantKind.AGENT) return;
    // After a full reconnect, the agent's data can arrive before the client has been told
    // the agent is (back) in the room.
    if (!this.view.state.agent) this.selectAgent();
    const agent = this.view.state.agent;
    if (!agent || participant.identity !== agent.identity) return;
    const message = parseJson(payload);
    if (isWireEvent(message)) {
      this.view.applyEvent(message, agent);
    } else if (isWireSnapshot(message) && (message as { type?: string }).type === 'snapshot') {
      this.view.applySnapshot(message, 'published');
    }
    // ack/error replies are for data requests, which this client does not send.
  }

  // -- the agent participant ------------------------------------------------------------

  private selectAgent(): void {
    // `setAgent` keeps the agent followed when it is the one chosen.
    this.setAgent(chooseAgent(this.room.remoteParticipants.values(), this.view.state.agent, this.options.agentIdentity));
  }

  private setAgent(participant: RemoteParticipant | null): void {
    const previous = this.view.state.agent;
    const agent = participant ? { identity: participant.identity, sid: participant.sid } : null;
    if (previous?.identity === agent?.identity && previous?.sid === agent?.sid) return;
    // A new agent starts again at seq 1 and revision 1: forget what the last one said. A
    // session being continued is kept: its next agent publishes it above every revision seen.
    this.view.forgetSeqs();
    this.failedSnapshots = 0;
    this.snapshotInFlight = null;
    const prevSession = this.view.state.session;
    const kept = this.replacing !== null;
    this.view.update({
      agent,
      session: kept ? prevSession : null,
      wire: kept ? this.view.state.wire : null,
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
      this.view.applyAttributes(participant.attributes ?? {}, agent);
      if (this.view.state.connection === 'connected') void this.resync('agent_changed');
    }
    if (prevSession !== this.view.state.session) {
      this.emit(SessionSyncClientEvent.SessionChanged, this.view.state.session, prevSession);
    }
  }

  /** A new agent's first session ends a replacement: the same session going on, or not. */
  private checkContinued(): void {
    const session = this.view.state.session;
    if (this.replacing === null || !this.view.state.agent || !session) return;
    const continued = session.sessionId === this.replacing;
    this.replacing = null;
    if (continued) this.view.emitClientEvent('room_state_change', 'client:agent_reconnected');
  }

  // -- convergence ----------------------------------------------------------------------

  private async takeSnapshot(reason: string): Promise<SessionSnapshot | null> {
    const agent = this.view.state.agent;
    try {
      const result = await this.command('session.snapshot', {});
      if (this.view.state.agent?.sid !== agent?.sid) return null;
      this.failedSnapshots = 0;
      this.view.update({ resyncing: false });
      this.view.emitClientEvent('session_state_sync', `client:resync:${reason}`);
      // An event past the snapshot may have been seen already while a gap stays open.
      const highest = this.view.highestDelivered();
      if (this.view.state.seq !== null && highest > this.view.state.seq) this.scheduleRetry(reason);
      return result;
    } catch {
      if (this.view.state.agent?.sid === agent?.sid) {
        this.failedSnapshots += 1;
        this.view.update({ resyncing: false });
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

  private badResponse(method: SessionSyncMethod, response: string): SessionSyncError {
    return new SessionSyncError(method, 'bad_response', `unreadable reply to ${method}: ${response.slice(0, 200)}`);
  }
}
