// The seed's four scenarios, run by `SessionSynchronizationTester`.
import { SessionSyncError } from '../errors.js';
import type { SessionSync } from '../client.js';
import type { SessionConfig, SessionSyncEvent, SessionType } from '../types.js';
import type { ScenarioContext, SessionSyncScenario } from './types.js';

/** Wait for an agent with a session, and end a session left over from before. */
async function freshSession(ctx: ScenarioContext): Promise<SessionConfig> {
  const state = await ctx.waitFor((s) => s.agent !== null && s.session !== null && s.connection === 'connected', 'an agent with a session');
  let session = state.session!;
  if (session.state === 'syncing') {
    session = (await ctx.waitFor((s) => s.session?.state !== 'syncing', 'the session to settle')).session!;
  }
  if (!(session.type === null && session.state === 'idle')) {
    ctx.log(`ending the ${session.type ?? 'no'} session left in state ${session.state}`);
    session = await ctx.session.endSession();
  }
  return session;
}

/** Start a session of `type`, skipping the scenario if this agent cannot run it. */
async function startOrSkip(ctx: ScenarioContext, type: SessionType): Promise<SessionConfig> {
  try {
    return await ctx.session.startSession(type);
  } catch (err) {
    if (err instanceof SessionSyncError && err.code === 'unavailable') {
      ctx.skip(`this agent cannot run ${type}: ${err.message}`);
    }
    throw err;
  }
}

/**
 * `action` is refused with `code`. A lost reply (an agent too busy to answer in time) says
 * nothing either way, and a refused command changes nothing: ask again, a few times.
 */
async function expectRefusal(ctx: ScenarioContext, action: () => Promise<unknown>, code: string, what: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await action();
    } catch (err) {
      if (err instanceof SessionSyncError && err.replyLost && attempt < 3) {
        ctx.log(`${what}: the reply was lost (${err.message}); asking again`);
        continue;
      }
      ctx.check(err instanceof SessionSyncError && err.code === code, `${what}: expected ${code}, got ${String(err)}`);
      return;
    }
    ctx.check(false, `${what}: expected ${code}, but the agent accepted it`);
  }
}

/** The agent's published revision agrees with the session the client shows. */
async function agentAttributesAgree(ctx: ScenarioContext): Promise<void> {
  await ctx.waitFor((s) => {
    const agent = s.agent && ctx.session.room.remoteParticipants.get(s.agent.identity);
    return !!agent && s.session !== null && agent.attributes['session.revision'] === String(s.session.revision);
  }, "the agent's published revision to match the client's session");
}

/** The agent's published attributes, as this client sees them. */
function agentAttributes(ctx: ScenarioContext): Record<string, string> | null {
  const agent = ctx.session.getState().agent;
  return (agent && ctx.session.room.remoteParticipants.get(agent.identity)?.attributes) || null;
}

/** Nothing of the agent's own on its way: its published revision and seq caught up. */
async function agentWritesSettled(ctx: ScenarioContext): Promise<void> {
  await ctx.waitFor((s) => {
    const attributes = agentAttributes(ctx);
    return (
      !!attributes &&
      s.session !== null &&
      attributes['session.revision'] === String(s.session.revision) &&
      Number(attributes['session.seq'] ?? '0') >= (s.seq ?? 0)
    );
  }, "the agent's attribute updates to land (published revision and seq caught up with the session)");
}

/** The agent's published `session.state` says something else than its session. */
function driftShown(ctx: ScenarioContext): boolean {
  const session = ctx.session.getSessionConfig();
  const attributes = agentAttributes(ctx);
  return !!session && !!attributes && attributes['session.state'] !== session.state;
}

const DRIFT_DEADLINE_MS = 45_000;

/**
 * Ask for validation until the drift is found (or the agent's own periodic pass reports it).
 * Resolves with what was found, or null when the drift was seen and then overwritten at the
 * same revision without any finding: an update of the agent's already on its way.
 */
