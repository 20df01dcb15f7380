// Checks every message the agent sent during the Python tests against the seed's TypeScript
// interfaces, under `tsc --strict`, as an app written against them receives it.
//
//   node scripts/check-seed-samples.mjs <samples.json>              check
//   node scripts/check-seed-samples.mjs <samples.json> --self-test  also show that a sample
//                                 with `voiceMode: null` and a missing kind both fail
//
// The samples come from `pytest --wire-samples DIR` (support/wire_samples.py). Each one
// is the exact JSON text the agent sent, pasted unchanged as a TypeScript type: JSON is valid
// type syntax and gives each value its exact (literal) type, so nothing is widened, and an
// assignment between types makes no excess-property check, so fields the seed does not
// declare (`sessionId`, `seq`, `v`, ...) pass, as they do for an app that reads
// `JSON.parse` output. A `null` where the seed has an optional field, or a wrong type, fails.
// The seed's `Date`s are checked as the ISO strings `JSON.stringify` makes of them
// (`JsonForm` in test/contract/seed-types.ts). Every kind of message the protocol has
// (docs/schema/protocol.json) must have at least one sample.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const here = dirname(fileURLToPath(import.meta.url));
const clientDir = resolve(here, '..');
const protocol = JSON.parse(readFileSync(resolve(clientDir, '../../docs/schema/protocol.json'), 'utf8'));

const SEED = {
  SessionConfig: 'JsonForm<SeedSessionConfig>',
  Snapshot: 'SeedSnapshot',
  ValidationResult: 'JsonForm<SeedSessionValidationResult>',
};

/** Every kind of message the agent sends, with the type an app reads it as. */
export function expectedKinds() {
  const kinds = new Map();
  for (const type of protocol.eventTypes) {
    kinds.set(`event:${type}`, { seed: 'JsonForm<SeedSessionSyncEvent>', wire: 'wire.SessionSyncEvent' });
  }
  kinds.set('snapshot', { seed: SEED.Snapshot, wire: 'wire.Snapshot' });
  for (const [method, { result }] of Object.entries(protocol.methods)) {
    kinds.set(`ack:${method}`, {
      seed: `{ type: 'ack'; id: string; method: '${method}'; result: ${SEED[result]} }`,
      wire: 'wire.Ack',
    });
    kinds.set(`rpc:${method}`, { seed: SEED[result], wire: `wire.${result}` });
  }
  // Replies that carry nothing of the seed's: checked against the contract's own types.
  kinds.set('error', { seed: 'wire.ErrorReply', wire: 'wire.ErrorReply' });
  kinds.set('rpc-error', { seed: "wire.ErrorBody['details']", wire: "wire.ErrorBody['details']" });
  kinds.set(`attribute:${protocol.attributes.config}`, { seed: SEED.SessionConfig, wire: 'wire.SessionConfig' });
  return kinds;
}

function source(samples, kinds) {
  const seedTypes = resolve(clientDir, 'test/contract/seed-types.js');
  const generated = resolve(clientDir, 'src/generated/index.js');
  const lines = [
    `import type { JsonForm, SeedLiveKitRoomConfig, SeedSessionConfig, SeedSessionSyncEvent, SeedSessionValidationResult } from ${JSON.stringify(seedTypes)};`,
    `import type * as wire from ${JSON.stringify(generated)};`,
    `type SeedSnapshot = { type: 'snapshot'; session: JsonForm<SeedSessionConfig>; roomConfig?: JsonForm<SeedLiveKitRoomConfig> };`,
    'declare function received<T>(): T;',
  ];
  const where = new Map(); // line number (0-based) -> sample
  samples.forEach((sample, i) => {
    const expected = kinds.get(sample.kind);
    if (!expected) return;
    where.set(lines.length, sample);
    // One line per sample, so a diagnostic names it.
    const seed = expected.seed === expected.wire ? '' : `export const seed${i}: ${expected.seed} = received<S${i}>(); `;
    lines.push(
      `type S${i} = ${sample.text.replace(/\n/g, ' ')}; ${seed}` +
        `export const wire${i}: ${expected.wire} = received<S${i}>();`,
    );
  });
  return { text: lines.join('\n') + '\n', where };
}

