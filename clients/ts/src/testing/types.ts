import type { SessionSync } from '../client.js';
import type { SessionConfig, SessionSyncEvent, SessionSyncState, SessionType } from '../types.js';

/** Ways to disturb the session from outside the app, supplied by the test environment. */
export interface ScenarioHooks {
  /**
   * Cut this client's connection and let it come back. Default: livekit-client's
   * `room.simulateScenario('signal-reconnect')`.
   */
  interruptConnection?: (session: SessionSync) => Promise<void>;
  /**
   * Cut the agent's own connection to the server and restore it (for example through a relay
   * the test holds). With it, the connection scenario also checks that the app sees the agent
   * come back and that the session survives it.
   */
  interruptAgentConnection?: (session: SessionSync) => Promise<void>;
  /**
   * Make what the agent publishes drift from its session behind its back (for example by
   * overwriting one of its `session.*` attributes through LiveKit's server API). Without it
   * the validation scenario checks a clean pass and a manual sync only.
   */
  induceDrift?: (session: SessionSync) => Promise<void>;
  /** Speak into the microphone while push-to-talk is held (a fake capture device). */
  speak?: (session: SessionSync) => Promise<void>;
  /**
   * Resolve once the agent has answered a user turn that ended after this call began (for
   * example: a reply on the `lk.transcription` text stream). With it, the voice scenario
   * checks that a released press, and then voice-vad on its own, commit a turn.
   */
  awaitReply?: (session: SessionSync, since: number) => Promise<void>;
}

export interface ScenarioContext {
  readonly session: SessionSync;
  readonly hooks: ScenarioHooks;
  /** Wait until the client's state satisfies `predicate`. */
  waitFor(predicate: (state: SessionSyncState) => boolean, what: string, timeoutMs?: number): Promise<SessionSyncState>;
  /** Wait for a session-sync event (one already received since the scenario began counts). */
  waitForEvent(predicate: (event: SessionSyncEvent) => boolean, what: string, timeoutMs?: number): Promise<SessionSyncEvent>;
  /** Fail the scenario with `message` unless `condition` holds. */
  check(condition: unknown, message: string): void;
  /** Mark the scenario skipped (for example: this agent cannot run voice sessions). */
  skip(reason: string): never;
  /** Add a line to the scenario's log. */
  log(message: string): void;
  /** Every session-sync event received since the scenario began. */
  readonly events: readonly SessionSyncEvent[];
}

export interface SessionSyncScenario {
  name: string;
  description?: string;
  /** Whole-scenario time limit, in ms (default: the tester's). */
  timeoutMs?: number;
  run(ctx: ScenarioContext): Promise<void>;
}

export interface ScenarioResult {
  name: string;
  status: 'passed' | 'failed' | 'skipped';
  passed: boolean;
  durationMs: number;
  error?: string;
  log: string[];
}

export interface TesterOptions {
  hooks?: ScenarioHooks;
  /** Default time limit of one scenario, in ms. */
  timeoutMs?: number;
  /** Default time limit of one wait, in ms. */
  waitTimeoutMs?: number;
  /** Start with the seed's four scenarios (default true). */
  builtIn?: boolean;
  /** Called with each result as it comes. */
  onResult?: (result: ScenarioResult) => void;
}
