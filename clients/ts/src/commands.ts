import type { CommandResult } from './client-types.js';
import type { SessionSyncClientCallbacks } from './client-types.js';
import { TypedEmitter } from './emitter.js';
import type { SessionSyncMethod, SessionSyncParams } from './generated/index.js';
import type { RoomConfig, SessionConfig, SessionSnapshot, SessionType, SessionValidationResult } from './types.js';

/** The seed's typed methods, one per command of the protocol, over `command`. */
export abstract class SessionCommands extends TypedEmitter<SessionSyncClientCallbacks> {
  /** Any command by name, with typed params and result. */
  abstract command<M extends SessionSyncMethod>(method: M, params: SessionSyncParams[M]): Promise<CommandResult<M>>;

  /** The agent's session in the seed's `SessionConfig` shape, or `null` if there is none. */
  abstract getSessionConfig(): SessionConfig | null;

  /** `session.start`: start a session of this type (there must be no live session). */
  startSession(
    sessionType: SessionType,
    options: { sessionId?: string; roomConfig?: RoomConfig } = {},
  ): Promise<SessionConfig> {
    return this.command('session.start', { sessionType, ...options });
  }

  /** `session.switch`: change the type of the live session. */
  switchSession(sessionType: SessionType, options: { roomConfig?: RoomConfig } = {}): Promise<SessionConfig> {
    return this.command('session.switch', { sessionType, ...options });
  }

  /** `session.end`: end the session (back to `idle`). */
  endSession(): Promise<SessionConfig> {
    return this.command('session.end', {});
  }

  /** `session.set_muted`: stop (or resume) the agent listening in a voice session. */
  setMuted(muted: boolean): Promise<SessionConfig> {
    return this.command('session.set_muted', { muted });
  }

  /** `session.ptt_start`: the push-to-talk button is pressed (voice-ptt only). */
  startPushToTalk(): Promise<SessionConfig> {
    return this.command('session.ptt_start', {});
  }

  /** `session.ptt_end`: the button is released; what was said is answered. */
  endPushToTalk(): Promise<SessionConfig> {
    return this.command('session.ptt_end', {});
  }

  /** `session.ptt_cancel`: the press is aborted; what was said is dropped. */
  cancelPushToTalk(): Promise<SessionConfig> {
    return this.command('session.ptt_cancel', {});
  }

  /** `session.validate`: the agent checks (and corrects) the session now. */
  validateSessionState(): Promise<SessionValidationResult> {
    return this.command('session.validate', {});
  }

  /** `session.sync`: a validation pass, then one `session_state_sync` with this trigger. */
  syncSessionState(trigger = 'manual'): Promise<SessionConfig> {
    return this.command('session.sync', { trigger });
  }

  /** `session.snapshot`: read the whole session from the agent and apply it. */
  async snapshot(): Promise<SessionSnapshot> {
    return this.command('session.snapshot', {});
  }

  /**
   * The seed's `setSessionConfig`: ask the agent for the session described (the agent owns
   * it, so this sends the commands that lead there and resolves with the agent's result).
   */
  async setSessionConfig(config: Pick<Partial<SessionConfig>, 'type' | 'state' | 'isMuted'>): Promise<SessionConfig | null> {
    let current = this.getSessionConfig();
    const live = current !== null && current.type !== null && (current.state === 'active' || current.state === 'syncing');
    if (config.type === null || config.state === 'ending' || config.state === 'idle') {
      return current && !(current.type === null && current.state === 'idle') ? this.endSession() : current;
    }
    if (config.type !== undefined && config.type !== current?.type) {
      current = live ? await this.switchSession(config.type) : await this.startSession(config.type);
    }
    if (config.isMuted !== undefined && config.isMuted !== current?.isMuted) {
      current = await this.setMuted(config.isMuted);
    }
    return current;
  }
}
