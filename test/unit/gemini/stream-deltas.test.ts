/**
 * Turning cumulative snapshots into deltas that never retract: what each snapshot adds, minus
 * whatever might still change (a closing fence, a backslash, a half-written placeholder URL).
 */
import { describe, expect, it } from 'vitest';
import {
  commonPrefixLength,
  createDeltaTracker,
  stableText,
  volatileTailLength,
} from '../../../src/gemini/stream.ts';

describe('createDeltaTracker', () => {
  it('sends only what each cumulative snapshot adds', () => {
    const t = createDeltaTracker();
    expect(t.push('Hel', false)).toBe('Hel');
    expect(t.push('Hello', false)).toBe('lo');
    expect(t.push('Hello', false)).toBe('');
    expect(t.push('Hello world', true)).toBe(' world');
    expect(t.sent).toBe('Hello world');
  });

  it('holds back a trailing code fence until a later snapshot moves past it', () => {
    const t = createDeltaTracker();
    expect(t.push('```js\ncode\n```', false)).toBe('```js\ncode');
    expect(t.push('```js\ncode();\n```', false)).toBe('();');
    expect(t.push('```js\ncode();\nmore\n```', false)).toBe('\nmore');
    expect(t.push('```js\ncode();\nmore\n```', true)).toBe('\n```');
    expect(t.sent).toBe('```js\ncode();\nmore\n```');
    // The held-back fence never reached the client, so the flicker cost nothing.
    const u = createDeltaTracker();
    expect(u.push('a\n```', false)).toBe('a');
    expect(u.push('a\nb and more', false)).toBe('\nb and more');
    expect(u.sent).toBe('a\nb and more');
    expect(u.push('a\nb and more\n```', true)).toBe('\n```');
  });

  it('holds back trailing backslashes and half-written placeholder URLs', () => {
    expect(stableText('path C:\\', false)).toBe('path C:');
    expect(stableText('see http://googleusercontent.com/card_con', false)).toBe('see ');
    expect(stableText('see http://goo', false)).toBe('see ');
    expect(stableText('see http://googleusercontent.com/image_generation_content/', false)).toBe(
      'see ',
    );
    expect(stableText('plain text', false)).toBe('plain text');
    expect(stableText('ends with `', true)).toBe('ends with `');
  });

  it('never retracts: a contradicting snapshot waits, then sends from the common prefix', () => {
    const t = createDeltaTracker();
    expect(t.push('Hello wor', false)).toBe('Hello wor');
    // Same length, different tail: nothing can be sent without retracting.
    expect(t.push('Hello wax', false)).toBe('');
    // Longer than what we followed: send everything past the longest common prefix.
    expect(t.push('Hello wax and more', false)).toBe('ax and more');
    expect(t.sent).toBe('Hello worax and more');
    expect(t.push('Hello wax and more!', true)).toBe('!');
  });

  it('never splits a surrogate pair at the common prefix', () => {
    expect(commonPrefixLength('a😀', 'a😃')).toBe(1);
    const t = createDeltaTracker();
    t.push('a😀', false);
    expect(t.push('a😃 longer', false)).toBe('😃 longer');
  });

  it('reassembles emoji and CJK snapshots exactly', () => {
    const text = '你好👋🏽 世界 🇯🇵 — naïve café';
    const t = createDeltaTracker();
    const chars = [...text];
    let sent = '';
    for (let i = 1; i <= chars.length; i += 1) {
      sent += t.push(chars.slice(0, i).join(''), i === chars.length);
    }
    expect(sent).toBe(text);
  });
});

describe('volatileTailLength: a placeholder URL just begun', () => {
  const PREFIX = 'http://googleusercontent.com/';
  it('holds back exactly the begun part, for every proper prefix', () => {
    for (let k = 1; k < PREFIX.length; k += 1) {
      expect(volatileTailLength(`See ${PREFIX.slice(0, k)}`)).toBe(k);
    }
  });

  it('holds back nothing when the tail only resembles one', () => {
    expect(volatileTailLength('See httpx')).toBe(0);
    expect(volatileTailLength('')).toBe(0);
  });
});