async function findDrift(ctx: ScenarioContext, seenBefore: number, revision: number): Promise<string | null> {
  const deadline = Date.now() + DRIFT_DEADLINE_MS;
  let seen = false;
  for (;;) {
    const periodic = ctx.events.slice(seenBefore).find((e) => e.type === 'session_inconsistency' && e.source === 'agent');
    if (periodic) return `${periodic.payload.detail ?? periodic.payload.trigger} (by the agent's ${periodic.payload.trigger})`;
    seen ||= driftShown(ctx);
    const result = await ctx.session.validateSessionState();
    if (!result.isValid) {
      ctx.check(result.needsResync && result.inconsistencies.length > 0, 'an invalid result without inconsistencies');
      return result.inconsistencies.join('; ');
    }
    const shown = driftShown(ctx);
    const sameRevision = agentAttributes(ctx)?.['session.revision'] === String(revision);
    const reported = ctx.events.slice(seenBefore).some((e) => e.type === 'session_inconsistency');
    if (seen && !shown && sameRevision && !reported) return null;
    ctx.check(
      Date.now() < deadline,
      `validation did not find the drift within ${DRIFT_DEADLINE_MS / 1000} s; the agent's attributes ${
        shown ? 'still show it' : seen ? 'showed it, then not' : 'never showed it'
      } (session.state ${agentAttributes(ctx)?.['session.state']}, session ${ctx.session.getSessionConfig()?.state})`,
    );
    await new Promise((r) => setTimeout(r, 250)); // the pace of the asking, not a wait for anything
  }
}

/** 1. Basic Session Sync: a session started, followed, synced and ended. */
export const basicSessionSync: SessionSyncScenario = {
  name: 'Basic Session Sync',
  description: 'Start a text session, follow it, sync it and end it',
  async run(ctx) {
    const idle = await freshSession(ctx);
    ctx.check(idle.type === null && idle.state === 'idle', `expected no session, got ${idle.type}/${idle.state}`);
    const started = await ctx.session.startSession('text');
    ctx.check(started.type === 'text' && started.state === 'active', `start gave ${started.type}/${started.state}`);
    const state = await ctx.waitFor((s) => s.session?.type === 'text' && s.session.state === 'active', 'the text session');
    const s = state.session!;
    ctx.check(s.turnDetection === 'none', `text turn detection is ${s.turnDetection}`);
    ctx.check(s.voiceActivityEnabled === false, 'text has voice activity enabled');
    ctx.check(s.startedAt instanceof Date, 'startedAt is not a Date');
    ctx.check(s.roomId === ctx.session.room.name, `roomId ${s.roomId} is not the room ${ctx.session.room.name}`);
    await ctx.waitForEvent((e) => e.type === 'session_state_sync' && e.payload.trigger === 'session.start' && e.payload.frontendState.state === 'active', 'the session.start event');
    await agentAttributesAgree(ctx);
    const before = ctx.session.getSessionConfig()!.revision;
    const synced = await ctx.session.syncSessionState('scenario');
    ctx.check(synced.revision > before, 'sync did not move the revision');
    ctx.check(synced.lastSyncAt instanceof Date, 'sync did not set lastSyncAt');
    await ctx.waitForEvent((e) => e.type === 'session_state_sync' && e.payload.trigger === 'scenario', 'the sync event');
    const ended = await ctx.session.endSession();
    ctx.check(ended.type === null && ended.state === 'idle', `end gave ${ended.type}/${ended.state}`);
    await ctx.waitFor((st) => st.session?.state === 'idle' && st.session.type === null, 'the idle session');
    ctx.log(`session ${s.sessionId} ended; ok at revision ${ctx.session.getSessionConfig()?.revision}`);
  },
};

