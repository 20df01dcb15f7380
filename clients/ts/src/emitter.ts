/** A small typed event emitter in the style of livekit-client's (`on`, `off`, `once`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Listener = (...args: any[]) => void;
export type EventMap = { [event: string]: Listener };

export class TypedEmitter<E extends EventMap> {
  private listeners = new Map<keyof E, Set<Listener>>();

  on<K extends keyof E>(event: K, listener: E[K]): this {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return this;
  }

  off<K extends keyof E>(event: K, listener: E[K]): this {
    this.listeners.get(event)?.delete(listener);
    return this;
  }

  once<K extends keyof E>(event: K, listener: E[K]): this {
    const wrapped = ((...args: Parameters<E[K]>) => {
      this.off(event, wrapped as E[K]);
      listener(...args);
    }) as E[K];
    return this.on(event, wrapped);
  }

  removeAllListeners(): this {
    this.listeners.clear();
    return this;
  }

  listenerCount<K extends keyof E>(event: K): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  protected emit<K extends keyof E>(event: K, ...args: Parameters<E[K]>): boolean {
    const set = this.listeners.get(event);
    if (!set || set.size === 0) return false;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (err) {
        // One listener's failure must not stop the others or the client.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
    return true;
  }
}
