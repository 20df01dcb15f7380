// A stand-in for livekit-client's Room with just what SessionSync uses, driven by the tests.
import { EventEmitter } from 'node:events';

import { ConnectionState, ParticipantKind, RoomEvent } from 'livekit-client';
import type { PerformRpcParams, Room } from 'livekit-client';

export interface FakeParticipant {
  identity: string;
  sid: string;
  kind: ParticipantKind;
  attributes: Record<string, string>;
}

export type RpcHandler = (params: PerformRpcParams) => Promise<string>;

let sids = 0;

export class FakeRoom extends EventEmitter {
  state: ConnectionState = ConnectionState.Connected;
  metadata: string | undefined = undefined;
  readonly remoteParticipants = new Map<string, FakeParticipant>();
  readonly rpcCalls: PerformRpcParams[] = [];
  rpcHandler: RpcHandler = async () => {
    throw new Error('no RPC handler');
  };
  readonly localParticipant = {
    identity: 'user',
    performRpc: (params: PerformRpcParams): Promise<string> => {
      this.rpcCalls.push(params);
      return this.rpcHandler(params);
    },
  };

  asRoom(): Room {
    return this as unknown as Room;
  }

  join(identity: string, kind: ParticipantKind, attributes: Record<string, string> = {}): FakeParticipant {
    const p: FakeParticipant = { identity, sid: `PA_${++sids}`, kind, attributes: { ...attributes } };
    this.remoteParticipants.set(identity, p);
    this.emit(RoomEvent.ParticipantConnected, p);
    return p;
  }

  leave(identity: string): void {
    const p = this.remoteParticipants.get(identity);
    if (!p) return;
    this.remoteParticipants.delete(identity);
    this.emit(RoomEvent.ParticipantDisconnected, p);
  }

  setAttributes(identity: string, changed: Record<string, string>): void {
    const p = this.remoteParticipants.get(identity);
    if (!p) throw new Error(`${identity} is not in the room`);
    p.attributes = { ...p.attributes, ...changed };
    this.emit(RoomEvent.ParticipantAttributesChanged, changed, p);
  }

  sendData(identity: string, message: unknown, topic = 'session-sync'): void {
    const p = this.remoteParticipants.get(identity);
    const payload = new TextEncoder().encode(JSON.stringify(message));
    this.emit(RoomEvent.DataReceived, payload, p, undefined, topic);
  }

  reconnecting(): void {
    this.state = ConnectionState.Reconnecting;
    this.emit(RoomEvent.ConnectionStateChanged, this.state);
    this.emit(RoomEvent.Reconnecting);
  }

  reconnected(): void {
    this.state = ConnectionState.Connected;
    this.emit(RoomEvent.ConnectionStateChanged, this.state);
    this.emit(RoomEvent.Reconnected);
  }
}

export { ParticipantKind };