/** 2. Voice Session with Turn Detection: push-to-talk, mute, then continuous listening. */
export const voiceSessionTurnDetection: SessionSyncScenario = {
  name: 'Voice Session with Turn Detection',
  description: 'voice-ptt listens only while the button is held; voice-vad listens all the time',
  // Two spoken turns, each waiting for the agent's answer when an awaitReply hook is given.
  timeoutMs: 300_000,
  async run(ctx) {
    await freshSession(ctx);
    const ptt = await startOrSkip(ctx, 'voice-ptt');
    ctx.check(ptt.turnDetection === 'client', `voice-ptt turn detection is ${ptt.turnDetection}`);
    ctx.check(ptt.voiceMode === 'push-to-talk', `voice-ptt voice mode is ${ptt.voiceMode}`);
    ctx.check(ptt.voiceActivityEnabled, 'voice-ptt has voice activity disabled');
    await ctx.waitFor((s) => s.session?.type === 'voice-ptt' && s.agentListening === false, 'the agent not listening before the press');
    const pressedAt = Date.now();
    await ctx.session.startPushToTalk();
    await ctx.waitFor((s) => s.pushToTalk && s.agentListening === true, 'the agent listening while the button is held');
    if (ctx.hooks.speak) await ctx.hooks.speak(ctx.session);
    await ctx.session.endPushToTalk();
    await ctx.waitFor((s) => !s.pushToTalk && s.agentListening === false, 'the agent to stop listening on release');
    if (ctx.hooks.awaitReply) {
      await ctx.hooks.awaitReply(ctx.session, pressedAt);
      ctx.log('the released press was answered');
    }
    await ctx.session.setMuted(true);
    await ctx.waitFor((s) => s.session?.isMuted === true, 'the session muted');
    await expectRefusal(ctx, () => ctx.session.startPushToTalk(), 'invalid_transition', 'push-to-talk while muted');
    await ctx.session.setMuted(false);
    const vad = await ctx.session.switchSession('voice-vad');
    ctx.check(vad.turnDetection === 'server' && vad.voiceMode === 'continuous', `voice-vad gave ${vad.turnDetection}/${vad.voiceMode}`);
    ctx.check(vad.startedAt?.getTime() === ptt.startedAt?.getTime(), 'switching restarted the session');
    await ctx.waitFor((s) => s.session?.type === 'voice-vad' && s.agentListening === true, 'the agent listening in voice-vad');
    if (ctx.hooks.awaitReply) {
      // Nobody presses anything: the agent ends the turn itself when the speech stops.
      await ctx.hooks.awaitReply(ctx.session, Date.now());
      ctx.log('voice-vad committed a turn on its own');
    }
    await expectRefusal(ctx, () => ctx.session.startPushToTalk(), 'wrong_session_type', 'push-to-talk in voice-vad');
    await ctx.session.endSession();
    await ctx.waitFor((s) => s.session?.type === null && s.agentListening === false, 'the agent to stop listening at the end');
  },
};

/** 3. Connection Interruption Recovery: the client's link drops and the session converges. */
export const connectionInterruptionRecovery: SessionSyncScenario = {
  name: 'Connection Interruption Recovery',
  description: "The app's link (and, with the hook, the agent's) is cut and restored; the client resyncs and agrees with the agent",
  // The agent's link, when cut, comes back on the SDK's own reconnect schedule.
  timeoutMs: 180_000,
  async run(ctx) {
    await freshSession(ctx);
    await ctx.session.startSession('text');
    await ctx.waitFor((s) => s.session?.state === 'active', 'the text session');
    const reconnects = ctx.session.getState().reconnects;
    const interrupt =
      ctx.hooks.interruptConnection ??
      (async (session: SessionSync) => {
        await session.room.simulateScenario('signal-reconnect');
      });
    await interrupt(ctx.session);
    await ctx.waitForEvent((e) => e.type === 'connection_interruption' && e.source === 'client', 'the interruption to be reported');
    await ctx.waitFor((s) => s.connection === 'connected' && s.reconnects > reconnects, 'the link to come back', 30_000);
    await ctx.waitForEvent((e) => e.type === 'session_state_sync' && e.payload.trigger.startsWith('client:resync'), 'the resync after reconnecting', 30_000);
    // The session still works, and the client agrees with what the agent publishes.
    const synced = await ctx.session.syncSessionState('after-interruption');
    ctx.check(synced.type === 'text' && synced.state === 'active', `after the interruption: ${synced.type}/${synced.state}`);
    await agentAttributesAgree(ctx);
    if (ctx.hooks.interruptAgentConnection) await agentLinkCut(ctx, ctx.hooks.interruptAgentConnection);
    await ctx.session.endSession();
  },
};

