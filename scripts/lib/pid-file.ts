/**
 * The stack's record of the processes it started (DIR/stack-pids.json). A stack killed with
 * SIGKILL cannot clean up; the next run reads this file and ends exactly those processes (same
 * pid and start time), never anything else.
 */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  descendantPids,
  groupMembers,
  isAlive,
  processId,
  signalProcess,
  type ProcessId,
} from './process-tree.ts';

/** One recorded process; `group` when it leads its own process group. */
export interface RecordedProcess extends ProcessId {
  readonly name: string;
  readonly group: boolean;
}

/** Writes the record of these live processes (replacing the file). */
export function writePidFile(
  file: string,
  processes: readonly { name: string; pid: number | undefined; group: boolean }[],
): void {
  const records: RecordedProcess[] = [];
  for (const p of processes) {
    const id = p.pid === undefined ? null : processId(p.pid);
    if (id) {
      records.push({ ...id, name: p.name, group: p.group });
    }
  }
  fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(records, null, 2)}\n`);
  fs.renameSync(`${file}.tmp`, file);
}

function readPidFile(file: string): RecordedProcess[] {
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return Array.isArray(parsed) ? (parsed as RecordedProcess[]) : [];
  } catch {
    return [];
  }
}

/**
 * Kills what an earlier stack in the same directory left running (SIGKILL to each recorded
 * process, its group and descendants), removes the file, and returns the names it stopped.
 */
export async function reapStale(file: string): Promise<string[]> {
  const stale = readPidFile(file).filter((r) => isAlive(r));
  const targets: ProcessId[] = [];
  for (const r of stale) {
    targets.push(
      r,
      ...(await descendantPids(r.pid)),
      ...(r.group ? await groupMembers(r.pid) : []),
    );
  }
  for (const t of targets) {
    signalProcess(t, 'SIGKILL');
  }
  const deadline = Date.now() + 5000;
  while (targets.some(isAlive) && Date.now() < deadline) {
    await sleep(50);
  }
  fs.rmSync(file, { force: true });
  return stale.map((r) => r.name);
}
