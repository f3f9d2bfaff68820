/**
 * How otAQ7b's answer and the page's lists meet: otAQ7b gives the set and the names, the page the
 * thinking flags; the page alone stands in until otAQ7b answers.
 */
import { describe, expect, it } from 'vitest';
import {
  modelsFromPage,
  withPageThinking,
  type AccountStatus,
} from '../../../src/discovery/index.ts';

const model = (id: string, displayName: string, thinking = false) => ({
  id,
  displayName,
  description: '',
  thinking,
});

const STATUS: AccountStatus = {
  code: 1000,
  tier: 'free',
  tail: 1,
  tailSlot: 11,
  models: [
    model('fbb127bbb056c959', '3 Flash'),
    model('5bf011840784117a', '3 Flash Thinking', true),
    model('0123456789abcdef', 'Deep Think'),
    model('fedcba9876543210', 'Unlisted Thinking', true),
  ],
};

describe('withPageThinking', () => {
  it("takes the page's word on thinking; an unlisted id keeps the guess; the set stays", () => {
    const lists = {
      fast: ['5bf011840784117a', 'aaaaaaaaaaaaaaaa'],
      thinking: ['0123456789abcdef'],
      dropped: 0,
    };
    const merged = withPageThinking(STATUS, lists);
    expect(merged.models.map((m) => [m.id, m.thinking])).toEqual([
      ['fbb127bbb056c959', false],
      ['5bf011840784117a', false],
      ['0123456789abcdef', true],
      ['fedcba9876543210', true],
    ]);
    expect(withPageThinking(STATUS, null)).toBe(STATUS);
  });
});

describe('modelsFromPage', () => {
  it('maps paid ids to the free-tier entries of their names and drops unknown ids', () => {
    const lists = {
      fast: ['e6fa609c3fa255c0', '1111111111111111'],
      thinking: ['e051ce1aa80aa576'],
      dropped: 0,
    };
    expect(modelsFromPage(lists).map((m) => [m.name, m.upstreamId, m.thinking])).toEqual([
      ['gemini-default', null, false],
      ['gemini-3.0-pro', '9d8ca3786ebdfbea', false],
      ['gemini-3-flash-thinking', '5bf011840784117a', true],
    ]);
  });

  it('is only the default model for lists that name nothing the table knows', () => {
    const lists = { fast: [], thinking: ['2222222222222222'], dropped: 0 };
    expect(modelsFromPage(lists).map((m) => m.name)).toEqual(['gemini-default']);
  });
});
