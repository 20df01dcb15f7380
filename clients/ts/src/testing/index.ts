// Scenario runner in the manner of the seed's sessionSyncTest.ts: run the seed's four
// scenarios (and your own) against a real agent through a connected `SessionSync`.
//
//   const tester = new SessionSynchronizationTester(session, { hooks });
//   tester.addScenario(customScenario);
//   const results = await tester.runAllTests();
import type { SessionSync } from '../client.js';
import { SessionSyncError } from '../errors.js';
import type { SessionConfig, SessionSyncEvent, SessionSyncState, SessionType } from '../types.js';

/** Ways to disturb the session from outside the app, supplied by the test environment. */
export interface ScenarioHooks {
  /**
   * Cut this client's connection and let it come back. Default: livekit-client's
   * `room.simulateScenario('signal-reconnect')`.
   */
  interruptConnection?: (session: SessionSync) => Promise<void>;
  /**
   * Cut the agent's own connection to the server and restore it (for example through a relay
   * the test holds). With it, the connection scenario also checks that the app sees the agent
   * come back and that the session survives it.
   */
  interruptAgentConnection?: (session: SessionSync) => Promise<void>;
  /**
   * Make what the agent publishes drift from its session behind its back (for example by
   * overwriting one of its `session.*` attributes through LiveKit's server API). Without it
   * the validation scenario checks a clean pass and a manual sync only.
   */
  induceDrift?: (session: SessionSync) => Promise<void>;
  /** Speak into the microphone while push-to-talk is held (a fake capture device). */
  speak?: (session: SessionSync) => Promise<void>;
  /**
   * Resolve once the agent has answered a user turn that ended after this call began (for
   * example: a reply on the `lk.transcription` text stream). With it, the voice scenario
   * checks that a released press, and then voice-vad on its own, commit a turn.
   */
  awaitReply?: (session: SessionSync, since: number) => Promise<void>;
}

export interface ScenarioContext {
  readonly session: SessionSync;
  readonly hooks: ScenarioHooks;
  /** Wait until the client's state satisfies `predicate`. */
  waitFor(predicate: (state: SessionSyncState) => boolean, what: string, timeoutMs?: number): Promise<SessionSyncState>;
  /** Wait for a session-sync event (one already received since the scenario began counts). */
  waitForEvent(predicate: (event: SessionSyncEvent) => boolean, what: string, timeoutMs?: number): Promise<SessionSyncEvent>;
  /** Fail the scenario with `message` unless `condition` holds. */
  check(condition: unknown, message: string): void;
  /** Mark the scenario skipped (for example: this agent cannot run voice sessions). */
  skip(reason: string): never;
  /** Add a line to the scenario's log. */
  log(message: string): void;
  /** Every session-sync event received since the scenario began. */
  readonly events: readonly SessionSyncEvent[];
}

export interface SessionSyncScenario {
  name: string;
  description?: string;
  /** Whole-scenario time limit, in ms (default: the tester's). */
  timeoutMs?: number;
  run(ctx: ScenarioContext): Promise<void>;
}

export interface ScenarioResult {
  name: string;
  status: 'passed' | 'failed' | 'skipped';
  passed: boolean;
  durationMs: number;
  error?: string;
  log: string[];
}

export interface TesterOptions {
  hooks?: ScenarioHooks;
  /** Default time limit of one scenario, in ms. */
  timeoutMs?: number;
  /** Default time limit of one wait, in ms. */
  waitTimeoutMs?: number;
  /** Start with the seed's four scenarios (default true). */
  builtIn?: boolean;
  /** Called with each result as it comes. */
  onResult?: (result: ScenarioResult) => void;
}

class ScenarioFailure extends Error {}
class ScenarioSkipped extends Error {}

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
    ctx.log(`ok at revision ${ctx.session.getSessionConfig()?.revision}`);
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
  ctx.log("the agent's link was cut and restored");
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

export class SessionSynchronizationTester {
  private readonly scenarios: SessionSyncScenario[] = [];
  private readonly options: Required<Omit<TesterOptions, 'onResult'>> & Pick<TesterOptions, 'onResult'>;

  constructor(
    readonly session: SessionSync,
    options: TesterOptions = {},
  ) {
    this.options = {
      hooks: options.hooks ?? {},
      timeoutMs: options.timeoutMs ?? 60_000,
      waitTimeoutMs: options.waitTimeoutMs ?? 15_000,
      builtIn: options.builtIn ?? true,
      onResult: options.onResult,
    };
    if (this.options.builtIn) this.scenarios.push(...BUILT_IN_SCENARIOS);
  }

