// Commands whose reply LiveKit lost on the way (protocol 6.4): a repeatable one is sent
// again; one that cannot be repeated is read back from a snapshot and sent again only if
// the snapshot shows it did not run.
import { RoomEvent, RpcError } from 'livekit-client';
import type { PerformRpcParams } from 'livekit-client';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { REPEATABLE_METHODS, SESSION_SYNC_METHODS } from '../src/generated/index.js';
import { ranAccordingTo, readsBack } from '../src/read-back.js';
import { SessionSync, SessionSyncError } from '../src/index.js';
import type { SessionConfig, SessionSnapshot, SessionSyncOptions } from '../src/index.js';
import { AgentReplay, agentTraffic, flush, recording } from './replay.js';

let open: SessionSync[] = [];
afterEach(() => {
  open.forEach((s) => s.dispose());
  open = [];
});

/** A client following agent-1, its session at the end of `steps` (idle when there are none). */
async function withAgent(steps: string[] = [], options: SessionSyncOptions = {}) {
  const replay = new AgentReplay();
  replay.play(agentTraffic((e) => e.step === 'agent-1:join' || e.step === 'agent-1:start'));
  const session = new SessionSync(replay.room.asRoom(), { resyncRetryDelay: 5, ...options });
  open.push(session);
  for (const step of steps) replay.play(agentTraffic((e) => e.step === step));
  await flush();
  return { replay, session };
}

/** The agent runs the command of `step`, as recorded; the app gets its messages only if `deliver`. */
function run(replay: AgentReplay, step: string, deliver: boolean): string {
  replay.play(agentTraffic((e) => e.step === step), () => deliver);
  const reply = recording.entries.find((e) => e.kind === 'rpc_result' && e.step === step)!;
  return JSON.stringify(reply.result);
}

type Answer = (p: PerformRpcParams) => Promise<string>;

/** Every call of `method` goes to `handle` (with its index); the others to the agent as recorded. */
function intercept(replay: AgentReplay, method: string, handle: (p: PerformRpcParams, i: number, agent: Answer) => Promise<string>) {
  const answer = replay.room.rpcHandler;
  let calls = 0;
  replay.room.rpcHandler = (p) => (p.method === method ? handle(p, calls++, answer) : answer(p));
}

/** The SDK's full reconnect under a call: every participant forgotten, and the reply (1503). */
function fullReconnect(replay: AgentReplay): RpcError {
  const room = replay.room;
  const agent = room.remoteParticipants.get('agent-1')!;
  room.leave(agent.identity);
  room.reconnecting();
  setTimeout(() => {
    room.remoteParticipants.set(agent.identity, agent); // the same participant, back in view
    room.emit(RoomEvent.ParticipantConnected, agent);
    room.reconnected();
  }, 50);
  return new RpcError(1503, 'Recipient disconnected');
}

const sent = (replay: AgentReplay, method: string) => replay.room.rpcCalls.filter((c) => c.method === method);
const connectionTimeout = () => RpcError.builtIn('CONNECTION_TIMEOUT'); // 1501: no acknowledgement in 7 s
const failure = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as SessionSyncError);

