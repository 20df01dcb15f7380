import { timeHtml } from './time.js';

// Read-only: every room on the server and its agent's published session, polled from the
// local endpoint (which reads LiveKit's server API).
interface AgentView {
  identity: string;
  session: {
    type: string | null;
    state: string;
    revision: number;
    isMuted: boolean;
    turnDetection: string;
    lastSyncAt?: string | null; // absent before the first sync; null from older agents
    syncAttempts: number;
    inconsistencyDetected: boolean;
  } | null;
  pushToTalk: string | null;
}
interface RoomView {
  name: string;
  participants: Array<{ identity: string; kind: string }>;
  agents: AgentView[];
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const badge = (text: string, cls: string) => `<span class="badge ${cls}">${escape(text)}</span>`;
const body = document.querySelector('#rooms tbody')!;

function row(room: RoomView, agent: AgentView | undefined): string {
  const s = agent?.session;
  const cells = [
    escape(room.name),
    escape(agent?.identity ?? 'no agent'),
    escape(s ? (s.type ?? 'none') : '—'),
    s ? badge(s.state, `state-${s.state}`) : '—',
    String(s?.revision ?? '—'),
    escape(agent?.pushToTalk ?? '—'),
    String(s?.isMuted ?? '—'),
    escape(s?.turnDetection ?? '—'),
    timeHtml(s?.lastSyncAt),
    String(s?.syncAttempts ?? '—'),
    s ? (s.inconsistencyDetected ? badge('seen', 'warn') : badge('none', 'ok')) : '—',
    escape(room.participants.map((p) => `${p.identity}${p.kind === 'agent' ? ' (agent)' : ''}`).join(', ')),
  ];
  return `<tr data-room="${escape(room.name)}">${cells.map((c, i) => `<td class="${i === 4 ? 'mono' : ''}">${c}</td>`).join('')}</tr>`;
}

async function refresh(): Promise<void> {
  try {
    const res = await fetch('/api/rooms');
    if (!res.ok) throw new Error(`${res.status}`);
    const { rooms } = (await res.json()) as { rooms: RoomView[] };
    body.innerHTML = rooms.map((r) => (r.agents.length ? r.agents.map((a) => row(r, a)).join('') : row(r, undefined))).join('');
    document.querySelector<HTMLElement>('#empty')!.hidden = rooms.length > 0;
    document.querySelector('#updated')!.innerHTML = `updated ${timeHtml(new Date())}`;
  } catch (err) {
    document.querySelector('#updated')!.textContent = `cannot read the rooms: ${String(err)}`;
  }
}

void refresh();
setInterval(() => void refresh(), 1000);
