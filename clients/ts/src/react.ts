// A thin React binding; React is an optional peer dependency, used only by this entry point.
import { useSyncExternalStore } from 'react';

import type { SessionSync } from './client.js';
import type { SessionSyncState } from './types.js';

/** The session's state, re-rendering on every change. */
export function useSessionSync(session: SessionSync): SessionSyncState {
  return useSyncExternalStore(session.subscribe, () => session.getState(), () => session.getState());
}
