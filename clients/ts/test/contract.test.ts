// The committed JSON Schema (docs/schema, generated from the agent's models) describes what
// the agent really sends: every recorded message is checked against it.
import { readFileSync } from 'node:fs';

import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';

import { recording } from './replay.js';

const schema = (name: string): object =>
  JSON.parse(readFileSync(new URL(`../../../docs/schema/${name}.schema.json`, import.meta.url), 'utf8'));
const ajv = new Ajv2020.default({ strict: false, allErrors: true });
const validators = {
  event: ajv.compile(schema('session-sync-event')),
  snapshot: ajv.compile(schema('snapshot')),
  session: ajv.compile(schema('session-config')),
  validation: ajv.compile(schema('validation-result')),
};

function check(kind: keyof typeof validators, value: unknown): void {
  const validate = validators[kind];
  expect(validate(value), `${kind}: ${JSON.stringify(validate.errors)}\n${JSON.stringify(value)}`).toBe(true);
}

describe('the generated schema', () => {
  it('accepts every event and snapshot the agent sent', () => {
    const data = recording.entries.filter((e) => e.kind === 'data');
    expect(data.length).toBeGreaterThan(20);
    for (const e of data) check(e.message!.type === 'snapshot' ? 'snapshot' : 'event', e.message);
  });

  it("accepts every session the agent published in its attributes", () => {
    const published = recording.entries.filter((e) => e.changed?.['session.config']);
    expect(published.length).toBeGreaterThan(10);
    for (const e of published) check('session', JSON.parse(e.changed!['session.config']!));
  });

  it('accepts every command result the agent returned', () => {
    for (const e of recording.entries.filter((x) => x.kind === 'rpc_result')) {
      const kind = e.method === 'session.snapshot' ? 'snapshot' : e.method === 'session.validate' ? 'validation' : 'session';
      check(kind, e.result);
    }
  });

  it('refuses a session with a field the agent does not send', () => {
    const e = recording.entries.find((x) => x.changed?.['session.config'])!;
    const session = { ...JSON.parse(e.changed!['session.config']!), mood: 'happy' };
    expect(validators.session(session)).toBe(false);
  });
});
