import type { AgentPresenceState, SessionSyncState } from '@session-sync/client';

/**
 * Which commands make sense now, so the page offers only those: no Start on a running session,
 * no Switch without one, push-to-talk only in voice-ptt, mute only in a voice session, and
 * nothing at all before an agent is there to ask.
 */
export function allowedCommands(state: SessionSyncState | null, presence: AgentPresenceState | null): Set<string> {
  const allowed = new Set<string>();
  const s = state?.session;
  if (!state || state.connection !== 'connected' || !state.agent || presence?.status !== 'present') return allowed;
  allowed.add('validate').add('sync').add('snapshot').add('scenarios');
  const live = !!s && (s.state === 'active' || s.state === 'syncing');
  if (!s || s.state === 'idle' || s.state === 'error') allowed.add('start');
  if (live) allowed.add('switch');
  if (s && s.state !== 'idle' && s.state !== 'ending') allowed.add('end');
  if (live && (s.type === 'voice-ptt' || s.type === 'voice-vad')) allowed.add('mute');
  if (live && s.type === 'voice-ptt' && !s.isMuted) allowed.add('talk');
  return allowed;
}

export function applyControls(state: SessionSyncState | null, presence: AgentPresenceState | null): void {
  const allowed = allowedCommands(state, presence);
  for (const button of document.querySelectorAll<HTMLButtonElement>('button[data-command]')) {
    // A held push-to-talk press must stay releasable.
    if (button.dataset.command === 'talk' && state?.pushToTalk) continue;
    button.disabled = !allowed.has(button.dataset.command ?? '');
  }
  const sync = document.querySelector<HTMLInputElement>('#sync-enabled');
  if (sync) sync.disabled = !allowed.has('validate');
}