describe('a command that cannot be repeated, its reply lost', () => {
  it('returns the idle session a snapshot shows when the end ran, and sends it once', async () => {
    const { replay, session } = await withAgent(['agent-1:start-text']);
    intercept(replay, 'session.end', async () => {
      run(replay, 'agent-1:end', false);
      throw RpcError.builtIn('RESPONSE_TIMEOUT');
    });
    const snapshots = replay.snapshotRequests;
    const ended = await session.endSession();
    expect([ended.type, ended.state, ended.revision]).toEqual([null, 'idle', 16]);
    expect(sent(replay, 'session.end')).toHaveLength(1);
    expect(replay.snapshotRequests).toBe(snapshots + 1);
    expect(session.getSessionConfig()?.revision).toBe(16);
  });

  it('sends an end again when a snapshot shows it never reached the agent', async () => {
    const { replay, session } = await withAgent(['agent-1:start-text']);
    intercept(replay, 'session.end', async (_p, i) => {
      if (i === 0) throw connectionTimeout(); // not delivered: the agent still runs the session
      return run(replay, 'agent-1:end', true);
    });
    const before = replay.room.rpcCalls.length;
    const ended = await session.endSession();
    expect([ended.type, ended.state, ended.revision]).toEqual([null, 'idle', 16]);
    const calls = replay.room.rpcCalls.slice(before).map((c) => c.method);
    expect(calls.slice(0, 3)).toEqual(['session.end', 'session.snapshot', 'session.end']);
    expect(sent(replay, 'session.end')).toHaveLength(2);
    expect(session.getSessionConfig()?.revision).toBe(16);
  });

  it('sends a start again when a snapshot shows the session still without the type asked for', async () => {
    const { replay, session } = await withAgent();
    intercept(replay, 'session.start', async (_p, i) => {
      if (i === 0) throw connectionTimeout();
      return run(replay, 'agent-1:start-text', true);
    });
    const started = await session.startSession('text');
    expect([started.type, started.state]).toEqual(['text', 'active']);
    expect(sent(replay, 'session.start').map((c) => JSON.parse(c.payload))).toEqual([
      { sessionType: 'text' },
      { sessionType: 'text' },
    ]);
  });

  it("reads back a start that ran when the app's own full reconnect lost its reply", async () => {
    const { replay, session } = await withAgent();
    intercept(replay, 'session.start', async () => {
      run(replay, 'agent-1:start-text', false);
      throw fullReconnect(replay);
    });
    const started = await session.startSession('text');
    expect([started.type, started.state, started.revision]).toEqual(['text', 'active', 3]);
    expect(sent(replay, 'session.start')).toHaveLength(1);
    expect(session.getState().connection).toBe('connected');
  });

  it('returns the released push-to-talk a snapshot shows when the release ran', async () => {
    const { replay, session } = await withAgent(['agent-1:start-text', 'agent-1:switch-ptt', 'agent-1:ptt-start']);
    expect(session.getState().pushToTalk).toBe(true);
    intercept(replay, 'session.ptt_end', async () => {
      run(replay, 'agent-1:ptt-end', false);
      throw RpcError.builtIn('RESPONSE_TIMEOUT');
    });
    const released = await session.endPushToTalk();
    expect(released.revision).toBe(7);
    expect(session.getState().pushToTalk).toBe(false);
    expect(sent(replay, 'session.ptt_end')).toHaveLength(1);
  });

  it('throws the lost reply at once and reads the session again when the retry window is 0', async () => {
    const { replay, session } = await withAgent(['agent-1:start-text'], { retryWindow: 0 });
    intercept(replay, 'session.end', async () => {
      run(replay, 'agent-1:end', false);
      throw RpcError.builtIn('RESPONSE_TIMEOUT');
    });
    const snapshots = replay.snapshotRequests;
    const error = await failure(session.endSession());
    expect(error).toBeInstanceOf(SessionSyncError);
    expect([error!.code, error!.replyLost]).toEqual(['response_timeout', true]);
    expect(sent(replay, 'session.end')).toHaveLength(1);
    await flush();
    expect(replay.snapshotRequests).toBe(snapshots + 1); // the resync after the error
    expect(session.getSessionConfig()?.revision).toBe(16);
  });

  it('throws the last lost reply once the window has passed without the command reaching the agent', async () => {
    const { replay, session } = await withAgent(['agent-1:start-text'], { retryWindow: 600 });
    intercept(replay, 'session.end', async () => {
      throw connectionTimeout();
    });
    // On the test's own clock, so that how busy the machine is does not change the count.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const ending = failure(session.endSession());
      await vi.advanceTimersByTimeAsync(5_000);
      const error = await ending;
      expect([error!.code, error!.replyLost]).toEqual(['connection_timeout', true]);
      // Sent at 0 and at 250 ms; the next wait (500 ms) would end past the 600 ms window.
      expect(sent(replay, 'session.end')).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
    expect(session.getSessionConfig()?.type).toBe('text');
  });

  it('reads nothing back after a reply too large: LiveKit delivered it, so the answer is final', async () => {
    const { replay, session } = await withAgent(['agent-1:start-text']);
    intercept(replay, 'session.end', async () => {
      throw RpcError.builtIn('RESPONSE_PAYLOAD_TOO_LARGE');
    });
    const snapshots = replay.snapshotRequests;
    const error = await failure(session.endSession());
    expect([error!.code, error!.rpcCode, error!.replyLost]).toEqual(['response_payload_too_large', 1504, false]);
    expect(sent(replay, 'session.end')).toHaveLength(1);
    await flush();
    expect(replay.snapshotRequests).toBe(snapshots);
  });

  it('does not send a refused command again', async () => {
    const { replay, session } = await withAgent();
    intercept(replay, 'session.end', async () => {
      throw new RpcError(2409, 'invalid_transition: no session to end', '{}');
    });
    const error = await failure(session.endSession());
    expect(error!.code).toBe('invalid_transition');
    expect(sent(replay, 'session.end')).toHaveLength(1);
  });
});

