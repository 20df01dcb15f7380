import type { AgentPresenceState } from '@session-sync/client';

import { formatTime } from './time.js';

export interface DispatchInfo {
  url: string;
  agentName: string;
  dispatches?: number;
  lastDispatchAt?: number | null;
}

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The page's words about the agent: nothing while it is there, a wait while one is expected,
 * and, past the deadline, plainly that no agent has joined and what to check.
 */
export function agentBannerHtml(presence: AgentPresenceState | null, info: DispatchInfo | null): string {
  if (!presence || presence.status === 'present' || !presence.deadline) return '';
  const until = formatTime(presence.deadline);
  if (!presence.overdue) {
    const what = presence.status === 'gone' ? 'The agent left the room. Waiting for another' : 'Waiting for the agent to join';
    return `<p>${what} (until ${until})…</p>`;
  }
  const name = info?.agentName ?? '';
  const dispatched =
    info?.dispatches && info.dispatches > 0
      ? ` The page's endpoint has dispatched it ${info.dispatches === 1 ? 'once' : `${info.dispatches} times`}` +
        (info.lastDispatchAt ? `, last at ${formatTime(info.lastDispatchAt * 1000)}` : '') +
        '.'
      : '';
  const checks = [
    `Is a worker running against this server (<code>${escape(info?.url ?? 'LIVEKIT_URL')}</code>)? ` +
      'Start one with <code>uv run python -m agent dev</code>; its log says <code>registered worker</code>.',
    name
      ? `Does the worker have <code>AGENT_NAME=${escape(name)}</code>, the name this page dispatches?`
      : 'The worker must have an empty <code>AGENT_NAME</code> to be dispatched to every room automatically.',
    'Is the worker full? Its log says <code>worker full</code> or <code>refused the job</code>, with the reason.',
  ];
  return (
    `<p><strong>${presence.status === 'gone' ? 'The agent left and none has come back.' : 'No agent has joined this room.'}</strong>${dispatched}</p>` +
    `<ul>${checks.map((c) => `<li>${c}</li>`).join('')}</ul>`
  );
}
