// Browser tests: the page, the real worker and a real LiveKit server, driven by headless
// Chromium. Needs LIVEKIT_URL / LIVEKIT_API_KEY / LIVEKIT_API_SECRET and a running server;
// starts and stops the worker and the page's endpoint itself.
//
//   npm --prefix clients/web run test:e2e
//
// SESSION_SYNC_SCREENSHOTS=DIR also saves the page mid-session and the monitor as PNGs.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { joinedPage, startStack, uniqueRoom } from './harness.mjs';

let stack;
before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.stop();
});

async function runScenario(page, name, options = {}) {
  const result = await page.evaluate(([n, o]) => window.sessionSyncPage.runScenario(n, o), [name, options]);
  const transcripts = await page.evaluate(() => window.sessionSyncPage.transcripts());
  const said = transcripts.map((t) => `${new Date(t.at).toISOString()} ${t.fromAgent ? 'agent' : t.who}: ${t.text}`);
  const explain = () =>
    `${name}: ${result.status} ${result.error ?? ''}\n${result.log.join('\n')}\n--- what was said ---\n${said.join('\n')}\n${stack.logs()}`;
  return { result, explain, said };
}

/**
 * The worker's summary of the session a scenario logged as `… session <id> …`. Matched by id:
 * the previous scenario's summary, written by the job process, may reach the worker's output
 * after this scenario has begun.
 */
async function summaryOf(result, timeoutMs) {
  const id = result.log.map((l) => /\bsession ([0-9a-f]{32})\b/.exec(l)?.[1]).find(Boolean);
  assert.ok(id, `the scenario logged no session id: ${result.log.join('\n')}`);
  return JSON.parse(await stack.worker.lineWith(['"session summary"', `"session_id": "${id}"`], timeoutMs));
}

// Bounded, and generous: job processes start, and local speech runs, on two shared cores.
const SCENARIO = { timeout: 240_000 };
const VOICE = { timeout: 420_000 };