describe('a repeatable command, its reply lost', () => {
  it("is sent again when the app's own full reconnect lost its reply", async () => {
    const { replay, session } = await withAgent();
    intercept(replay, 'session.snapshot', async (p, i, agent) => {
      if (i > 0) return agent(p);
      throw fullReconnect(replay);
    });
    const snapshot = await session.snapshot();
    expect(snapshot.session.sessionId).toBe(session.getSessionConfig()?.sessionId);
    const calls = sent(replay, 'session.snapshot');
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(calls.every((c) => c.destinationIdentity === 'agent-1')).toBe(true);
    expect(session.getState().connection).toBe('connected');
  });

  it('is given up once the retry window has passed without the agent', async () => {
    const { replay, session } = await withAgent([], { retryWindow: 600 });
    replay.room.rpcHandler = async () => {
      replay.room.leave('agent-1'); // gone for good
      throw new RpcError(1503, 'Recipient disconnected');
    };
    const error = await failure(session.validateSessionState());
    expect([error!.code, error!.replyLost]).toEqual(['recipient_disconnected', true]);
  });
});

describe('reading back whether a command ran', () => {
  const config = (type: SessionConfig['type'], state: SessionConfig['state']) =>
    ({ type, state }) as unknown as SessionConfig;
  const snapshot = (session: SessionConfig, pushToTalk = false): SessionSnapshot => ({
    seq: 1,
    session,
    roomConfig: null,
    pushToTalk,
    syncEnabled: true,
  });

  it('reads back every command that cannot be sent again as it is', () => {
    const others = SESSION_SYNC_METHODS.filter((m) => !REPEATABLE_METHODS.has(m));
    expect(others.filter((m) => !readsBack(m))).toEqual([]);
    expect(SESSION_SYNC_METHODS.filter((m) => REPEATABLE_METHODS.has(m) && readsBack(m))).toEqual([]);
  });

  it('takes a start as run only when the session has the type asked for and is active', () => {
    const text = { sessionType: 'text' } as const;
    expect(ranAccordingTo('session.start', text, snapshot(config('text', 'active')))).toBe(true);
    expect(ranAccordingTo('session.start', text, snapshot(config('voice-vad', 'active')))).toBe(false);
    expect(ranAccordingTo('session.start', text, snapshot(config('text', 'syncing')))).toBe(false);
    expect(ranAccordingTo('session.start', text, snapshot(config(null, 'idle')))).toBe(false);
  });

  it('takes an end as run only when the session is idle without a type', () => {
    expect(ranAccordingTo('session.end', {}, snapshot(config(null, 'idle')))).toBe(true);
    expect(ranAccordingTo('session.end', {}, snapshot(config('text', 'active')))).toBe(false);
    expect(ranAccordingTo('session.end', {}, snapshot(config('text', 'ending')))).toBe(false);
  });

  it('takes a release or cancel of push-to-talk as run once push-to-talk is not held', () => {
    const live = config('voice-ptt', 'active');
    for (const method of ['session.ptt_end', 'session.ptt_cancel'] as const) {
      expect(ranAccordingTo(method, {}, snapshot(live, false))).toBe(true);
      expect(ranAccordingTo(method, {}, snapshot(live, true))).toBe(false);
    }
  });
});
