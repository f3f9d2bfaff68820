import { describe, expect, it } from 'vitest';
import { readPageModels } from '../../../src/gemini/page-models.ts';

const FAST = 'fbb127bbb056c959';
const PRO = '9d8ca3786ebdfbea';
const THINK = '5bf011840784117a';

describe('readPageModels', () => {
  it('reads both lists from separate keys', () => {
    const html = `{"a1":"fast=${FAST},${PRO}","b2":"thinking=${THINK}"}`;
    expect(readPageModels(html)).toEqual({ fast: [FAST, PRO], thinking: [THINK], dropped: 0 });
  });

  it('reads both lists from one value, joined by & or ;', () => {
    for (const sep of ['&', ';']) {
      const html = `{"c3":"fast=${FAST}${sep}thinking=${THINK}"}`;
      expect(readPageModels(html)).toEqual({ fast: [FAST], thinking: [THINK], dropped: 0 });
    }
  });

  it('counts an id in both lists once, as thinking; an empty list is a valid list', () => {
    const html = `{"a":"fast=${FAST},${THINK}","b":"thinking="}{"c":"thinking=${THINK}"}`;
    expect(readPageModels(html)).toEqual({ fast: [FAST], thinking: [THINK], dropped: 0 });
    expect(readPageModels('{"a":"thinking="}')).toEqual({ fast: [], thinking: [], dropped: 0 });
  });

  it('drops entries that are not model ids and counts them', () => {
    const html = `{"a":"fast=${FAST},gemini-3-flash,${FAST.toUpperCase()}"}`;
    expect(readPageModels(html)).toEqual({ fast: [FAST], thinking: [], dropped: 2 });
  });

  it('is null for a page without lists, and ignores look-alikes inside words', () => {
    expect(readPageModels('{"SNlM0e":"x","cfb2h":"boq"}')).toBeNull();
    expect(readPageModels(`{"a":"breakfast=${FAST}"}`)).toBeNull();
  });
});
