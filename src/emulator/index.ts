/**
 * @module emulator
 * A faithful stand-in for Google's Gemini web hosts, for offline development, demos and every
 * e2e test (docs/gemini-web-protocol.md §10). Independent of src/gemini: it has its own framing.
 */
export { Emulator, MAPPED_HOSTS } from './emulator.ts';
export { runEmulator, type RunEmulatorConfig } from './run-emulator.ts';
export { ANSWER_TAIL } from './answer.ts';
export { FAULTS } from './types.ts';
export { wallClockMs, type FrameLogEntry, type FrameStamp } from './frame-log.ts';
export { TIERS, type Tier } from './plans.ts';
export type {
  EmulatorOptions,
  Fault,
  RecordKind,
  TunableOptions,
  UploadRecord,
  UpstreamRecord,
} from './types.ts';
