// Starts what the browser tests need besides the LiveKit server: the page's endpoint
// (server.py, serving the built page) and the real worker (`python -m agent start`), and a
// headless Chromium (Debian's, driven by playwright-core). Everything is stopped at the end.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const WEB = resolve(here, '..');
export const REPO = resolve(WEB, '../..');

export function requireEnv(page = join(WEB, 'dist', 'index.html')) {
  const missing = ['LIVEKIT_URL', 'LIVEKIT_API_KEY', 'LIVEKIT_API_SECRET'].filter((v) => !process.env[v]);
  if (missing.length) {
    throw new Error(`set ${missing.join(', ')} and start a LiveKit server (see the README)`);
  }
  if (!existsSync(page)) {
    throw new Error(`the page is not built (${page}): npm --prefix ${dirname(dirname(page))} run build`);
  }
}

function python() {
  if (process.env.PYTHON) return process.env.PYTHON;
  const venv = join(REPO, '.venv', 'bin', 'python');
  return existsSync(venv) ? venv : 'python3';
}

async function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A child process whose output is kept (and shown when a test fails). */
function start(name, args, env) {
  const child = spawn(args[0], args.slice(1), {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const lines = [];
  const watchers = new Set();
  const watch = (matches, what, timeoutMs) => {
    const next = new Promise((resolve, reject) => {
      const w = {
        matches,
        found: (line) => {
          watchers.delete(w);
          clearTimeout(timer);
          resolve(line);
        },
      };
      const timer = setTimeout(() => {
        watchers.delete(w);
        reject(new Error(`${name} did not write a line with ${what} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      watchers.add(w);
    });
    next.catch(() => {}); // a test that fails before awaiting it reports its own error
    return next;
  };
  mkdirSync(join(WEB, 'test-results'), { recursive: true });
  const file = createWriteStream(join(WEB, 'test-results', `${name}.log`));
  const add = (line) => {
    if (!line) return;
    lines.push(line);
    for (const w of watchers) if (w.matches(line)) w.found(line);
    if (lines.length > 400) lines.splice(0, lines.length - 400);
  };
  // A pipe delivers chunks, not lines: the tail of a chunk waits for the rest of its line,
  // or for the end of the stream.
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream.setEncoding('utf8'); // decoded as a stream: a character split between chunks stays whole
    stream.on('data', (chunk) => {
      file.write(chunk);
      const parts = (partial + chunk).split('\n');
      partial = parts.pop();
      parts.forEach(add);
    });
    stream.on('end', () => {
      add(partial);
      partial = '';
    });
  }
  return {
    name,
    child,
    lines,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        return;
      }
      const done = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
      if (!done) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    },
    /** Resolves with the next line containing `text` written after this call. */
    nextLine(text, timeoutMs) {
      return watch((line) => line.includes(text), JSON.stringify(text), timeoutMs);
    },
    /**
     * Resolves with the first line, already written or still to come, that contains every
     * one of `texts`: a line from a job process reaches this one later than the job's
     * replies reach the page, so "the next line" may be an earlier session's.
     */
    lineWith(texts, timeoutMs) {
      const matches = (line) => texts.every((t) => line.includes(t));
      const written = lines.find(matches);
      if (written !== undefined) return Promise.resolve(written);
      return watch(matches, texts.map((t) => JSON.stringify(t)).join(' and '), timeoutMs);
    },
    tail(n = 60) {
      return `--- ${name} (last ${n} lines) ---\n${lines.slice(-n).join('\n')}`;
    },
  };
}

/**
 * A TCP relay to the LiveKit server for the worker's connections: `cut()` drops every
 * connection and refuses new ones (the agent's signalling link goes down, the page's does
 * not), `restore()` accepts again on the same port. As tests/e2e/worker.py's `Relay`.
 */
async function startRelay(target) {
  const port = await freePort();
  const sockets = new Set();
  let server = null;
  const listen = () =>
    new Promise((ok, fail) => {
      server = createServer((inbound) => {
        const outbound = connect(target.port, target.hostname);
        for (const [a, b] of [
          [inbound, outbound],
          [outbound, inbound],
        ]) {
          sockets.add(a);
          a.pipe(b);
          a.on('error', () => b.destroy());
          a.on('close', () => {
            sockets.delete(a);
            b.destroy();
          });
        }
      });
      server.once('error', fail);
      server.listen(port, '127.0.0.1', () => ok());
    });
  await listen();
  return {
    port,
    async cut() {
      const closing = server;
      server = null;
      for (const s of sockets) s.destroy();
      sockets.clear();
      if (closing) await new Promise((r) => closing.close(() => r()));
    },
    async restore() {
      if (!server) await listen();
    },
    async close() {
      await this.cut();
    },
  };
}

/**
 * `src` (a PCM WAV) with `seconds` more silence at the end (and `leading` seconds before it),
 * written to `dest`. Chromium's fake microphone plays its file in a loop: the pause gives
 * voice-vad's answer time to be spoken before the next utterance would interrupt it, however
 * slowly a busy machine transcribes.
 */
function withSilence(src, dest, seconds, leading = 0) {
  const wav = readFileSync(src);
  const chunks = new Map();
  for (let at = 12; at + 8 <= wav.length; ) {
    const size = wav.readUInt32LE(at + 4);
    chunks.set(wav.toString('ascii', at, at + 4), wav.subarray(at + 8, at + 8 + size));
    at += 8 + size + (size & 1);
  }
  const fmt = chunks.get('fmt ');
  const data = chunks.get('data');
  if (wav.toString('ascii', 0, 4) !== 'RIFF' || !fmt || !data) throw new Error(`${src} is not a WAV file`);
  const blockAlign = fmt.readUInt16LE(12);
  const silence = (s) => Buffer.alloc(Math.round((s * fmt.readUInt32LE(8)) / blockAlign) * blockAlign);
  const body = Buffer.concat([silence(leading), data, silence(seconds)]);
  const header = (id, size) => {
    const b = Buffer.alloc(8);
    b.write(id, 0, 'ascii');
    b.writeUInt32LE(size, 4);
    return b;
  };
  const riff = Buffer.concat([Buffer.from('WAVE'), header('fmt ', fmt.length), fmt, header('data', body.length), body]);
  writeFileSync(dest, Buffer.concat([header('RIFF', riff.length), riff]));
}

/** The explicit-dispatch name the worker registers and the page's endpoint dispatches. */
const AGENT_NAME = 'session-sync-web-e2e';

/**
 * The worker, the endpoint serving `staticDir` (the page's build by default) and Chromium,
 * whose microphone plays `speech.file` (a fixture) with `speech.leading` seconds of silence
 * before it and `speech.trailing` after, over and over.
 */
export async function startStack({ staticDir = join(WEB, 'dist'), page = join(staticDir, 'index.html'), speech = {} } = {}) {
  requireEnv(page);
  const port = await freePort();
  const serverUrl = new URL(process.env.LIVEKIT_URL);
  const relay = await startRelay({ hostname: serverUrl.hostname, port: Number(serverUrl.port || 80) });
  const web = start('endpoint', [python(), join(WEB, 'server.py'), '--port', String(port), '--static', staticDir], {
    SESSION_SYNC_TEST_HOOKS: '1',
    AGENT_NAME, // the endpoint dispatches the agent to each room it makes a token for
  });
  // The worker's load counts its jobs and its own CPU, not the machine's: a busy shared
  // machine still gets its jobs dispatched.
  const worker = start('worker', [python(), '-m', 'agent', 'start'], {
    LIVEKIT_URL: `${serverUrl.protocol}//127.0.0.1:${relay.port}`, // through the relay
    AGENT_NAME, // explicit dispatch, as the page's endpoint asks for it
    DEFAULT_SESSION_TYPE: 'text',
    TURN_DETECTOR: 'vad-only',
    STT_MODEL: process.env.STT_MODEL ?? 'none', // a plain local server has no LiveKit Inference
    TTS_MODEL: process.env.TTS_MODEL ?? 'none',
    REJOIN_GRACE_SECONDS: '5',
    // Local speech-to-text on two busy cores can lag the audio by seconds: a released press
    // waits this long for its transcript (bounded; an empty press would get no answer).
    PTT_TRANSCRIPT_TIMEOUT_SECONDS: '30',
    LOG_LEVEL: 'INFO',
  });
  const base = `http://127.0.0.1:${port}`;
  const profile = mkdtempSync(join(tmpdir(), 'session-sync-chromium-'));
  const stopAll = async () => {
    await Promise.all([web.stop(), worker.stop()]);
    await relay.close();
    rmSync(profile, { recursive: true, force: true });
  };
  let browser;
  try {
    browser = await launch(base, web, worker, profile, speech);
  } catch (err) {
    await stopAll(); // nothing may outlive a failed start (the run would never end)
    throw err;
  }
  return {
    base,
    browser,
    web,
    worker,
    logs() {
      return `${web.tail(30)}\n${worker.tail(80)}`;
    },
    /** Drop the agent's link to the server until it says it is reconnecting, then restore it. */
    async cutAgentLink({ timeoutMs = 60_000 } = {}) {
      const reconnecting = worker.nextLine('agent link reconnecting', timeoutMs);
      await relay.cut();
      try {
        await reconnecting;
      } finally {
        await relay.restore();
      }
    },
    async stop() {
      await browser.close().catch(() => {});
      await stopAll();
    },
  };
}

/** Waits for the worker and the endpoint, then starts Chromium. */
async function launch(base, web, worker, profile, { file = 'speech_hello.wav', leading = 0, trailing = 8 } = {}) {
  // Rooms made before the worker registers get no agent: wait for it. It registers once its
  // job processes have loaded the models, or gives up waiting for them after
  // agent/server.py's PREWARM_TIMEOUT_SECONDS (60 s).
  for (let i = 0; !worker.lines.some((l) => l.includes('registered worker')); i++) {
    if (worker.child.exitCode !== null || i > 1500) {
      throw new Error(`the worker did not register with the server within 300 s\n${worker.tail()}`);
    }
    await sleep(200);
  }
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(`${base}/api/rooms`);
      if (res.ok) break;
    } catch {
      /* not up yet */
    }
    if (web.child.exitCode !== null || i > 150) {
      throw new Error(`the page's endpoint did not start\n${web.tail()}`);
    }
    await sleep(200);
  }
  // The fixtures are 16 kHz mono: Chromium converts a file to its capture format itself.
  const speech = join(profile, 'speech.wav');
  withSilence(join(REPO, 'tests', 'fixtures', file), speech, trailing, leading);
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--disk-cache-dir=${join(profile, 'cache')}`,
      // A microphone without a person: Chromium's fake capture device, no permission prompt.
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      // …that plays a recorded utterance with silence around it, over and over.
      `--use-file-for-fake-audio-capture=${speech}`,
      // Offer plain host candidates (not mDNS names) so the local server can reach them.
      '--disable-features=WebRtcHideLocalIpsWithMdns',
    ],
  });
}

/** A page joined to `room`, once the agent's session is there. */
export async function joinedPage(stack, room, { width = 1400, height = 900 } = {}) {
  const context = await stack.browser.newContext({ viewport: { width, height }, permissions: ['microphone'] });
  const page = await context.newPage();
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
  await page.goto(`${stack.base}/?room=${encodeURIComponent(room)}&identity=app-user&autojoin=1`);
  try {
    await page.waitForFunction(
      () => {
        const s = window.sessionSyncPage?.session()?.getState();
        return !!s && s.connection === 'connected' && s.agent !== null && s.session !== null && s.seq !== null;
      },
      null,
      { timeout: 300_000, polling: 200 },
    );
  } catch (err) {
    throw new Error(`${err.message}\n${consoleLines.slice(-30).join('\n')}\n${stack.logs()}`);
  }
  return { page, context, consoleLines };
}

export const uniqueRoom = (what) => `e2e-${what}-${Math.random().toString(36).slice(2, 8)}`;
