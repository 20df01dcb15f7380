// Whether a command that cannot be repeated ran, read from a snapshot taken after LiveKit
// lost its reply (docs/protocol.md 6.4). Sent twice, such a command is refused
// `invalid_transition`, so it is sent again only when the snapshot shows it did not run.
import type { SessionSyncMethod, SessionSyncParams } from './generated/index.js';
import type { SessionSnapshot } from './types.js';

/** The commands that cannot be repeated, each with what a snapshot shows once it ran. */
const RAN = {
  'session.start': ({ session }, { sessionType }) => session.type === sessionType && session.state === 'active',
  'session.end': ({ session }) => session.type === null && session.state === 'idle',
  'session.ptt_end': ({ pushToTalk }) => !pushToTalk,
  'session.ptt_cancel': ({ pushToTalk }) => !pushToTalk,
} satisfies { [M in SessionSyncMethod]?: (snapshot: SessionSnapshot, params: SessionSyncParams[M]) => boolean };

export type ReadBackMethod = keyof typeof RAN;

/** A command whose lost reply is read back from a snapshot rather than sent again blindly. */
export function readsBack(method: SessionSyncMethod): method is ReadBackMethod {
  return Object.prototype.hasOwnProperty.call(RAN, method);
}

/** True when `snapshot` shows that `method`, sent with `params`, ran. */
export function ranAccordingTo<M extends ReadBackMethod>(
  method: M,
  params: SessionSyncParams[M],
  snapshot: SessionSnapshot,
): boolean {
  // Each entry takes its own method's params; TypeScript cannot follow `M` into the lookup.
  const ran = RAN[method] as (snapshot: SessionSnapshot, params: SessionSyncParams[M]) => boolean;
  return ran(snapshot, params);
}
