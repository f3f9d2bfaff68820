/**
 * The log of every upstream request, in arrival order. Records are live objects: a generate
 * record gets its endedAt when the response finishes or the client goes away.
 */
import type { UpstreamRecord } from './types.ts';

/** The record store. */
export interface RecordStore {
  /** Starts a record; the caller fills in the rest as the request proceeds. */
  open(fields: Pick<UpstreamRecord, 'host' | 'method' | 'path' | 'kind'>): UpstreamRecord;
  /** Copies of every record so far. */
  list(): UpstreamRecord[];
  clear(): void;
}

/** Creates an empty record store. */
export function createRecordStore(now: () => number): RecordStore {
  let records: UpstreamRecord[] = [];
  let seq = 0;
  return {
    open(fields) {
      seq += 1;
      const record: UpstreamRecord = {
        seq,
        ...fields,
        email: null,
        status: 0,
        startedAt: now(),
        endedAt: null,
      };
      records.push(record);
      return record;
    },
    list() {
      return records.map((r) => ({
        ...r,
        ...(r.fileIds ? { fileIds: [...r.fileIds] } : {}),
        ...(r.upload ? { upload: { ...r.upload } } : {}),
      }));
    },
    clear() {
      records = [];
    },
  };
}
