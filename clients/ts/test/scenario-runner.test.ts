import { describe, expect, it } from 'vitest';

import { SessionSync } from '../src/index.js';
import { runQuickSessionTest, SessionSynchronizationTester } from '../src/testing/index.js';
import { AgentReplay } from './replay.js';

function tester(builtIn = false) {
  const replay = new AgentReplay();
  const session = new SessionSync(replay.room.asRoom());
  return { replay, session, tester: new SessionSynchronizationTester(session, { builtIn, waitTimeoutMs: 50, timeoutMs: 500 }) };
}

describe('scenario runner', () => {
  it("comes with the seed's four scenarios", () => {
    expect(tester(true).tester.scenarioNames).toEqual([
      'Basic Session Sync',
      'Voice Session with Turn Detection',
      'Connection Interruption Recovery',
      'Session State Validation',
    ]);
  });

  it('reports each scenario as passed, failed or skipped and keeps going after a failure', async () => {
    const { tester: t } = tester();
    t.addScenario({ name: 'fails', run: async (ctx) => ctx.check(false, 'the session was wrong') });
    t.addScenario({ name: 'skips', run: async (ctx) => ctx.skip('no voice here') });
    t.addScenario({ name: 'passes', run: async (ctx) => ctx.check(true, 'never shown') });
    const results = await t.runAllTests();
    expect(results.map((r) => [r.name, r.status, r.error])).toEqual([
      ['fails', 'failed', 'the session was wrong'],
      ['skips', 'skipped', 'no voice here'],
      ['passes', 'passed', undefined],
    ]);
  });

  it('fails a scenario that waits for something that never happens', async () => {
    const { tester: t } = tester();
    t.addScenario({ name: 'waits', run: async (ctx) => void (await ctx.waitFor((s) => s.session !== null, 'a session')) });
    const [result] = await t.runAllTests();
    expect(result!.status).toBe('failed');
    expect(result!.error).toMatch(/waited 50 ms for a session/);
  });

  it('fails the quick test when there is no agent to talk to', async () => {
    const { session } = tester();
    const result = await runQuickSessionTest(session, { waitTimeoutMs: 50 });
    expect(result.passed).toBe(false);
    expect(result.error).toMatch(/an agent with a session/);
  });
});
