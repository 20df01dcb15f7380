import { RoomEvent, RpcError } from 'livekit-client';
import { afterEach, describe, expect, it } from 'vitest';

import { isWireSessionConfig, toCorrections, toSessionConfig } from '../src/decode.js';
import type { SessionCorrections as WireCorrections } from '../src/generated/index.js';
import { SessionSync, SessionSyncClientEvent, SessionSyncError } from '../src/index.js';
import type { SessionConfig, SessionSyncEvent, WireSessionConfig } from '../src/index.js';
import { ParticipantKind } from './fake-room.js';
import { AgentReplay, agentTraffic, configOf, flush, isEvent, recording } from './replay.js';
import type { Entry } from './replay.js';

const firstAgent = agentTraffic((e) => e.step.startsWith('agent-1'));
const lastConfig = (entries: Entry[]) => entries.map(configOf).filter((c) => c !== undefined).at(-1)!;
const eventSeqs = (entries: Entry[]) => entries.filter(isEvent).map((e) => e.message!.seq!);

let open: SessionSync[] = [];
afterEach(() => {
  open.forEach((s) => s.dispose());
  open = [];
});

function follow(replay: AgentReplay) {
  const session = new SessionSync(replay.room.asRoom(), { resyncRetryDelay: 5 });
  open.push(session);
  const events: SessionSyncEvent[] = [];
  const revisions: number[] = [];
  session.on(SessionSyncClientEvent.SessionSync, (e) => events.push(e));
  session.on('sessionChanged', (s: SessionConfig | null) => s && revisions.push(s.revision));
  return { session, events, revisions, agentEvents: () => events.filter((e) => e.source === 'agent') };
}

async function playStepwise(replay: AgentReplay, entries: Entry[], deliver: (e: Entry, i: number) => boolean = () => true) {
  for (const [i, e] of entries.entries()) {
    replay.happen(e);
    if (deliver(e, i)) replay.deliver(e);
    await flush();
  }
}

describe('following the agent', () => {
  it('shows the session the agent publishes, with times as Dates and seed-optional fields left out', async () => {
    const replay = new AgentReplay();
    const { session } = follow(replay);
    await playStepwise(replay, firstAgent.slice(0, firstAgent.findIndex((e) => e.step === 'agent-1:switch-ptt')));
    const config = session.getSessionConfig()!;
    expect(config.type).toBe('text');
    expect(config.state).toBe('active');
    expect(config.startedAt).toBeInstanceOf(Date);
    expect('voiceMode' in config).toBe(false);
    expect('lastSyncAt' in config).toBe(false);
    expect(config.roomId).toBe(recording.room);
    expect(session.getState().agent?.identity).toBe('agent-1');
  });

  it('ends at the agent\'s final session and delivers every event once, in order', async () => {
    const replay = new AgentReplay();
    const { session, agentEvents } = follow(replay);
    const run = firstAgent.filter((e) => e.kind !== 'left');
    await playStepwise(replay, run);
    expect(session.getState().wire).toEqual(lastConfig(run));
    expect(agentEvents().map((e) => e.seq)).toEqual(eventSeqs(run));
    expect(session.getState().seq).toBe(Math.max(...eventSeqs(run)));
    expect(session.getState().gaps).toBe(0);
  });

  it('keeps one seed callback: a new one replaces it and null removes it', async () => {
    const replay = new AgentReplay();
    const { session, events, agentEvents } = follow(replay);
    const first: SessionSyncEvent[] = [];
    const second: SessionSyncEvent[] = [];
    session.setSessionSyncEventCallback((e) => first.push(e));
    session.setSessionSyncEventCallback((e) => second.push(e));
    const run = firstAgent.filter((e) => e.kind !== 'left');
    const half = Math.floor(run.length / 2);
    await playStepwise(replay, run.slice(0, half));
    session.setSessionSyncEventCallback(null);
    const deliveredBefore = events.length;
    const agentEventsBefore = agentEvents().length;
    await playStepwise(replay, run.slice(half));
    expect(first).toEqual([]);
    expect(deliveredBefore).toBeGreaterThan(0);
    expect(second).toEqual(events.slice(0, deliveredBefore));
    expect(agentEvents().length).toBeGreaterThan(agentEventsBefore);
  });

  it('shows the agent listening or not from its latest event', async () => {
    const replay = new AgentReplay();
    const { session } = follow(replay);
    const upTo = (step: string) => firstAgent.findIndex((e) => e.step === step);
    await playStepwise(replay, firstAgent.slice(0, upTo('agent-1:ptt-end')));
    expect(session.getState().pushToTalk).toBe(true);
    expect(session.getState().agentListening).toBe(true);
    await playStepwise(replay, firstAgent.slice(upTo('agent-1:ptt-end'), upTo('agent-1:mute')));
    expect(session.getState().pushToTalk).toBe(false);
    expect(session.getState().agentListening).toBe(false);
  });

  it('reports a drift the agent found and corrected as session_inconsistency', async () => {
    const replay = new AgentReplay();
    const { agentEvents } = follow(replay);
    await playStepwise(replay, firstAgent);
    const found = agentEvents().filter((e) => e.type === 'session_inconsistency');
    expect(found).toHaveLength(1);
    expect(found[0]!.payload.trigger).toBe('session.validate:audio_input');
    expect(found[0]!.payload.detail).toMatch(/audio input/i);
    expect(found[0]!.payload.frontendState.inconsistencyDetected).toBe(true);
  });
});

