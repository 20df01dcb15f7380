// What the browser tests read: every agent state the hooks reported, with its time, every
// hang-up (`failures`) and anything else that went wrong (`notes`). Kept outside React so a test can read it at any moment.

export type ProbeEntry = { at: number; what: string; value: string };

export type Probe = {
  build: string;
  startedAt: number | null;
  entries: ProbeEntry[];
  failures: string[];
  notes: string[];
  record(what: string, value: string): void;
};

declare global {
  interface Window {
    hooksPage: Probe;
  }
  const __HOOKS_BUILD__: string;
}

export const probe: Probe = {
  build: __HOOKS_BUILD__,
  startedAt: null,
  entries: [],
  failures: [],
  notes: [],
  record(what, value) {
    const last = [...this.entries].reverse().find((e) => e.what === what);
    if (last?.value === value) return;
    this.entries.push({ at: Date.now(), what, value });
    if (this.entries.length > 2000) this.entries.splice(0, this.entries.length - 2000);
  },
};
window.hooksPage = probe;
