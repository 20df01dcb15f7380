import type { SessionSyncError, SessionSyncErrorCode } from './errors.js';

/** A failed command in words for a person, with the code kept for the small print. */
export interface ErrorText {
  /** One plain sentence: what happened and, where it helps, what to do. */
  sentence: string;
  /** The agent's own explanation, when it adds something (e.g. which setting is missing). */
  detail: string | null;
  /** `invalid_transition (2409)`: for the small print and for bug reports. */
  code: string;
}

const SENTENCES: Partial<Record<SessionSyncErrorCode, string>> = {
  invalid_transition: "That can't be done in the session's current state.",
  wrong_session_type: "That only works in another type of session.",
  unavailable: "The agent can't run that session type here.",
  forbidden: 'Only the user the agent is linked to can control this session.',
  rate_limited: 'Too many commands at once. Wait a moment and try again.',
  busy: 'The agent is still busy with earlier commands. Try again in a moment.',
  invalid_params: 'The agent refused the values sent with the command.',
  payload_too_large: 'The command was too large for the agent.',
  malformed: 'The agent could not read the command.',
  unknown_method: "The agent doesn't know this command (it may be an older version).",
  unsupported_method: "The agent doesn't know this command (it may be an older version).",
  unknown_type: 'The agent could not read the command.',
  unsupported_version: "The agent doesn't speak this version of the protocol.",
  internal: 'The agent failed while carrying out the command.',
  no_agent: 'No agent is in the room yet, so there is no one to send the command to.',
  response_timeout: "The agent didn't answer in time. The command may still have run; the page reads the session again.",
  connection_timeout: "The agent didn't answer in time. The command may still have run; the page reads the session again.",
  recipient_not_found: 'The agent is no longer in the room.',
  recipient_disconnected: 'The agent left before it answered.',
  request_payload_too_large: 'The command was too large to send.',
  response_payload_too_large: "The agent's answer was too large to receive.",
  send_failed: "The command couldn't be sent; check the connection.",
  bad_response: "The agent's answer could not be read.",
};

/** What a session's state allows, for `invalid_transition`. */
function transitionSentence(details: Record<string, unknown>, method: string): string | null {
  const state = typeof details.state === 'string' ? details.state : null;
  const allowed = Array.isArray(details.allowed) ? details.allowed.map(String) : [];
  if (method === 'session.start' && allowed.includes('session.switch')) {
    return 'A session is already running. Switch its type, or end it first.';
  }
  if (method === 'session.switch' && state === 'idle') return 'There is no session to switch. Start one first.';
  if (details.isMuted === true) return 'The agent is muted. Unmute it first.';
  if (state) return `That can't be done while the session is ${state}.`;
  return null;
}

/** A failed command (or any error) as a sentence, the agent's detail and the code. */
export function describeError(err: unknown): ErrorText {
  const e = err as Partial<SessionSyncError> | null;
  if (!e || typeof e !== 'object' || typeof e.code !== 'string') {
    return { sentence: 'Something went wrong.', detail: err instanceof Error ? err.message : String(err), code: 'error' };
  }
  const code = e.code as SessionSyncErrorCode;
  const details = e.details ?? {};
  const sentence =
    (code === 'invalid_transition' ? transitionSentence(details, String(e.method ?? '')) : null) ??
    SENTENCES[code] ??
    'The command failed.';
  // The agent's message is "<code>: <text>"; its text often says exactly what is missing.
  const raw = typeof e.message === 'string' ? e.message.replace(/^[a-z_]+:\s*/, '') : '';
  const detail = raw && raw !== sentence ? raw : null;
  return { sentence, detail, code: e.rpcCode ? `${code} (${e.rpcCode})` : code };
}
