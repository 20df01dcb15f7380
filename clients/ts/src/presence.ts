import { ConnectionState, ParticipantKind, RoomEvent } from 'livekit-client';
import type { RemoteParticipant, Room } from 'livekit-client';

import { TypedEmitter } from './emitter.js';
import type { AgentInfo } from './types.js';

/**
 * Whether an agent is in the room: `waiting` (none has joined since this client connected),
 * `present`, or `gone` (one was here and left, and none has taken its place).
 */
export type AgentPresenceStatus = 'waiting' | 'present' | 'gone';

export interface AgentPresenceState {
  status: AgentPresenceStatus;
  /** The agent in the room, when `present`. */
  agent: AgentInfo | null;
  /** When the status last changed. */
  since: Date;
  /**
   * Until when an agent is expected while `waiting` or `gone` (connected only); `null` when one
   * is present or this client is not connected.
   */
  deadline: Date | null;
  /** The deadline passed with no agent: the app should say so (and may dispatch one again). */
  overdue: boolean;
}

export interface AgentPresenceOptions {
  /** How long to wait for an agent before `overdue`, in ms (default 30 s). */
  deadlineMs?: number;
  /** Only an agent with this identity counts. */
  agentIdentity?: string;
}

export type AgentPresenceCallbacks = {
  changed: (state: AgentPresenceState) => void;
};

/**
 * Follows whether the room has an agent, with a deadline: an app can say plainly that no agent
 * has joined (rather than show an empty session forever) and act on it.
 *
 * ```ts
 * const presence = new AgentPresence(room, { deadlineMs: 20_000 });
 * presence.on('changed', (p) => p.overdue && showNoAgentHelp());
 * ```
 */
export class AgentPresence extends TypedEmitter<AgentPresenceCallbacks> {
  private state: AgentPresenceState;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly unbind: Array<() => void> = [];
  private readonly deadlineMs: number;
  private hadAgent = false;

  constructor(
    private readonly room: Room,
    private readonly options: AgentPresenceOptions = {},
  ) {
    super();
    this.deadlineMs = options.deadlineMs ?? 30_000;
    this.state = { status: 'waiting', agent: null, since: new Date(), deadline: null, overdue: false };
    const refresh = () => this.refresh();
    for (const event of [
      RoomEvent.Connected,
      RoomEvent.Reconnected,
      RoomEvent.Disconnected,
      RoomEvent.ParticipantConnected,
      RoomEvent.ParticipantDisconnected,
    ]) {
      room.on(event, refresh);
      this.unbind.push(() => room.off(event, refresh));
    }
    this.refresh();
  }

  getState(): AgentPresenceState {
    return this.state;
  }

  /** For `useSyncExternalStore(presence.subscribe, presence.getState)`. */
  subscribe = (listener: () => void): (() => void) => {
    this.on('changed', listener);
    return () => this.off('changed', listener);
  };

  /** Wait another full deadline (after dispatching an agent again, say). */
  extendDeadline(): void {
    if (this.state.status === 'present' || this.state.deadline === null) return;
    this.set({ ...this.state, deadline: new Date(Date.now() + this.deadlineMs), overdue: false });
  }

  dispose(): void {
    for (const off of this.unbind.splice(0)) off();
    this.clearTimer();
    this.removeAllListeners();
  }

  private refresh(): void {
    const connected = this.room.state === ConnectionState.Connected;
    const agent = connected ? this.findAgent() : undefined;
    if (agent) {
      this.hadAgent = true;
      const same = this.state.agent?.sid === agent.sid && this.state.status === 'present';
      if (!same) {
        this.set({
          status: 'present',
          agent: { identity: agent.identity, sid: agent.sid },
          since: new Date(),
          deadline: null,
          overdue: false,
        });
      }
      return;
    }
    const status: AgentPresenceStatus = this.hadAgent ? 'gone' : 'waiting';
    if (!connected) {
      if (this.state.deadline !== null || this.state.status === 'present') {
        this.set({ status, agent: null, since: new Date(), deadline: null, overdue: false });
      }
      return;
    }
    if (this.state.status === status && this.state.deadline !== null) return; // already counting
    this.set({ status, agent: null, since: new Date(), deadline: new Date(Date.now() + this.deadlineMs), overdue: false });
  }

  private findAgent(): RemoteParticipant | undefined {
    return [...this.room.remoteParticipants.values()].find(
      (p) =>
        p.kind === ParticipantKind.AGENT &&
        (this.options.agentIdentity === undefined || p.identity === this.options.agentIdentity),
    );
  }

  private set(next: AgentPresenceState): void {
    this.state = next;
    this.clearTimer();
    if (next.deadline && !next.overdue) {
      this.timer = setTimeout(
        () => {
          this.timer = null;
          if (this.state === next) this.set({ ...next, overdue: true });
        },
        Math.max(0, next.deadline.getTime() - Date.now()),
      );
    }
    this.emit('changed', next);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