describe("the seed's scenarios in a real browser", () => {
  let joined;
  before(async () => {
    joined = await joinedPage(stack, uniqueRoom('scenarios'));
    // The page's hook for the agent's link: the relay is in this process.
    await joined.page.exposeFunction('sessionSyncCutAgentLink', () => stack.cutAgentLink());
  });
  after(async () => {
    await joined?.context.close();
  });

  test('basic session sync: a text session started, followed, synced and ended', SCENARIO, async () => {
    const { result, explain } = await runScenario(joined.page, 'Basic Session Sync');
    assert.equal(result.status, 'passed', explain());
    // The agent summed the session up in one structured line as it ended.
    const line = await summaryOf(result, 60_000);
    assert.equal(line.ended_by, 'session.end', JSON.stringify(line));
    assert.equal(line.session_type, 'text');
    assert.deepEqual(Object.keys(line.seconds_by_type), ['text']);
    assert.equal(line.switches, 0);
    // The page showed it: the session ended idle and the log has the agent's events.
    await joined.page.getByTestId('session-state').filter({ hasText: 'idle' }).waitFor({ timeout: 60_000 });
    const triggers = await joined.page.locator('#events li').evaluateAll((els) => els.map((e) => e.dataset.trigger));
    assert.ok(triggers.includes('session.start'), `events shown: ${triggers.join(', ')}`);
    assert.ok(triggers.includes('session.end'), `events shown: ${triggers.join(', ')}`);
  });

  test("connection interruption: the page's link is cut and restored, and the session converges", SCENARIO, async () => {
    const { result, explain } = await runScenario(joined.page, 'Connection Interruption Recovery');
    assert.equal(result.status, 'passed', explain());
    const reconnects = await joined.page.getByTestId('session-reconnects').textContent();
    assert.ok(Number(reconnects) >= 1, `reconnects shown: ${reconnects}`);
  });

  test('connection interruption: the page rejoins as a new participant, and the session converges', SCENARIO, async () => {
    const { result, explain } = await runScenario(joined.page, 'Connection Interruption Recovery', {
      interrupt: 'full-reconnect',
    });
    assert.equal(result.status, 'passed', explain());
  });

  test("connection interruption: the agent's link is cut and restored, and the page sees the same session come back", SCENARIO, async () => {
    const { result, explain } = await runScenario(joined.page, 'Connection Interruption Recovery', { interrupt: 'agent' });
    assert.equal(result.status, 'passed', explain());
    // The session's summary, logged as it ended, counted the agent's reconnect (a loaded
    // machine may see its link come back in two steps).
    const line = await summaryOf(result, 60_000);
    assert.equal(line.ended_by, 'session.end');
    assert.ok(line.agent_reconnects >= 1, `agent_reconnects: ${line.agent_reconnects}`);
    assert.ok(
      result.log.some((l) => l.includes("saw the agent's reconnect")),
      `the agent's link was not cut: ${result.log.join('\n')}`,
    );
    const shown = await joined.page.locator('#events li[data-trigger="reconnected"]').count();
    assert.ok(shown >= 1, "the page's event log does not show the agent's reconnect");
  });

  test("drift: the agent's published state is overwritten, found and corrected", SCENARIO, async () => {
    const { result, explain } = await runScenario(joined.page, 'Session State Validation');
    assert.equal(result.status, 'passed', explain());
    assert.ok(
      result.log.some((l) => l.includes('found: ')),
      `the drift was not induced: ${result.log.join('\n')}`,
    );
  });

  test('voice session with turn detection: push-to-talk, mute and voice-vad', VOICE, async (t) => {
    const { result, explain, said } = await runScenario(joined.page, 'Voice Session with Turn Detection');
    if (result.status === 'skipped' && process.env.SESSION_SYNC_REQUIRE_VOICE !== '1') {
      t.skip(`the worker has no speech-to-text here: ${result.error}`);
      return;
    }
    assert.equal(result.status, 'passed', explain());
    for (const line of [...result.log, ...said]) t.diagnostic(line);
  });
});

