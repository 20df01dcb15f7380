import { Room, RoomEvent } from 'livekit-client';
import type { TextStreamReader } from 'livekit-client';
import { SessionSync, SessionSyncClientEvent, SessionSyncError } from '@session-sync/client';
import type { SessionSyncEvent, SessionSyncState, SessionType } from '@session-sync/client';
import { SessionSynchronizationTester } from '@session-sync/client/testing';
import type { ScenarioHooks, ScenarioResult } from '@session-sync/client/testing';

const $ = <T extends HTMLElement = HTMLElement>(selector: string): T => {
  const el = document.querySelector<T>(selector);
  if (!el) throw new Error(`missing ${selector}`);
  return el;
};

const params = new URLSearchParams(location.search);
const roomInput = $<HTMLInputElement>('#room');
const identityInput = $<HTMLInputElement>('#identity');
roomInput.value = params.get('room') ?? `room-${Math.random().toString(36).slice(2, 8)}`;
identityInput.value = params.get('identity') ?? `user-${Math.random().toString(36).slice(2, 6)}`;

let room: Room | null = null;
/**
 * What was said, both ways, as the agent's transcription stream tells it: one entry per
 * utterance (`lk.segment_id`), updated in place while interim and marked final when the
 * stream says so (`lk.transcription_final`).
 */
type Transcript = { who: string; text: string; at: number; fromAgent: boolean; segment: string; final: boolean };
const transcripts: Transcript[] = [];
const transcriptItems = new Map<string, { entry: Transcript; li: HTMLLIElement }>();
let session: SessionSync | null = null;
let eventCount = 0;

/**
 * How the connection scenario interrupts: the page's link by signal reconnect or a full
 * reconnect, or also the agent's own link (`agent`: the browser tests expose
 * `sessionSyncCutAgentLink`, which cuts it outside the page and restores it).
 */
type Interrupt = 'signal-reconnect' | 'full-reconnect' | 'agent';

/** For the browser tests and the console: the live objects of this page. */
declare global {
  interface Window {
    sessionSyncCutAgentLink?: () => Promise<void>;
    sessionSyncPage: {
      room: () => Room | null;
      session: () => SessionSync | null;
      join: (roomName: string, identity?: string) => Promise<void>;
      runScenario: (name: string, options?: { interrupt?: Interrupt }) => Promise<ScenarioResult>;
      runAll: () => Promise<ScenarioResult[]>;
      transcripts: () => typeof transcripts;
    };
  }
}

// -- rendering --------------------------------------------------------------------------

const fmtTime = (d: Date | null | undefined) => (d ? d.toISOString().slice(11, 23) : '—');
const badge = (text: string, cls: string) => `<span class="badge ${cls}">${escape(text)}</span>`;
function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function renderSession(state: SessionSyncState): void {
  const s = state.session;
  const rows: Array<[string, string, string]> = [
    ['connection', 'connection', badge(state.connection, state.connection === 'connected' ? 'ok' : 'warn')],
    ['agent', 'agent', escape(state.agent?.identity ?? 'none')],
    ['type', 'type', escape(s ? (s.type ?? 'none') : '—')],
    ['state', 'state', s ? badge(s.state, `state-${s.state}`) : '—'],
    ['revision', 'revision', String(s?.revision ?? '—')],
    ['seq', 'seq', String(state.seq ?? '—')],
    ['agent listening', 'listening', state.agentListening === null ? '—' : state.agentListening ? badge('listening', 'ok') : badge('not listening', 'state-idle')],
    ['push-to-talk', 'push-to-talk', state.pushToTalk ? 'pressed' : 'released'],
    ['muted', 'muted', String(s?.isMuted ?? '—')],
    ['turn detection', 'turn-detection', escape(s?.turnDetection ?? '—')],
    ['voice mode', 'voice-mode', escape(s?.voiceMode ?? '—')],
    ['periodic validation', 'sync-enabled', state.syncEnabled === null ? '—' : state.syncEnabled ? 'on' : 'off'],
    ['session id', 'session-id', escape(s?.sessionId ?? '—')],
    ['started', 'started-at', fmtTime(s?.startedAt)],
    ['last sync', 'last-sync', fmtTime(s?.lastSyncAt)],
    ['corrections', 'sync-attempts', String(s?.syncAttempts ?? '—')],
    ['inconsistency seen', 'inconsistency', String(s?.inconsistencyDetected ?? '—')],
    ['reconnects', 'reconnects', String(state.reconnects)],
    ['resyncs for gaps', 'gaps', String(state.gaps)],
  ];
  $('#session').innerHTML = rows
    .map(([label, id, value]) => `<dt>${label}</dt><dd data-testid="session-${id}">${value}</dd>`)
    .join('');
  const v = state.lastValidation;
  $('#validation').innerHTML = v
    ? `${badge(v.result.isValid ? 'valid' : 'inconsistent', v.result.isValid ? 'ok' : 'bad')} at ${fmtTime(v.at)}` +
      (v.result.inconsistencies.length ? `<ul>${v.result.inconsistencies.map((i) => `<li>${escape(i)}</li>`).join('')}</ul>` : '')
    : 'none yet';
  const talk = $('#talk');
  talk.classList.toggle('pressed', state.pushToTalk);
  $('#mute').textContent = s?.isMuted ? 'Unmute' : 'Mute';
  $<HTMLInputElement>('#sync-enabled').checked = state.syncEnabled ?? true;
  void applyMicrophone(state);
}