describe('an unreliable network', () => {
  it('delivers each event once when packets arrive twice', async () => {
    const replay = new AgentReplay();
    const { session, agentEvents } = follow(replay);
    const doubled = firstAgent.filter((e) => e.kind !== 'left').flatMap((e) => (e.kind === 'data' ? [e, e] : [e]));
    await playStepwise(replay, doubled);
    expect(agentEvents().map((e) => e.seq)).toEqual(eventSeqs(firstAgent));
    expect(session.getState().gaps).toBe(0);
  });

  it('takes a snapshot when events are lost and ends at the agent\'s session', async () => {
    const replay = new AgentReplay();
    const { session, agentEvents } = follow(replay);
    const lost = new Set([4, 5, 6, 7]);
    const run = firstAgent.filter((e) => e.kind !== 'left');
    // The events and the attribute updates of those commits never arrive.
    let dropping = false;
    await playStepwise(replay, run, (e) => {
      if (isEvent(e)) dropping = lost.has(e.message!.seq!);
      else if (e.kind === 'attributes') return !lost.has(Number(e.changed?.['session.revision']) ) && !dropping;
      return !dropping;
    });
    expect(session.getState().gaps).toBeGreaterThanOrEqual(1);
    expect(replay.snapshotRequests).toBeGreaterThanOrEqual(2); // on joining, then for the gap
    expect(session.getState().wire).toEqual(lastConfig(run));
    expect(session.getState().seq).toBe(Math.max(...eventSeqs(run)));
    expect(agentEvents().some((e) => lost.has(e.seq!))).toBe(false);
  });

  it('never goes back to an older revision when events arrive out of order', async () => {
    const replay = new AgentReplay();
    const { session, revisions } = follow(replay);
    const run = firstAgent.filter((e) => e.kind !== 'left' && e.kind !== 'attributes');
    // Swap every pair of consecutive data packets.
    const shuffled = [...run];
    for (let i = 0; i + 1 < shuffled.length; i += 2) {
      if (shuffled[i]!.kind === 'data' && shuffled[i + 1]!.kind === 'data') {
        [shuffled[i], shuffled[i + 1]] = [shuffled[i + 1]!, shuffled[i]!];
      }
    }
    await playStepwise(replay, shuffled);
    await flush();
    expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
    expect(new Set(revisions).size).toBe(revisions.length);
    expect(session.getState().wire).toEqual(lastConfig(run));
  });

  it('catches up after its own connection drops and comes back', async () => {
    const replay = new AgentReplay();
    const { session, events } = follow(replay);
    const run = firstAgent.filter((e) => e.kind !== 'left');
    const cut = run.findIndex((e) => e.step === 'agent-1:mute');
    const back = run.findIndex((e) => e.step === 'agent-1:switch-vad');
    await playStepwise(replay, run.slice(0, cut));
    const seen = events.length;
    replay.room.reconnecting();
    expect(session.getState().connection).toBe('reconnecting');
    // Everything the agent does meanwhile is lost for this client.
    await playStepwise(replay, run.slice(cut, back), () => false);
    replay.room.reconnected();
    await flush();
    expect(session.getState().connection).toBe('connected');
    expect(session.getState().reconnects).toBe(1);
    expect(session.getState().session?.isMuted).toBe(true);
    expect(session.getState().seq).toBe(Math.max(...eventSeqs(run.slice(0, back))));
    const local = events.slice(seen).filter((e) => e.source === 'client').map((e) => `${e.type}:${e.payload.trigger}`);
    expect(local).toEqual([
      'connection_interruption:client:reconnecting',
      'room_state_change:client:reconnected',
      'session_state_sync:client:resync:reconnected',
    ]);
    await playStepwise(replay, run.slice(back));
    expect(session.getState().wire).toEqual(lastConfig(run));
  });
});

