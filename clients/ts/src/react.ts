// A thin React binding; React is an optional peer dependency, used only by this entry point.
import { useSyncExternalStore } from 'react';

import type { SessionSync } from './client.js';
import { SessionSyncClientEvent } from './client-types.js';
import type { SessionSyncState } from './types.js';

/** The session's state, re-rendering on every change. */
export function useSessionSync(session: SessionSync): SessionSyncState {
  return useSyncExternalStore(
    (changed: () => void) => {
      session.on(SessionSyncClientEvent.StateChanged, changed);
      return () => session.off(SessionSyncClientEvent.StateChanged, changed);
    },
    () => session.getState(),
    () => session.getState(),
  );
}
