// Scenario runner in the manner of the seed's sessionSyncTest.ts: run the seed's four
// scenarios (and your own) against a real agent through a connected `SessionSync`.
//
//   const tester = new SessionSynchronizationTester(session, { hooks });
//   tester.addScenario(customScenario);
//   const results = await tester.runAllTests();
import type { SessionSync } from '../client.js';
import { SessionSyncClientEvent } from '../client-types.js';
import type { SessionSyncEvent, SessionSyncState } from '../types.js';
import { BUILT_IN_SCENARIOS, basicSessionSync } from './scenarios.js';
import type { ScenarioContext, ScenarioResult, SessionSyncScenario, TesterOptions } from './types.js';

export {
  BUILT_IN_SCENARIOS,
  basicSessionSync,
  connectionInterruptionRecovery,
  sessionStateValidation,
  voiceSessionTurnDetection,
} from './scenarios.js';
export type { ScenarioContext, ScenarioHooks, ScenarioResult, SessionSyncScenario, TesterOptions } from './types.js';

/** Listen to every session-sync event; returns the function that stops it. */
function onSessionSyncEvent(session: SessionSync, listener: (event: SessionSyncEvent) => void): () => void {
  session.on(SessionSyncClientEvent.SessionSync, listener);
  return () => session.off(SessionSyncClientEvent.SessionSync, listener);
}

class ScenarioFailure extends Error {}
class ScenarioSkipped extends Error {}

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
    const stopEvents = onSessionSyncEvent(this.session, (e) => events.push(e));
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
          session.on(SessionSyncClientEvent.StateChanged, check);
          const stop = () => session.off(SessionSyncClientEvent.StateChanged, check);
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
          const stop = onSessionSyncEvent(session, (e) => {
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