/** The agent's link drops and comes back: the app sees it, and the session is as it was. */
async function agentLinkCut(ctx: ScenarioContext, interrupt: (session: SessionSync) => Promise<void>): Promise<void> {
  const before = ctx.session.getSessionConfig()!;
  const agent = ctx.session.getState().agent!;
  const seq = ctx.session.getState().seq ?? -1;
  const fromAgent = (e: SessionSyncEvent) => e.source === 'agent' && (e.seq ?? -1) > seq;
  await interrupt(ctx.session);
  ctx.log(`the agent's link was cut and restored in session ${before.sessionId}`);
  // The agent queues these while it is down and sends them once it is back.
  await ctx.waitForEvent((e) => fromAgent(e) && e.type === 'connection_interruption', "the agent's interruption", 60_000);
  await ctx.waitForEvent(
    (e) => fromAgent(e) && e.type === 'session_state_sync' && e.payload.trigger === 'reconnected',
    "the agent's reconnect",
    60_000,
  );
  const state = await ctx.waitFor((s) => s.session?.state === 'active', 'the session active again', 30_000);
  const after = state.session!;
  ctx.check(state.agent?.identity === agent.identity, `another agent answered: ${state.agent?.identity}`);
  ctx.check(after.sessionId === before.sessionId, `the session changed: ${before.sessionId} -> ${after.sessionId}`);
  ctx.check(after.type === before.type, `the type changed: ${before.type} -> ${after.type}`);
  ctx.check(after.startedAt?.getTime() === before.startedAt?.getTime(), 'the session was restarted');
  ctx.check(after.revision > before.revision, `the revision did not move past ${before.revision}`);
  await agentAttributesAgree(ctx);
  const synced = await ctx.session.syncSessionState('after-agent-cut');
  ctx.check(synced.state === 'active' && synced.sessionId === before.sessionId, `after the agent's cut: ${synced.type}/${synced.state}`);
}

/** 4. Session State Validation: a drift is found and corrected by the agent. */
export const sessionStateValidation: SessionSyncScenario = {
  name: 'Session State Validation',
  description: 'Validation passes on a clean session, finds an induced drift and corrects it',
  async run(ctx) {
    await freshSession(ctx);
    await ctx.session.startSession('text');
    await ctx.waitFor((s) => s.session?.state === 'active', 'the text session');
    await agentAttributesAgree(ctx);
    const clean = await ctx.session.validateSessionState();
    ctx.check(clean.isValid && !clean.needsResync, `a fresh session is not valid: ${clean.inconsistencies.join('; ')}`);
    ctx.check(ctx.session.getState().lastValidation?.result === clean, 'the result is not kept as the last validation');
    await ctx.session.setSessionSyncEnabled(false);
    await ctx.session.setSessionSyncEnabled(true);
    const snap = await ctx.session.snapshot();
    ctx.check(snap.syncEnabled, 'periodic validation is not back on');
    if (!ctx.hooks.induceDrift) {
      ctx.log('no drift hook: checked a clean pass only');
      await ctx.session.endSession();
      return;
    }
    const attempts = ctx.session.getSessionConfig()!.syncAttempts ?? 0;
    // An attribute update of the agent's still on its way to the server overwrites the drift
    // with the truth before anything could find it: induce it once the agent's writes have
    // landed, and again if one still beat it (the agent then found nothing to find).
    let found: string | null = null;
    for (let round = 1; found === null; round++) {
      ctx.check(round <= 3, "the agent's own attribute updates overwrote the drift three times in a row");
      await agentWritesSettled(ctx);
      const seenBefore = ctx.events.length;
      const revision = ctx.session.getSessionConfig()!.revision;
      await ctx.hooks.induceDrift(ctx.session);
      found = await findDrift(ctx, seenBefore, revision);
      if (found === null) ctx.log('the drift was overwritten by an update of the agent\'s already on its way; inducing it again');
    }
    ctx.log(`found: ${found}`);
    await ctx.waitForEvent((e) => e.type === 'session_inconsistency' && e.source === 'agent', 'the session_inconsistency event');
    await ctx.waitFor(
      (s) => s.session?.inconsistencyDetected === true && (s.session.syncAttempts ?? 0) > attempts,
      'the correction to show in the session',
    );
    await agentAttributesAgree(ctx);
    const after = await ctx.session.validateSessionState();
    ctx.check(after.isValid, `still inconsistent after the correction: ${after.inconsistencies.join('; ')}`);
    await ctx.session.endSession();
  },
};

export const BUILT_IN_SCENARIOS: readonly SessionSyncScenario[] = [
  basicSessionSync,
  voiceSessionTurnDetection,
  connectionInterruptionRecovery,
  sessionStateValidation,
];