  addScenario(scenario: SessionSyncScenario): this {
    this.scenarios.push(scenario);
    return this;
  }

  get scenarioNames(): string[] {
    return this.scenarios.map((s) => s.name);
  }

  /** Run every scenario, one after another; a failure does not stop the others. */
  async runAllTests(): Promise<ScenarioResult[]> {
    const results: ScenarioResult[] = [];
    for (const scenario of this.scenarios) results.push(await this.runScenario(scenario));
    return results;
  }

  async runScenario(scenarioOrName: SessionSyncScenario | string): Promise<ScenarioResult> {
    const scenario =
      typeof scenarioOrName === 'string' ? this.scenarios.find((s) => s.name === scenarioOrName) : scenarioOrName;
    if (!scenario) throw new Error(`no scenario named ${String(scenarioOrName)}`);
    const log: string[] = [];
    const events: SessionSyncEvent[] = [];
    const stopEvents = this.session.onSessionSync((e) => events.push(e));
    const cleanups = new Set<() => void>();
    const started = Date.now();
    const ctx = this.context(log, events, cleanups);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let result: ScenarioResult;
    try {
      await Promise.race([
        scenario.run(ctx),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new ScenarioFailure(`timed out after ${scenario.timeoutMs ?? this.options.timeoutMs} ms`)),
            scenario.timeoutMs ?? this.options.timeoutMs,
          );
        }),
      ]);
      result = { name: scenario.name, status: 'passed', passed: true, durationMs: Date.now() - started, log };
    } catch (err) {
      const skipped = err instanceof ScenarioSkipped;
      result = {
        name: scenario.name,
        status: skipped ? 'skipped' : 'failed',
        passed: false,
        durationMs: Date.now() - started,
        error: err instanceof Error ? err.message : String(err),
        log,
      };
    } finally {
      clearTimeout(timer);
      stopEvents();
      for (const c of cleanups) c();
    }
    this.options.onResult?.(result);
    return result;
  }

  private context(log: string[], events: SessionSyncEvent[], cleanups: Set<() => void>): ScenarioContext {
    const session = this.session;
    const waitTimeout = this.options.waitTimeoutMs;
    const stamp = (m: string) => log.push(`${new Date().toISOString()} ${m}`);
    return {
      session,
      hooks: this.options.hooks,
      events,
      log: stamp,
      check(condition: unknown, message: string): void {
        if (!condition) throw new ScenarioFailure(message);
      },
      skip(reason: string): never {
        throw new ScenarioSkipped(reason);
      },
      waitFor(predicate, what, timeoutMs = waitTimeout) {
        return new Promise<SessionSyncState>((resolve, reject) => {
          if (predicate(session.getState())) return resolve(session.getState());
          const done = () => {
            clearTimeout(timer);
            clearInterval(poll);
            stop();
            cleanups.delete(done);
          };
          const check = () => {
            const state = session.getState();
            if (predicate(state)) {
              done();
              resolve(state);
            }
          };
          const stop = session.subscribe(check);
          // Predicates may also read the room (the agent's attributes), which is not state.
          const poll = setInterval(check, 100);
          const timer = setTimeout(() => {
            done();
            reject(new ScenarioFailure(`waited ${timeoutMs} ms for ${what}`));
          }, timeoutMs);
          cleanups.add(done);
        }).then((s) => {
          stamp(`saw ${what}`);
          return s;
        });
      },
      waitForEvent(predicate, what, timeoutMs = waitTimeout) {
        return new Promise<SessionSyncEvent>((resolve, reject) => {
          const seen = events.find(predicate);
          if (seen) return resolve(seen);
          const done = () => {
            clearTimeout(timer);
            stop();
            cleanups.delete(done);
          };
          const stop = session.onSessionSync((e) => {
            if (predicate(e)) {
              done();
              resolve(e);
            }
          });
          const timer = setTimeout(() => {
            done();
            reject(new ScenarioFailure(`waited ${timeoutMs} ms for ${what}`));
          }, timeoutMs);
          cleanups.add(done);
        }).then((e) => {
          stamp(`saw ${what} (#${e.seq ?? '-'} ${e.type} ${e.payload.trigger})`);
          return e;
        });
      },
    };
  }
}

/** Run the basic scenario once: the seed's `runQuickSessionTest`. */
export async function runQuickSessionTest(session: SessionSync, options: Omit<TesterOptions, 'builtIn'> = {}): Promise<ScenarioResult> {
  const tester = new SessionSynchronizationTester(session, { ...options, builtIn: false });
  return tester.runScenario(basicSessionSync);
}
