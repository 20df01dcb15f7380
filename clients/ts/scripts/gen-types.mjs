// Writes src/generated/ from the JSON Schema in docs/schema/ (see scripts/gen_contract.py,
// which calls this; run that, not this, so schema and types stay in step).
//
//   node scripts/gen-types.mjs <schema-dir> <out-dir>
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compile } from 'json-schema-to-typescript';

const [schemaDir, outDir] = process.argv.slice(2);
if (!schemaDir || !outDir) {
  console.error('usage: gen-types.mjs <schema-dir> <out-dir>');
  process.exit(2);
}

const banner = (source) =>
  `/* eslint-disable */\n// Generated from ${source} by scripts/gen_contract.py. Do not edit.\n`;

const schema = JSON.parse(await readFile(join(schemaDir, 'session-sync.schema.json'), 'utf8'));
// The ids only name the files; nothing is fetched. json-schema-to-typescript emits
// unreferenced types only from `definitions`, so the `$defs` are moved there.
delete schema.$id;
schema.definitions = schema.$defs;
delete schema.$defs;
const retarget = (node) => {
  if (Array.isArray(node)) return node.map(retarget);
  if (node && typeof node === 'object') {
    if (typeof node.$ref === 'string') {
      // A default beside a $ref makes json-schema-to-typescript declare a second, numbered
      // copy of the referenced type; the default says nothing about the type, so drop it.
      return { $ref: node.$ref.replace('#/$defs/', '#/definitions/') };
    }
    return Object.fromEntries(
      Object.entries(node).map(([k, v]) => [
        k,
        k === '$ref' && typeof v === 'string' ? v.replace('#/$defs/', '#/definitions/') : retarget(v),
      ]),
    );
  }
  return node;
};
Object.assign(schema, retarget(schema));
// json-schema-to-typescript emits the unreferenced definitions only below an object root,
// so every message is compiled below an empty one, which is then dropped.
const union = schema.oneOf.map((ref) => ref.$ref.replace('#/definitions/', ''));
const compiled = await compile(
  {
    title: 'SessionSyncContract',
    type: 'object',
    additionalProperties: false,
    properties: {},
    definitions: schema.definitions,
  },
  'SessionSyncContract',
  {
    bannerComment: '',
    unreachableDefinitions: true,
    additionalProperties: false,
    strictIndexSignatures: true,
    style: { singleQuote: true, printWidth: 100 },
  },
);
const body = compiled
  .replace(/^export interface SessionSyncContract \{\}\n/m, '')
  .replace(/\n \*\n \* This interface was referenced by `SessionSyncContract`'s JSON-Schema\n \* via the `definition` "[^"]+"\./g, '')
  .replace(/\/\*\*\n \* This interface was referenced by `SessionSyncContract`'s JSON-Schema\n \* via the `definition` "[^"]+"\.\n \*\/\n/g, '');
const messages =
  banner('docs/schema/session-sync.schema.json') +
  `\n/** ${schema.description} */\nexport type SessionSyncMessage = ${union.join(' | ')};\n\n` +
  body;

const constants = JSON.parse(await readFile(join(schemaDir, 'protocol.json'), 'utf8'));
const q = (s) => `'${s}'`;
const methods = Object.entries(constants.methods);
const lines = [
  banner('docs/schema/protocol.json').trimEnd(),
  '',
  `import type { ${[...new Set(methods.flatMap(([, m]) => [m.params, m.result]))].sort().join(', ')} } from './messages.js';`,
  '',
  `export const PROTOCOL_VERSION = ${constants.version};`,
  `export const SESSION_SYNC_TOPIC = ${q(constants.topic)};`,
  `export const MAX_PACKET_BYTES = ${constants.maxPacketBytes};`,
  '',
  '/** Every command, with the params it takes and what it returns. */',
  'export interface SessionSyncParams {',
  ...methods.map(([name, m]) => `  ${q(name)}: ${m.params};`),
  '}',
  '',
  'export interface SessionSyncResults {',
  ...methods.map(([name, m]) => `  ${q(name)}: ${m.result};`),
  '}',
  '',
  'export type SessionSyncMethod = keyof SessionSyncParams;',
  '',
  'export const SESSION_SYNC_METHODS = [',
  ...methods.map(([name]) => `  ${q(name)},`),
  '] as const satisfies readonly SessionSyncMethod[];',
  '',
  '/** Commands that leave the session as they found it when run again: safe to resend. */',
  'export const REPEATABLE_METHODS: ReadonlySet<SessionSyncMethod> = new Set([',
  ...methods.filter(([, m]) => m.repeatable).map(([name]) => `  ${q(name)},`),
  ']);',
  '',
  '/** LiveKit RPC codes after which a command may or may not have run: its reply was lost. */',
  'export const REPLY_LOST_RPC_CODES: ReadonlySet<number> = new Set([',
  ...constants.replyLostRpcCodes.map((c) => `  ${c},`),
  ']);',
  '',
  'export const SESSION_SYNC_EVENT_TYPES = [',
  ...constants.eventTypes.map((t) => `  ${q(t)},`),
  '] as const;',
  '',
  '/** The string code of each protocol error and the RPC code it is sent with. */',
  'export const ERROR_RPC_CODES = {',
  ...Object.entries(constants.errorCodes).map(([code, rpc]) => `  ${code}: ${rpc},`),
  '} as const;',
  '',
  'export type ProtocolErrorCode = keyof typeof ERROR_RPC_CODES;',
  '',
  '/** The participant attributes the agent publishes, and the one the app may set. */',
  'export const ATTRIBUTES = {',
  ...Object.entries(constants.attributes).map(([k, v]) => `  ${k}: ${q(v)},`),
  '} as const;',
  '',
  'export const SESSION_TYPES = [',
  ...constants.sessionTypes.map((t) => `  ${q(t)},`),
  '] as const;',
  '',
  'export const SESSION_STATES = [',
  ...constants.sessionStates.map((t) => `  ${q(t)},`),
  '] as const;',
  '',
];

await mkdir(outDir, { recursive: true });
await writeFile(join(outDir, 'messages.ts'), messages);
await writeFile(join(outDir, 'protocol.ts'), lines.join('\n'));
await writeFile(
  join(outDir, 'index.ts'),
  banner('docs/schema').trimEnd() + "\n\nexport * from './messages.js';\nexport * from './protocol.js';\n",
);
