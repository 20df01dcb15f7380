import { describeError } from '@session-sync/client';

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A failure in words, the agent's explanation under it, and the code in small print. */
export function failureHtml(label: string, err: unknown, words?: string): string {
  const described = describeError(err);
  const sentence = words ?? described.sentence;
  return (
    `<span>${escape(label)}: ${escape(sentence)}</span>` +
    (described.detail ? `<span class="detail">${escape(described.detail)}</span>` : '') +
    `<small class="code" data-testid="error-code">${escape(described.code)}</small>`
  );
}

/** Why joining failed, in words: most often WebRTC with nothing but loopback. */
export function joinFailureWords(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  if (/pc connection|peer connection|ICE/i.test(text)) {
    return 'The server answered, but no media connection could be made. The browser and the server need an address other than loopback (see docs/self-hosted.md).';
  }
  if (/token endpoint/.test(text)) return "The page's endpoint refused the room or the identity.";
  return 'Could not join the room. Is the LiveKit server running?';
}