describe('the agent changes', () => {
  it('starts over with a new agent after the agent restarts', async () => {
    const replay = new AgentReplay();
    const { session, agentEvents } = follow(replay);
    const changes: Array<string | null> = [];
    session.on('agentChanged', (a) => changes.push(a?.identity ?? null));
    await playStepwise(replay, agentTraffic());
    expect(changes).toEqual(['agent-1', null, 'agent-2']);
    const second = agentTraffic((e) => e.step.startsWith('agent-2'));
    expect(session.getState().wire).toEqual(lastConfig(second));
    expect(session.getState().wire!.revision).toBeLessThan(lastConfig(firstAgent).revision);
    expect(session.getState().seq).toBe(Math.max(...eventSeqs(second)));
    expect(agentEvents().filter((e) => e.seq === 1)).toHaveLength(2);
  });

  it('ignores session attributes and events from a participant that is not an agent', async () => {
    const replay = new AgentReplay();
    const { session, events } = follow(replay);
    await playStepwise(replay, firstAgent.filter((e) => e.kind !== 'left'));
    const before = session.getState().wire;
    const forged = { ...before!, revision: 999, type: 'text', state: 'error' };
    replay.room.join('mallory', ParticipantKind.STANDARD, {
      'session.config': JSON.stringify(forged),
      'session.protocol': '1',
    });
    replay.room.setAttributes('mallory', { 'session.config': JSON.stringify({ ...forged, revision: 1000 }) });
    replay.room.sendData('mallory', {
      type: 'session_state_sync',
      seq: 99,
      payload: { sessionId: 'x', frontendState: forged, roomState: null, timestamp: 0, trigger: 'forged', detail: null },
      v: 1,
    });
    await flush();
    expect(session.getState().wire).toEqual(before);
    expect(session.getState().agent?.identity).toBe('agent-1');
    expect(events.some((e) => e.payload.trigger === 'forged')).toBe(false);
  });

  it('shows no session once the agent leaves', async () => {
    const replay = new AgentReplay();
    const { session, events } = follow(replay);
    await playStepwise(replay, firstAgent);
    expect(session.getSessionConfig()).toBeNull();
    expect(session.getState().agent).toBeNull();
    expect(events.at(-1)?.payload.trigger).toBe('client:agent_left');
  });
});