describe("the page's controls", () => {
  test('the buttons match the session: start, validate and end, and the page shows each step', SCENARIO, async () => {
    const room = uniqueRoom('controls');
    const { page, context } = await joinedPage(stack, room);
    try {
      const state = page.getByTestId('session-state');
      const type = page.getByTestId('session-type');
      const button = (name) => page.getByRole('button', { name, exact: true });
      // The agent started a text session on its own: the page offers no Start on it.
      await state.filter({ hasText: 'active' }).waitFor();
      assert.equal(await button('Start').isDisabled(), true, 'Start is offered on a running session');
      assert.equal(await button('Switch').isEnabled(), true);
      assert.equal(await button('Hold to talk').isDisabled(), true, 'push-to-talk is offered in a text session');
      assert.equal(await button('Mute').isDisabled(), true, 'mute is offered in a text session');
      await button('End').click();
      await state.filter({ hasText: 'idle' }).waitFor();
      assert.equal(await type.textContent(), 'none');
      assert.equal(await button('Switch').isDisabled(), true, 'Switch is offered with no session');
      await page.getByLabel('Session type').selectOption('text');
      await button('Start').click();
      await state.filter({ hasText: 'active' }).waitFor();
      assert.equal(await type.textContent(), 'text');
      assert.equal(await button('Start').isDisabled(), true);
      await button('Validate').click();
      await page.getByTestId('validation').filter({ hasText: 'valid' }).waitFor();
      await button('Sync').click();
      await page.locator('#events li[data-trigger="manual"]').first().waitFor();
      if (process.env.SESSION_SYNC_SCREENSHOTS) {
        await page.setViewportSize({ width: 1400, height: 600 });
        await page.screenshot({ path: join(process.env.SESSION_SYNC_SCREENSHOTS, 'session-sync-page.png') });
        const monitor = await context.newPage();
        await monitor.setViewportSize({ width: 1400, height: 300 });
        await monitor.goto(`${stack.base}/monitor.html`);
        await monitor.locator(`tr[data-room="${room}"]`).waitFor();
        await monitor.screenshot({ path: join(process.env.SESSION_SYNC_SCREENSHOTS, 'session-sync-monitor.png') });
      }
      await button('End').click();
      await state.filter({ hasText: 'idle' }).waitFor();
      assert.equal(await type.textContent(), 'none');
    } finally {
      await context.close();
    }
  });

  test('a refused command is told in words, with its code in small print', SCENARIO, async () => {
    const { page, context } = await joinedPage(stack, uniqueRoom('errors'));
    try {
      await page.getByTestId('session-state').filter({ hasText: 'active' }).waitFor();
      await page.evaluate(() => window.sessionSyncPage.command('start', 'session.start', { sessionType: 'text' }));
      const shown = page.getByTestId('command-status');
      await shown.filter({ hasText: 'A session is already running. Switch its type, or end it first.' }).waitFor();
      assert.equal(await page.getByTestId('error-code').textContent(), 'invalid_transition (2409)');
      assert.doesNotMatch(await shown.textContent(), /[{}]/, 'raw JSON shown');
      await page.evaluate(() => window.sessionSyncPage.command('mute', 'session.set_muted', { muted: true }));
      await shown.filter({ hasText: 'That only works in another type of session.' }).waitFor();
      assert.equal(await page.getByTestId('error-code').textContent(), 'wrong_session_type (2412)');
    } finally {
      await context.close();
    }
  });

  test("last sync and last validation fill from the agent's periodic checks, with no click", SCENARIO, async () => {
    const { page, context } = await joinedPage(stack, uniqueRoom('periodic'));
    try {
      const validation = page.getByTestId('validation');
      // The agent checks every 5 s (SYNC_INTERVAL_SECONDS); each clean pass is announced.
      await validation.filter({ hasText: 'valid' }).waitFor({ timeout: 60_000 });
      const lastSync = await page.getByTestId('session-last-sync').textContent();
      assert.match(lastSync, /^\d\d:\d\d:\d\d\.\d\d\d$/, `last sync shown: ${lastSync}`);
      const time = await validation.locator('time').textContent();
      assert.match(time, /^\d\d:\d\d:\d\d\.\d\d\d$/);
      // The page has an icon.
      const icon = await page.locator('link[rel="icon"]').getAttribute('href');
      assert.equal((await fetch(new URL(icon, stack.base))).status, 200);
    } finally {
      await context.close();
    }
  });
});

describe('the monitor', () => {
  test("lists the room with its agent's session and follows its changes", SCENARIO, async () => {
    const room = uniqueRoom('monitor');
    const { page, context } = await joinedPage(stack, room);
    try {
      const monitor = await context.newPage();
      await monitor.goto(`${stack.base}/monitor.html`);
      const row = monitor.locator(`tr[data-room="${room}"]`);
      await row.waitFor({ timeout: 60_000 });
      const before = await page.evaluate(() => window.sessionSyncPage.session().getSessionConfig());
      if (before.type !== null) await page.evaluate(() => window.sessionSyncPage.session().endSession());
      await page.evaluate(() => window.sessionSyncPage.session().startSession('text'));
      const revision = await page.evaluate(() => window.sessionSyncPage.session().getSessionConfig().revision);
      await row.filter({ hasText: 'active' }).filter({ hasText: String(revision) }).waitFor({ timeout: 60_000 });
      assert.match(await row.textContent(), /text/);
      assert.match(await row.textContent(), /app-user/);
      // The monitor writes its times as the page does.
      const updated = await monitor.getByTestId('updated').locator('time').textContent();
      assert.match(updated, /^\d\d:\d\d:\d\d\.\d\d\d$/);
    } finally {
      await context.close();
    }
  });
});
