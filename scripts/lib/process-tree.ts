/**
 * Reads Linux's /proc to find a process's descendants and to tell a process from a later one that
 * reused its pid, so clean-up only ever signals processes we started. Whole-table scans are
 * asynchronous: a parent such as tsx's CLI SIGKILLs a child that does not acknowledge a signal
 * within 30 ms, so the event loop must never block on hundreds of reads.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';

/** A process as /proc shows it: the pid plus its start time, which a reused pid will not share. */
export interface ProcessId {
  readonly pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot). */
  readonly startTime: string;
}

interface StatLine {
  readonly ppid: number;
  readonly pgid: number;
  readonly startTime: string;
}

function parseStat(text: string): StatLine | null {
  // The command name may hold spaces and parentheses; the fields after its last ')' do not.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const [ppid, pgid, startTime] = [fields[1], fields[2], fields[19]];
  if (ppid === undefined || pgid === undefined || startTime === undefined) {
    return null;
  }
  return { ppid: Number(ppid), pgid: Number(pgid), startTime };
}

function readStat(pid: number): StatLine | null {
  try {
    return parseStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

async function allStats(): Promise<Map<number, StatLine>> {
  let entries: string[] = [];
  try {
    entries = await fsp.readdir('/proc');
  } catch {
    return new Map();
  }
  const pids = entries.filter((n) => /^\d+$/.test(n)).map(Number);
  const stats = await Promise.all(
    pids.map((pid) => fsp.readFile(`/proc/${pid}/stat`, 'utf8').then(parseStat, () => null)),
  );
  const out = new Map<number, StatLine>();
  pids.forEach((pid, i) => {
    const stat = stats[i];
    if (stat) {
      out.set(pid, stat);
    }
  });
  return out;
}

/** This pid's identity now, or null if no such process runs. */
export function processId(pid: number): ProcessId | null {
  const stat = readStat(pid);
  return stat ? { pid, startTime: stat.startTime } : null;
}

/** Every live descendant of `pid` (children, grandchildren…), with their identities. */
export async function descendantPids(pid: number): Promise<ProcessId[]> {
  const stats = await allStats();
  const children = new Map<number, number[]>();
  for (const [p, s] of stats) {
    children.set(s.ppid, [...(children.get(s.ppid) ?? []), p]);
  }
  const out: ProcessId[] = [];
  const queue = [...(children.get(pid) ?? [])];
  for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
    const stat = stats.get(p);
    if (stat) {
      out.push({ pid: p, startTime: stat.startTime });
    }
    queue.push(...(children.get(p) ?? []));
  }
  return out;
}

/** Live members of process group `pgid`. */
export async function groupMembers(pgid: number): Promise<ProcessId[]> {
  const out: ProcessId[] = [];
  for (const [p, s] of await allStats()) {
    if (s.pgid === pgid) {
      out.push({ pid: p, startTime: s.startTime });
    }
  }
  return out;
}

/** True while this very process (same pid and start time) is alive and not a zombie. */
export function isAlive(id: ProcessId): boolean {
  const stat = readStat(id.pid);
  if (!stat || stat.startTime !== id.startTime) {
    return false;
  }
  try {
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${id.pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** The command line of a live process, its arguments joined by spaces; '' once it is gone. */
export function commandLine(id: ProcessId): string {
  if (!isAlive(id)) {
    return '';
  }
  try {
    return fs.readFileSync(`/proc/${id.pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '';
  }
}

/** Live processes whose command line contains `text` (e.g. a state directory). */
export async function processesMentioning(text: string): Promise<ProcessId[]> {
  const out: ProcessId[] = [];
  for (const pid of (await allStats()).keys()) {
    const id = processId(pid);
    if (id && commandLine(id).includes(text)) {
      out.push(id);
    }
  }
  return out;
}

/** True while some process (not a zombie) has this pid. */
export function isPidRunning(pid: number): boolean {
  const id = processId(pid);
  return id !== null && isAlive(id);
}

/** Sends `signal` to this very process; a process that has gone (or whose pid was reused) is skipped. */
export function signalProcess(id: ProcessId, signal: NodeJS.Signals): void {
  if (isAlive(id)) {
    signalQuietly(id.pid, signal);
  }
}

/** process.kill that ignores "no such process"; a negative pid names a process group. */
export function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}
