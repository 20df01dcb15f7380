/** The one time format of the page and the monitor: local 24-hour time with milliseconds
 * (`14:03:07.250`); the full date and time zone are in the element's title. */
export function formatTime(at: Date | number | string | null | undefined): string {
  if (at === null || at === undefined || at === '') return '—';
  const d = at instanceof Date ? at : new Date(at);
  if (Number.isNaN(d.getTime())) return '—';
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** `formatTime` in a `<time>` element whose title has the full date. */
export function timeHtml(at: Date | number | string | null | undefined): string {
  const text = formatTime(at);
  if (text === '—') return text;
  const d = at instanceof Date ? at : new Date(at as string | number);
  return `<time datetime="${d.toISOString()}" title="${d.toString()}">${text}</time>`;
}

/** When the agent last confirmed the session in sync: a correction or `session.sync`
 * (`lastSyncAt`), or a validation pass that found it right (announced by the agent). */
export function lastSync(state: {
  session: { lastSyncAt?: Date | null } | null;
  lastValidation: { result: { isValid: boolean }; at: Date } | null;
}): Date | null {
  const synced = state.session?.lastSyncAt ?? null;
  const checked = state.lastValidation?.result.isValid ? state.lastValidation.at : null;
  if (!synced || !checked) return synced ?? checked;
  return synced > checked ? synced : checked;
}