describe('an agent replaced mid-session', () => {
  async function agentLeavesLiveSession(record: boolean) {
    const replay = new AgentReplay();
    const client = follow(replay);
    const sessions: Array<SessionConfig | null> = [];
    client.session.on('sessionChanged', (s: SessionConfig | null) => sessions.push(s));
    await playStepwise(replay, firstAgent.slice(0, firstAgent.findIndex((e) => e.step === 'agent-1:switch-ptt')));
    const live = client.session.getState().wire!;
    const attributes = { ...replay.room.remoteParticipants.get('agent-1')!.attributes };
    if (record) {
      replay.room.metadata = JSON.stringify({ sessionSync: { sessionId: live.sessionId, sessionType: live.type, revisionCeiling: live.revision + 1000 } });
    }
    replay.room.leave('agent-1');
    await flush();
    return { replay, ...client, sessions, live, attributes };
  }

  it('reports the gap as an interruption and the new agent as the same session going on', async () => {
    const { replay, session, events, sessions, live, attributes } = await agentLeavesLiveSession(true);
    expect(events.at(-1)?.type).toBe('connection_interruption');
    expect(events.at(-1)?.payload.trigger).toBe('client:agent_reconnecting');
    expect(session.getSessionConfig()?.sessionId).toBe(live.sessionId);

    const continued = { ...live, revision: live.revision + 1001 };
    replay.room.join('agent-2', ParticipantKind.AGENT, { ...attributes, 'session.config': JSON.stringify(continued), 'session.revision': String(continued.revision) });
    await flush();
    expect(session.getState().agent?.identity).toBe('agent-2');
    expect(session.getSessionConfig()?.sessionId).toBe(live.sessionId);
    expect(session.getSessionConfig()?.revision).toBe(continued.revision);
    expect(sessions).not.toContain(null);
    const clientEvents = events.filter((e) => e.source === 'client').map((e) => `${e.type}:${e.payload.trigger}`);
    expect(clientEvents).toContain('room_state_change:client:agent_reconnected');
    expect(clientEvents).not.toContain('room_state_change:client:agent_left');
  });

  it('shows no session when the agent leaves a session the room no longer records', async () => {
    const { session, events } = await agentLeavesLiveSession(false);
    expect(session.getSessionConfig()).toBeNull();
    expect(events.at(-1)?.payload.trigger).toBe('client:agent_left');
  });
});