/** Kinds the protocol has with no sample, and kinds it does not know. */
export function coverage(document, kinds = expectedKinds()) {
  const problems = [];
  for (const kind of kinds.keys()) {
    if (!document.samples[kind]?.length) problems.push(`${kind}: no sample (no test made the agent send one)`);
  }
  for (const kind of Object.keys(document.samples)) {
    if (!kinds.has(kind)) problems.push(`${kind}: a kind of message the protocol does not know`);
  }
  return problems;
}

const flatten = (document) =>
  Object.entries(document.samples).flatMap(([kind, list]) =>
    list.map((s) => ({ kind, transport: s.transport, text: s.text })),
  );

/** Each sample that does not fit its type under `tsc --strict`, with tsc's reason. */
export function typecheck(samples, kinds = expectedKinds()) {
  const problems = [];
  const dir = mkdtempSync(join(tmpdir(), 'seed-samples-'));
  try {
    const file = join(dir, 'samples.mts');
    const { text, where } = source(samples, kinds);
    writeFileSync(file, text);
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      skipLibCheck: true,
      types: [],
    });
    for (const d of ts.getPreEmitDiagnostics(program)) {
      const message = ts.flattenDiagnosticMessageText(d.messageText, '\n  ');
      if (d.file?.fileName !== file || d.start === undefined) {
        problems.push(`tsc: ${message}`);
        continue;
      }
      const { line } = d.file.getLineAndCharacterOfPosition(d.start);
      const sample = where.get(line);
      const target = d.file.text.slice(d.start, d.start + 4) === 'wire' ? 'the contract' : 'the seed';
      problems.push(
        `${sample?.kind} (${sample?.transport}) does not fit ${target}'s type:\n  ${message}\n  sample: ${sample?.text.slice(0, 400)}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return problems;
}

function selfTest(document) {
  const failures = [];
  // A sample with `voiceMode: null`, as agents before this check sent, must fail.
  const event = document.samples['event:session_state_sync']?.[0];
  if (!event) return ['self-test: no event:session_state_sync sample to alter'];
  const altered = JSON.parse(event.text);
  altered.payload.frontendState.voiceMode = null;
  const refused = typecheck([{ kind: 'event:session_state_sync', transport: event.transport, text: JSON.stringify(altered) }]);
  if (!refused.some((p) => p.includes('voiceMode'))) {
    failures.push('self-test: a sample with voiceMode: null was not refused');
  } else {
    console.log(`self-test: voiceMode: null is refused:\n  ${refused[0].split('\n').slice(0, 4).join('\n  ')}`);
  }
  const { 'rpc:session.validate': _dropped, ...rest } = document.samples;
  if (!coverage({ ...document, samples: rest }).some((p) => p.startsWith('rpc:session.validate: no sample'))) {
    failures.push('self-test: a kind with no sample was not reported');
  } else {
    console.log('self-test: a kind with no sample is reported');
  }
  return failures;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [path, ...flags] = process.argv.slice(2);
  if (!path) {
    console.error('usage: check-seed-samples.mjs <samples.json> [--self-test]');
    process.exit(2);
  }
  const document = JSON.parse(readFileSync(path, 'utf8'));
  const samples = flatten(document);
  const kinds = expectedKinds();
  const failures = [
    ...coverage(document, kinds),
    ...typecheck(samples, kinds),
    ...(flags.includes('--self-test') ? selfTest(document) : []),
  ];
  if (failures.length) {
    console.error(failures.join('\n'));
    console.error(`seed types: ${failures.length} problem(s) in ${samples.length} samples (${path})`);
    process.exit(1);
  }
  const transports = [...new Set(samples.map((s) => s.transport))].sort().join(', ');
  console.log(
    `seed types: ${samples.length} samples of all ${kinds.size} kinds of message fit the seed's interfaces under tsc --strict (rooms: ${transports})`,
  );
}