function renderEvent(e: SessionSyncEvent): void {
  eventCount += 1;
  const li = document.createElement('li');
  li.className = e.source;
  li.dataset.type = e.type;
  li.dataset.trigger = e.payload.trigger;
  li.innerHTML =
    `<span class="muted">${fmtTime(new Date(e.payload.timestamp))}</span>` +
    `<span class="muted">${e.seq === null ? 'app' : `#${e.seq}`}</span>` +
    `<span><span class="type">${e.type}</span> ${escape(e.payload.trigger)} ` +
    `<span class="muted">${escape(e.payload.frontendState.type ?? 'none')}/${e.payload.frontendState.state} r${e.payload.frontendState.revision}</span></span>` +
    (e.payload.detail ? `<span class="detail">${escape(e.payload.detail)}</span>` : '');
  $('#events').prepend(li);
  $('#event-count').textContent = `(${eventCount})`;
}

function status(text: string, bad = false): void {
  const el = $('#command-status');
  el.textContent = text;
  el.className = bad ? 'bad' : 'muted';
}

// -- the microphone: published in voice sessions, muted with the session ------------------

let micWanted: boolean | null = null;
async function applyMicrophone(state: SessionSyncState): Promise<void> {
  const s = state.session;
  const want = !!s && (s.type === 'voice-ptt' || s.type === 'voice-vad') && !s.isMuted;
  if (!room || want === micWanted) return;
  micWanted = want;
  try {
    await room.localParticipant.setMicrophoneEnabled(want);
  } catch (err) {
    status(`microphone: ${String(err)}`, true);
  }
}

// -- joining --------------------------------------------------------------------------------

async function join(roomName: string, identity?: string): Promise<void> {
  await leave();
  const q = new URLSearchParams({ room: roomName, ...(identity ? { identity } : {}) });
  const res = await fetch(`/api/token?${q}`);
  if (!res.ok) throw new Error(`token endpoint: ${res.status} ${await res.text()}`);
  const { url, token } = (await res.json()) as { url: string; token: string };
  const r = new Room({ adaptiveStream: true, dynacast: true });
  room = r;
  session = new SessionSync(r);
  session.on(SessionSyncClientEvent.StateChanged, renderSession);
  session.setSessionSyncEventCallback(renderEvent);
  r.registerTextStreamHandler('lk.transcription', (reader: TextStreamReader, participant) => {
    void readTranscript(reader, participant.identity);
  });
  r.on(RoomEvent.Disconnected, () => {
    $<HTMLButtonElement>('#join-button').disabled = false;
    $<HTMLButtonElement>('#leave-button').disabled = true;
  });
  renderSession(session.getState());
  await r.connect(url, token);
  $<HTMLButtonElement>('#join-button').disabled = true;
  $<HTMLButtonElement>('#leave-button').disabled = false;
  history.replaceState(null, '', `?room=${encodeURIComponent(roomName)}`);
  status(`joined ${roomName} as ${r.localParticipant.identity}`);
}

