/**
 * Reading otAQ7b (tier, tail, models, status) and building the worker's model list from it:
 * the code table's names and aliases for known ids, this tier's tail in the header, names from
 * display names for new ids, and drift for shapes nobody reads.
 */
import { describe, expect, it } from 'vitest';
import { modelsFromStatus, parseAccountStatus, catalogOf } from '../../../src/discovery/index.ts';
import type { DriftKind } from '../../../src/gemini/index.ts';

function status(code: unknown, models: unknown, tier: unknown = [], caps: unknown = []): unknown[] {
  const out: unknown[] = new Array<unknown>(18).fill(null);
  out[14] = code;
  out[15] = models;
  out[16] = tier;
  out[17] = caps;
  return out;
}

function read(payload: unknown) {
  const drift: DriftKind[] = [];
  return { status: parseAccountStatus(payload, (k) => drift.push(k)), drift };
}

const PRO_MODELS = [
  ['e6fa609c3fa255c0', '3 Pro', 'Answers carefully'],
  ['56fdd199312815e2', '3 Flash', 'Answers quickly'],
  ['e051ce1aa80aa576', '3 Flash Thinking', 'Thinks before answering'],
];

describe('parseAccountStatus', () => {
  it('reads the tail from the flags: free 1, Pro 2, Plus 4, capacity field 13 one slot later', () => {
    expect(read(status(1000, [])).status).toMatchObject({ tier: 'free', tail: 1, tailSlot: 11 });
    expect(read(status(1000, [], [8], [19])).status).toMatchObject({ tier: 'pro', tail: 2 });
    expect(read(status(1000, [], [], [115])).status).toMatchObject({ tier: 'plus', tail: 4 });
    expect(read(status(1000, [], [16])).status).toMatchObject({ tier: 'other', tail: 3 });
    expect(read(status(1000, [], [22])).status).toMatchObject({ tail: 2, tailSlot: 12 });
  });

  it('reads the models, their names and whether they think', () => {
    const { status: s, drift } = read(status(1000, PRO_MODELS, [8]));
    expect(s.code).toBe(1000);
    expect(s.models.map((m) => [m.id, m.thinking])).toEqual([
      ['e6fa609c3fa255c0', false],
      ['56fdd199312815e2', false],
      ['e051ce1aa80aa576', true],
    ]);
    expect(drift).toEqual([]);
  });

  it('reports a reply in an unknown shape as drift, kind by kind', () => {
    expect(read({ status: 'OK', availableModels: [] }).drift).toEqual(['account_status_shape']);
    expect(read(status('1000', PRO_MODELS)).drift).toEqual(['account_status_shape']);
    expect(read(status(1000, { models: [] })).drift).toEqual(['account_models_shape']);
    const { status: s, drift } = read(status(1000, [[null, 'x'], PRO_MODELS[0]]));
    expect(s.models).toHaveLength(1);
    expect(drift).toEqual(['account_models_shape']);
  });
});

describe('modelsFromStatus', () => {
  it("gives a Pro account the table's names with its own ids and tail 2", () => {
    const models = catalogOf(modelsFromStatus(read(status(1000, PRO_MODELS, [8])).status));
    expect(models.list().map((m) => m.name)).toEqual([
      'gemini-default',
      'gemini-3.0-pro',
      'gemini-3-flash',
      'gemini-3-flash-thinking',
    ]);
    expect(models.find('gemini-3-pro')?.header).toBe(
      '[1,null,null,null,"e6fa609c3fa255c0",null,null,0,[4],null,null,2]',
    );
    expect(models.find('GEMINI-3-FLASH-THINKING')?.thinking).toBe(true);
    expect(models.find('gemini-2.5-flash')).toBeUndefined();
  });

  it('names an id the table does not know from its display name', () => {
    const plus = [...PRO_MODELS, ['8c46e95b1a07cecc', '3 Flash Lite', '']];
    const models = catalogOf(modelsFromStatus(read(status(1000, plus, [], [115])).status));
    expect(models.find('gemini-3-flash-lite')?.header).toBe(
      '[1,null,null,null,"8c46e95b1a07cecc",null,null,0,[4],null,null,4]',
    );
  });

  it('keeps the free id at tail 1 when both are offered, and the legacy header for 2.5', () => {
    const both = [
      ['9d8ca3786ebdfbea', '3 Pro', ''],
      ['e6fa609c3fa255c0', '3 Pro', ''],
      ['9ec249fc9ad08861', '2.5 Flash', ''],
      ['71c2d248d3b102ff', '2.5 Flash', ''],
    ];
    const models = catalogOf(modelsFromStatus(read(status(1000, both)).status));
    expect(models.find('gemini-3-pro')?.header).toContain('"9d8ca3786ebdfbea"');
    expect(models.find('gemini-2.5-flash')?.header).toBe(
      '[1,null,null,null,"9ec249fc9ad08861",null,null,0,[4]]',
    );
    // An unknown id whose derived name is taken is left out rather than shadowing the table's.
    expect(models.list().filter((m) => m.name === 'gemini-2.5-flash')).toHaveLength(1);
  });
});
