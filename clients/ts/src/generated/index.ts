/* eslint-disable */
// Generated from docs/schema by scripts/gen_contract.py. Do not edit.

export * from './messages.js';
export * from './protocol.js';