async function leave(): Promise<void> {
  session?.dispose();
  session = null;
  micWanted = null;
  if (room) await room.disconnect();
  room = null;
}

/**
 * One transcription stream: an agent's reply arrives as one stream of deltas; the user's
 * words as one stream per update of the utterance, each carrying all of its text so far. Both
 * name their utterance by `lk.segment_id`, so each is shown once, in place.
 */
async function readTranscript(reader: TextStreamReader, who: string): Promise<void> {
  const segment = reader.info.attributes?.['lk.segment_id'] ?? reader.info.id;
  let text = '';
  for await (const chunk of reader) {
    text += chunk;
    showTranscript(who, segment, text, false);
  }
  // The closing attributes (the trailer's) are merged into the stream's info once it ends.
  showTranscript(who, segment, text, reader.info.attributes?.['lk.transcription_final'] === 'true');
}

function showTranscript(who: string, segment: string, text: string, final: boolean): void {
  if (!text.trim()) return;
  const key = `${who}\u0000${segment}`;
  let item = transcriptItems.get(key);
  if (!item) {
    const agent = session?.getState().agent?.identity;
    const entry: Transcript = { who, text, at: Date.now(), fromAgent: who === agent, segment, final };
    const li = document.createElement('li');
    li.className = who === room?.localParticipant.identity ? 'user' : 'agent';
    transcripts.push(entry);
    $('#transcript').append(li);
    item = { entry, li };
    transcriptItems.set(key, item);
  }
  item.entry.text = text;
  item.entry.final = item.entry.final || final;
  item.li.textContent = `${who}: ${text}`;
  item.li.classList.toggle('interim', !item.entry.final);
  item.li.dataset.final = String(item.entry.final);
}

// -- commands ---------------------------------------------------------------------------------

async function run(label: string, action: (s: SessionSync) => Promise<unknown>): Promise<void> {
  if (!session) return status('join a room first', true);
  try {
    await action(session);
    status(`${label}: ok`);
  } catch (err) {
    if (err instanceof SessionSyncError) {
      status(`${label}: ${err.code}${err.rpcCode ? ` (${err.rpcCode})` : ''} ${JSON.stringify(err.details)}`, true);
    } else {
      status(`${label}: ${String(err)}`, true);
    }
  }
}

const selectedType = () => $<HTMLSelectElement>('#session-type').value as SessionType;

