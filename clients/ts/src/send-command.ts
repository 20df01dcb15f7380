// Sending one command to the agent over RPC, and sending it again while LiveKit lost its
// reply and the window allows (docs/protocol.md 6.4): a repeatable one at once, one that
// cannot be repeated only once a snapshot shows it did not run. `SessionSync` owns what it
// reads.
import type { Room } from 'livekit-client';

import { SessionSyncError } from './errors.js';
import type { SessionSyncMethod } from './generated/index.js';
import { Backoff, sleep, worthRetrying } from './retry.js';
import type { AgentInfo, SessionConfig } from './types.js';

export interface CommandSend {
  room: Room;
  method: SessionSyncMethod;
  payload: string;
  responseTimeout: number;
  /** How long, from the first send, a command whose reply was lost is sent again. */
  retryWindow: number;
  /** The client was disposed: send nothing again. */
  stopped(): boolean;
  /** The agent to send to again once it can be reached; null once `ms` have passed. */
  agentReachable(ms: number): Promise<AgentInfo | null>;
  /**
   * For a command that cannot be repeated: a snapshot's session if it shows the command ran,
   * null if it shows it did not; taken within `ms`, and rejected if none could be.
   */
  readBack?(ms: number): Promise<SessionConfig | null>;
}

/**
 * The agent's reply and the agent that gave it (a retry may reach it after a reconnect); or,
 * for a command whose reply was lost, the session a snapshot showed it left.
 */
export type CommandReply = { response: string; agent: AgentInfo } | { readBack: SessionConfig };

/** Send `send.method` to `agent`, again while worth it; throws the last error otherwise. */
export async function sendCommand(send: CommandSend, agent: AgentInfo): Promise<CommandReply> {
  const backoff = new Backoff(Date.now() + send.retryWindow);
  for (;;) {
    try {
      const response = await send.room.localParticipant.performRpc({
        destinationIdentity: agent.identity,
        method: send.method,
        payload: send.payload,
        responseTimeout: send.responseTimeout,
      });
      return { response, agent };
    } catch (err) {
      const error = SessionSyncError.fromRpc(send.method, err);
      const readBack = send.readBack && error.replyLost ? send.readBack.bind(send) : null;
      const delay = (worthRetrying(error) || readBack) && !send.stopped() ? backoff.next() : null;
      const back = delay === null ? null : await sleep(delay).then(() => send.agentReachable(backoff.remaining));
      if (!back) throw error;
      agent = back;
      if (readBack) {
        // Without a snapshot nothing says whether it ran: the lost reply is the answer.
        const session = await readBack(backoff.remaining).catch(() => undefined);
        if (session === undefined || send.stopped()) throw error;
        if (session) return { readBack: session };
      }
    }
  }
}

/**
 * `ready()`'s agent as soon as it gives one, checked again on every change `subscribe`
 * reports; null after `ms`. `subscribe` returns the function that stops the reports.
 */
export function whenAgentReady(
  ready: () => AgentInfo | null,
  subscribe: (check: () => void) => () => void,
  ms: number,
): Promise<AgentInfo | null> {
  const now = ready();
  if (now) return Promise.resolve(now);
  return new Promise((resolve) => {
    const done = (agent: AgentInfo | null) => {
      clearTimeout(timer);
      unsubscribe();
      resolve(agent);
    };
    const unsubscribe = subscribe(() => {
      const agent = ready();
      if (agent) done(agent);
    });
    const timer = setTimeout(() => done(null), ms);
  });
}
