// The starter's `useAgentErrors` (hooks/useAgentErrors.tsx in livekit-examples/
// agent-starter-react), as it behaves: once `useAgent` reports `failed` (its own 20 s
// "did not complete initializing" check, or the agent leaving), the call is ended. Here the
// reasons are kept for the page and the tests instead of shown in a toast.
import { useEffect } from 'react';
import { useAgent, useSessionContext } from '@livekit/components-react';

import { probe } from './probe';

export function useAgentErrors(onFailure: (reasons: string[]) => void): void {
  const agent = useAgent();
  const { isConnected, end } = useSessionContext();

  useEffect(() => {
    if (isConnected && agent.state === 'failed') {
      const reasons = agent.failureReasons;
      probe.failures.push(...reasons);
      onFailure(reasons);
      void end();
    }
  }, [agent, isConnected, end, onFailure]);
}