describe('commands', () => {
  function withAgent() {
    const replay = new AgentReplay();
    const client = follow(replay);
    const start = agentTraffic((e) => e.step === 'agent-1:join' || e.step === 'agent-1:start');
    replay.play(start);
    return { replay, ...client };
  }
  const recorded = (method: string, step?: string) =>
    recording.entries.find((e) => e.method === method && (step === undefined || e.step === step))!;

  it('calls the agent by its identity with the params as JSON and shows the result at once', async () => {
    const { replay, session } = withAgent();
    await flush();
    const result = recorded('session.start', 'agent-1:start-text').result;
    replay.room.rpcHandler = async () => JSON.stringify(result);
    const config = await session.startSession('text', { sessionId: 'sess-1' });
    const call = replay.room.rpcCalls.at(-1)!;
    expect(call.destinationIdentity).toBe('agent-1');
    expect(call.method).toBe('session.start');
    expect(JSON.parse(call.payload)).toEqual({ sessionType: 'text', sessionId: 'sess-1' });
    expect(config.type).toBe('text');
    expect(session.getSessionConfig()?.revision).toBe((result as { revision: number }).revision);
  });

  it('keeps the reply\'s session when the command\'s events arrive after it, and takes them by seq', async () => {
    // On a real server an RPC reply can overtake the events its command caused (protocol 8.8).
    const { replay, session, events, revisions } = withAgent();
    await flush();
    const step = agentTraffic((e) => e.step === 'agent-1:start-text');
    const result = recorded('session.start', 'agent-1:start-text').result as WireSessionConfig;
    replay.room.rpcHandler = async () => JSON.stringify(result);
    const before = { seq: session.getState().seq!, snapshots: replay.snapshotRequests };
    await session.startSession('text');
    expect(session.getState().wire).toEqual(result);

    await playStepwise(replay, step); // `syncing`, then `active`, after the reply
    expect(session.getState().wire).toEqual(result);
    expect(revisions.filter((r) => r >= result.revision)).toEqual([result.revision]);
    expect(session.getState().seq).toBe(before.seq + 2);
    expect(session.getState().gaps).toBe(0);
    expect(replay.snapshotRequests).toBe(before.snapshots);
    expect(events.filter((e) => e.source === 'agent').map((e) => e.seq).slice(-2)).toEqual(eventSeqs(step));
  });

  it('reads the sync setting again when the agent says another app changed it', async () => {
    const { replay, session } = withAgent();
    await playStepwise(replay, agentTraffic((e) => e.step === 'agent-1:start-text'));
    const before = replay.snapshotRequests;
    const last = agentTraffic((e) => e.step === 'agent-1:start-text').filter(isEvent).at(-1)!;
    const message = structuredClone(last.message!) as unknown as { seq: number; payload: { trigger: string } };
    message.seq += 1;
    message.payload.trigger = 'session.set_sync_enabled';
    const touched: Entry = { ...last, message: message as unknown as Entry['message'] };
    replay.happen(touched);
    replay.deliver(touched);
    await flush();
    expect(replay.snapshotRequests).toBe(before + 1);
    expect(session.getState().syncEnabled).toBe(true);
    expect(session.getState().gaps).toBe(0);
  });

  it('rejects a refused command with the agent\'s code and details', async () => {
    const { replay, session } = withAgent();
    await flush();
    const refused = recorded('session.ptt_start', 'agent-1:ptt-while-muted');
    replay.room.rpcHandler = async () => {
      throw new RpcError(refused.code!, 'invalid_transition: cannot start push-to-talk while muted', refused.data);
    };
    const error = await session.startPushToTalk().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionSyncError);
    const e = error as SessionSyncError;
    expect(e.code).toBe('invalid_transition');
    expect(e.rpcCode).toBe(2409);
    expect(e.isProtocolError).toBe(true);
    expect(e.details).toMatchObject({ isMuted: true });
  });

  it('returns the validation result and keeps it as the last validation', async () => {
    const { replay, session } = withAgent();
    await flush();
    const result = recorded('session.validate', 'agent-1:validate-after-drift').result;
    replay.room.rpcHandler = async () => JSON.stringify(result);
    const validation = await session.validateSessionState();
    expect(validation.isValid).toBe(false);
    expect(validation.needsResync).toBe(true);
    expect(validation.inconsistencies[0]).toMatch(/audio input/i);
    expect(session.getState().lastValidation?.result).toEqual(validation);
  });

  it('names each of LiveKit\'s own RPC errors by livekit-client\'s name for it', () => {
    for (const [name, code] of Object.entries(RpcError.ErrorCode)) {
      const error = SessionSyncError.fromRpc('session.end', new RpcError(code, name));
      expect([error.code, error.rpcCode]).toEqual([name.toLowerCase(), code]);
    }
  });

  it('refuses a command when there is no agent in the room', async () => {
    const replay = new AgentReplay();
    const { session } = follow(replay);
    const error = (await session.endSession().catch((e: unknown) => e)) as SessionSyncError;
    expect(error.code).toBe('no_agent');
    expect(replay.room.rpcCalls).toHaveLength(0);
  });
});

describe('older agents', () => {
  it('reads the seed-optional fields an older agent sent as null as absent', () => {
    const current = lastConfig(firstAgent);
    const older: unknown = { ...current, voiceMode: null, roomId: null, lastSyncAt: null };
    expect(isWireSessionConfig(older)).toBe(true);
    const config = toSessionConfig(older as WireSessionConfig);
    expect(['voiceMode', 'roomId', 'lastSyncAt'].filter((k) => k in config)).toEqual([]);
    expect(toCorrections({ state: 'error', roomId: null } as unknown as WireCorrections)).toEqual({ state: 'error' });
  });
});
