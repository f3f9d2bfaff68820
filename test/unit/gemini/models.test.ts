import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL, findModel, modelHeader, MODELS } from '../../../src/gemini/models.ts';

describe('models', () => {
  it('exposes the required models', () => {
    expect(MODELS.map((m) => m.name)).toEqual(
      expect.arrayContaining([
        'gemini-default',
        'gemini-2.5-flash',
        'gemini-2.5-pro',
        'gemini-3.0-pro',
        'gemini-3-flash',
        'gemini-3-flash-thinking',
      ]),
    );
    expect(new Set(MODELS.map((m) => m.name)).size).toBe(MODELS.length);
  });

  it('has the server default under `default`, without a selector header', () => {
    expect(DEFAULT_MODEL.name).toBe('gemini-default');
    expect(DEFAULT_MODEL.header).toBeNull();
    expect(findModel('default')).toBe(DEFAULT_MODEL);
  });

  it('finds models by name and alias, case-insensitively', () => {
    expect(findModel('GEMINI-2.5-FLASH')?.name).toBe('gemini-2.5-flash');
    expect(findModel('gemini-pro')?.name).toBe('gemini-2.5-pro');
    expect(findModel(' gemini-3-pro ')?.name).toBe('gemini-3.0-pro');
    expect(findModel('gpt-4')).toBeUndefined();
  });

  it('marks only the thinking model as thinking', () => {
    expect(MODELS.filter((m) => m.thinking).map((m) => m.name)).toEqual([
      'gemini-3-flash-thinking',
    ]);
  });

  it('uses the doc ids and header forms', () => {
    expect(findModel('gemini-2.5-flash')?.header).toBe(
      '[1,null,null,null,"9ec249fc9ad08861",null,null,0,[4]]',
    );
    expect(findModel('gemini-2.5-pro')?.header).toBe(
      '[1,null,null,null,"4af6c7f5da75d65d",null,null,0,[4]]',
    );
    expect(findModel('gemini-3.0-pro')?.header).toBe(
      '[1,null,null,null,"9d8ca3786ebdfbea",null,null,0,[4],null,null,1]',
    );
    expect(findModel('gemini-3-flash')?.header).toContain('"fbb127bbb056c959"');
    expect(findModel('gemini-3-flash-thinking')?.header).toContain('"5bf011840784117a"');
    for (const m of MODELS) {
      if (m.header !== null) {
        expect(() => JSON.parse(m.header ?? '') as unknown).not.toThrow();
      }
    }
  });

  it('builds both header forms', () => {
    expect(modelHeader('abc')).toBe('[1,null,null,null,"abc",null,null,0,[4]]');
    expect(modelHeader('abc', 2)).toBe('[1,null,null,null,"abc",null,null,0,[4],null,null,2]');
  });
});