function tester(s: SessionSync, interrupt?: Interrupt): SessionSynchronizationTester {
  const hooks: ScenarioHooks = {};
  if (interrupt === 'agent') {
    const cut = window.sessionSyncCutAgentLink;
    if (!cut) throw new Error("nothing here can cut the agent's link");
    hooks.interruptAgentConnection = () => cut();
  } else if (interrupt) {
    hooks.interruptConnection = (sess) => sess.room.simulateScenario(interrupt);
  }
  // The browser tests serve the page with the drift hook on; elsewhere it answers 404.
  hooks.induceDrift = async (sess) => {
    const res = await fetch(`/api/rooms/${encodeURIComponent(sess.room.name)}/drift`, { method: 'POST' });
    // The scenario itself waits for what follows: the drift shown, then found.
    if (!res.ok) throw new Error(`drift hook: ${res.status} ${await res.text()}`);
  };
  // The microphone is whatever the browser captures (the browser tests feed a speech file
  // played in a loop): hold the button at least `speakMs`, and on until the agent has heard
  // words (its transcript of the user), at most `speakMaxMs`. Then watch the transcription
  // stream for the answer.
  hooks.speak = async (sess) => {
    const start = Date.now();
    const least = Number(params.get('speakMs') ?? 5500);
    const most = Number(params.get('speakMaxMs') ?? 45_000);
    const heard = () => transcripts.some((t) => t.who === sess.room.localParticipant.identity && t.at >= start);
    while (Date.now() - start < most && (Date.now() - start < least || !heard())) {
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  hooks.awaitReply = async (_sess, since) => {
    // Local speech-to-text on a small, busy machine can take a while to finish a turn.
    const limit = Number(params.get('replyMs') ?? 120_000);
    for (const start = Date.now(); Date.now() - start < limit; ) {
      if (transcripts.some((t) => t.fromAgent && t.at >= since)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the agent did not answer within ${limit / 1000} s`);
  };
  return new SessionSynchronizationTester(s, {
    hooks,
    onResult: (r) => {
      const li = document.createElement('li');
      li.dataset.status = r.status;
      li.innerHTML = `${badge(r.status, r.status === 'passed' ? 'ok' : r.status === 'skipped' ? 'warn' : 'bad')} ${escape(r.name)} <span class="muted">${r.durationMs} ms ${escape(r.error ?? '')}</span>`;
      $('#scenario-results').append(li);
    },
  });
}

document.addEventListener('click', (ev) => {
  const button = (ev.target as HTMLElement).closest<HTMLButtonElement>('button[data-command]');
  if (!button) return;
  switch (button.dataset.command) {
    case 'start':
      return void run('start', (s) => s.startSession(selectedType()));
    case 'switch':
      return void run('switch', (s) => s.switchSession(selectedType()));
    case 'end':
      return void run('end', (s) => s.endSession());
    case 'mute':
      return void run('mute', (s) => s.setMuted(!(s.getSessionConfig()?.isMuted ?? false)));
    case 'validate':
      return void run('validate', (s) => s.validateSessionState());
    case 'sync':
      return void run('sync', (s) => s.syncSessionState('manual'));
    case 'snapshot':
      return void run('snapshot', (s) => s.snapshot());
    case 'scenarios':
      $('#scenario-results').innerHTML = '';
      return void run('scenarios', (s) => tester(s).runAllTests());
  }
});

// Hold to talk: press on pointer down, release on up (or cancel if the pointer leaves).
const talk = $('#talk');
talk.addEventListener('pointerdown', (ev) => {
  ev.preventDefault();
  try {
    talk.setPointerCapture(ev.pointerId); // the release counts even off the button
  } catch {
    /* not a real pointer */
  }
  void run('push-to-talk', (s) => s.startPushToTalk());
});
talk.addEventListener('pointerup', () => void run('release', (s) => s.endPushToTalk()));
talk.addEventListener('pointercancel', () => void run('cancel', (s) => s.cancelPushToTalk()));

$<HTMLInputElement>('#sync-enabled').addEventListener('change', (ev) => {
  const enabled = (ev.target as HTMLInputElement).checked;
  void run('periodic validation', (s) => s.setSessionSyncEnabled(enabled));
});

$('#join').addEventListener('submit', (ev) => {
  ev.preventDefault();
  join(roomInput.value, identityInput.value || undefined).catch((err: unknown) => status(String(err), true));
});
$('#leave-button').addEventListener('click', () => void leave().then(() => status('left')));

$('#chat').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = $<HTMLInputElement>('#chat-text');
  const text = input.value.trim();
  if (!room || !text) return;
  input.value = '';
  void room.localParticipant.sendText(text, { topic: 'lk.chat' }).then(() => showTranscript(room?.localParticipant.identity ?? 'me', `chat-${Date.now()}`, text, true));
});

window.sessionSyncPage = {
  room: () => room,
  session: () => session,
  join,
  runScenario: async (name, options = {}) => {
    if (!session) throw new Error('join a room first');
    return tester(session, options.interrupt).runScenario(name);
  },
  transcripts: () => transcripts,
  runAll: async () => {
    if (!session) throw new Error('join a room first');
    return tester(session).runAllTests();
  },
};

if (params.get('autojoin') === '1') {
  join(roomInput.value, identityInput.value || undefined).catch((err: unknown) => status(String(err), true));
}
