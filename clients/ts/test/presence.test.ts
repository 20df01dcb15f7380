import { RpcError } from 'livekit-client';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { AgentPresence, SessionSyncError, ValidationFromEvents, describeError } from '../src/index.js';
import type { SessionSyncEvent } from '../src/index.js';
import { FakeRoom, ParticipantKind } from './fake-room.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('the agent presence', () => {
  it('waits for an agent until the deadline, then says it is overdue', () => {
    vi.useFakeTimers();
    const room = new FakeRoom();
    const presence = new AgentPresence(room.asRoom(), { deadlineMs: 20_000 });
    expect(presence.getState().status).toBe('waiting');
    expect(presence.getState().deadline).not.toBeNull();
    vi.advanceTimersByTime(19_999);
    expect(presence.getState().overdue).toBe(false);
    vi.advanceTimersByTime(1);
    expect(presence.getState()).toMatchObject({ status: 'waiting', overdue: true });
    presence.dispose();
  });

  it('is present once an agent joins, and gone with a new deadline when it leaves', () => {
    vi.useFakeTimers();
    const room = new FakeRoom();
    const presence = new AgentPresence(room.asRoom(), { deadlineMs: 5_000 });
    room.join('user-2', ParticipantKind.STANDARD);
    expect(presence.getState().status).toBe('waiting');
    room.join('agent-1', ParticipantKind.AGENT);
    expect(presence.getState()).toMatchObject({ status: 'present', deadline: null, overdue: false });
    expect(presence.getState().agent?.identity).toBe('agent-1');
    vi.advanceTimersByTime(60_000);
    expect(presence.getState().overdue).toBe(false);
    room.leave('agent-1');
    expect(presence.getState()).toMatchObject({ status: 'gone', overdue: false });
    vi.advanceTimersByTime(5_000);
    expect(presence.getState().overdue).toBe(true);
    presence.extendDeadline();
    expect(presence.getState().overdue).toBe(false);
    presence.dispose();
  });
});

const event = (type: SessionSyncEvent['type'], trigger: string, detail?: string): SessionSyncEvent =>
  ({
    type,
    seq: 1,
    source: 'agent',
    payload: { sessionId: 's', frontendState: {} as never, timestamp: 1_700_000_000_000, trigger, ...(detail ? { detail } : {}) },
  }) as SessionSyncEvent;

describe('validation passes read from the events', () => {
  it('takes an announced clean timer pass as a valid validation', () => {
    const passes = new ValidationFromEvents();
    const pass = passes.next(event('session_state_sync', 'periodic'));
    expect(pass?.result.isValid).toBe(true);
    expect(pass?.at.getTime()).toBe(1_700_000_000_000);
  });

  it('gathers the findings of a pass that corrected something', () => {
    const passes = new ValidationFromEvents();
    expect(passes.next(event('session_inconsistency', 'periodic:audio_input', 'audio on'))).toBeNull();
    const pass = passes.next(event('session_state_sync', 'periodic'));
    expect(pass?.result).toMatchObject({ isValid: false, inconsistencies: ['audio on'], needsResync: true });
  });

  it('ignores the events of commands', () => {
    const passes = new ValidationFromEvents();
    expect(passes.next(event('session_state_sync', 'session.start'))).toBeNull();
  });
});

describe('errors in words', () => {
  it('says a running session must be switched or ended instead of started', () => {
    const err = SessionSyncError.fromRpc(
      'session.start',
      new RpcError(2409, 'invalid_transition: a session is live', '{"state":"active","allowed":["session.switch","session.end"]}'),
    );
    const text = describeError(err);
    expect(text.sentence).toBe('A session is already running. Switch its type, or end it first.');
    expect(text.code).toBe('invalid_transition (2409)');
  });

  it("keeps the agent's explanation of what is missing", () => {
    const err = SessionSyncError.fromRpc(
      'session.switch',
      new RpcError(2501, 'unavailable: this agent cannot run a voice-ptt session: it has no speech-to-text (STT_MODEL=none)', '{}'),
    );
    const text = describeError(err);
    expect(text.sentence).toBe("The agent can't run that session type here.");
    expect(text.detail).toContain('STT_MODEL=none');
    expect(text.code).toBe('unavailable (2501)');
  });
});
