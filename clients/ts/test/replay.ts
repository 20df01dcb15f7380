// Replays recorded agent traffic (fixtures/agent-traffic.json, made by the real plugin)
// into a FakeRoom, with the network's faults applied by the test: loss, duplication,
// reordering, the app's own link going down. The agent side answers `session.snapshot`
// with its true state at that point of the recording, as the real agent would.
import { readFileSync } from 'node:fs';

import { ParticipantKind, RpcError } from 'livekit-client';

import type { WireSessionConfig } from '../src/index.js';
import { FakeRoom } from './fake-room.js';

export interface Entry {
  step: string;
  kind: 'joined' | 'left' | 'attributes' | 'data' | 'rpc_result' | 'rpc_error' | 'connection';
  identity?: string;
  from?: string;
  changed?: Record<string, string>;
  message?: Record<string, unknown> & { type: string; seq?: number };
  method?: string;
  result?: unknown;
  code?: number;
  data?: string;
}

export const recording: { room: string; user: string; entries: Entry[] } = JSON.parse(
  readFileSync(new URL('./fixtures/agent-traffic.json', import.meta.url), 'utf8'),
);

/** What reaches the app: the entries the agent sent, minus the app's own RPC results. */
export function agentTraffic(filter: (e: Entry) => boolean = () => true): Entry[] {
  return recording.entries.filter((e) => e.kind !== 'rpc_result' && e.kind !== 'rpc_error' && filter(e));
}

export const isEvent = (e: Entry): boolean =>
  e.kind === 'data' && e.message !== undefined && typeof e.message.seq === 'number' && e.message.type !== 'snapshot';

export function configOf(e: Entry): WireSessionConfig | undefined {
  if (e.kind === 'attributes' && e.changed?.['session.config']) {
    return JSON.parse(e.changed['session.config']) as WireSessionConfig;
  }
  if (isEvent(e)) return (e.message as unknown as { payload: { frontendState: WireSessionConfig } }).payload.frontendState;
  return undefined;
}

/** The agent as the recording knows it: its state at the current position. */
export class AgentReplay {
  readonly room = new FakeRoom();
  /** The agent's true state: the latest commit and event it made, delivered or not. */
  truth = new Map<string, { config?: WireSessionConfig; seq: number; pushToTalk: boolean }>();
  snapshotRequests = 0;

  constructor() {
    this.room.rpcHandler = async ({ destinationIdentity, method }) => {
      const agent = this.truth.get(destinationIdentity);
      if (!this.room.remoteParticipants.has(destinationIdentity) || !agent?.config) {
        throw new RpcError(1401, 'recipient not found');
      }
      if (method === 'session.snapshot') {
        this.snapshotRequests += 1;
        return JSON.stringify({
          type: 'snapshot',
          seq: agent.seq,
          session: agent.config,
          roomConfig: null,
          pushToTalk: agent.pushToTalk,
          syncEnabled: true,
          v: 1,
        });
      }
      throw new RpcError(1400, 'method not recorded');
    };
  }

  /** The agent makes this entry (its true state moves on), whether or not it is delivered. */
  happen(e: Entry): void {
    const who = e.identity ?? e.from;
    if (!who) return;
    const agent = this.truth.get(who) ?? { seq: 0, pushToTalk: false };
    const config = configOf(e);
    if (config && (!agent.config || config.revision >= agent.config.revision)) agent.config = config;
    if (isEvent(e)) agent.seq = Math.max(agent.seq, e.message!.seq!);
    const ptt = e.changed?.['session.pushToTalk'];
    if (ptt) agent.pushToTalk = ptt === 'pressed';
    this.truth.set(who, agent);
  }

  /** Deliver this entry to the app. */
  deliver(e: Entry): void {
    switch (e.kind) {
      case 'joined':
        this.room.join(e.identity!, e.identity!.startsWith('agent') ? ParticipantKind.AGENT : ParticipantKind.STANDARD);
        break;
      case 'left':
        this.room.leave(e.identity!);
        break;
      case 'attributes':
        this.room.setAttributes(e.identity!, e.changed!);
        break;
      case 'data':
        this.room.sendData(e.from!, e.message);
        break;
      default:
        break;
    }
  }

  play(entries: Entry[], deliver: (e: Entry, i: number) => boolean = () => true): void {
    entries.forEach((e, i) => {
      this.happen(e);
      if (deliver(e, i)) this.deliver(e);
    });
  }
}

/** Let pending promise callbacks (RPC replies) run. */
export const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 0));
};
