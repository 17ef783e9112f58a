/**
 * Process and process-group probes shared by the launcher and the supervisor.
 *
 * Why /proc: kill(pid, 0) also succeeds for zombies, and a zombie keeps its process-group
 * membership until someone reaps it. Where PID 1 does not reap orphans (minimal container
 * inits do not), the dead children of a killed job would look alive forever. On Linux we
 * therefore read /proc/<pid>/stat and count zombies as gone; elsewhere we fall back to
 * kill(…, 0).
 */
import fs from 'node:fs';

export interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
  pgrp: number;
  /** Start time after boot in clock ticks: with the pid, identifies a process across pid reuse. */
  startTicks: number;
}

/** Parses /proc/<pid>/stat; null when the process does not exist or /proc is unavailable. */
export function readProcStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  return parseProcStat(text);
}

/** The command name is in parentheses and may contain spaces or ')': split after the last ')'. */
export function parseProcStat(text: string): ProcStat | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const pid = Number.parseInt(text, 10);
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state); field n is f[n - 3]
  const state = f[0];
  const ppid = Number(f[1]);
  const pgrp = Number(f[2]);
  const startTicks = Number(f[19]);
  if (state === undefined || !Number.isFinite(pgrp) || !Number.isFinite(startTicks)) return null;
  return { pid, state, ppid, pgrp, startTicks };
}

let procUsable: boolean | undefined;
export function hasProcFs(): boolean {
  if (procUsable === undefined) procUsable = readProcStat(process.pid) !== null;
  return procUsable;
}

function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * True when the process exists and is not a zombie. With startTicks, a different process
 * that reused the pid counts as gone.
 */
export function isProcessAlive(pid: number, startTicks?: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if (errCode(e) !== 'EPERM') return false;
  }
  if (!hasProcFs()) return true;
  const st = readProcStat(pid);
  if (st === null) return false;
  if (st.state === 'Z' || st.state === 'X') return false;
  return startTicks === undefined || st.startTicks === startTicks;
}

/** Live (non-zombie) members of a process group; null when /proc is unavailable. */
export function groupMembers(pgid: number): number[] | null {
  if (!hasProcFs()) return null;
  const members: number[] = [];
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return null;
  }
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const st = readProcStat(Number(name));
    if (st !== null && st.pgrp === pgid && st.state !== 'Z' && st.state !== 'X') members.push(st.pid);
  }
  return members;
}

/** True while any live process of the group remains. */
export function isGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (e) {
    if (errCode(e) !== 'EPERM') return false;
  }
  const members = groupMembers(pgid);
  return members === null ? true : members.length > 0;
}

/** Sends a signal to a whole group; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | number): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (e) {
    if (errCode(e) === 'ESRCH') return false;
    throw e;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until the group is gone or the deadline passes; true when gone. */
export async function waitGroupGone(pgid: number, timeoutMs: number, pollMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isGroupAlive(pgid)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())));
  }
}
