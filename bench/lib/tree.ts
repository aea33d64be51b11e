/**
 * A process and everything it started, read from /proc (Linux only; elsewhere just the process):
 * `sessiond serve --workers N` forks its workers and a PostgreSQL server forks a backend per
 * connection, and their CPU and memory belong to the server under test, not to "other processes".
 */
import { readdirSync, readFileSync } from "node:fs";

interface Stat {
  ppid: number;
  ticks: number;
}

/** utime + stime and the parent of one process, or null when it is gone (or this is not Linux). */
function stat(pid: number): Stat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start at state (field 3): ppid is 4,
    // utime and stime are 14 and 15.
    const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return null;
  }
}

/** Every live process's stat by pid. */
function allStats(): Map<number, Stat> {
  const stats = new Map<number, Stat>();
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc");
  } catch {
    return stats;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const s = stat(Number(entry));
    if (s) stats.set(Number(entry), s);
  }
  return stats;
}

/** The pids of `roots` and all their descendants (the roots even when /proc cannot be read). */
function withDescendants(roots: number[], stats = allStats()): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, s] of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  const seen = new Set<number>();
  const queue = [...roots];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return [...seen];
}

/**
 * CPU ticks (user + system) used so far by this process and everything it started: the bench's
 * servers, their cluster workers and PostgreSQL's backends. null where /proc cannot be read.
 */
export function ownTreeTicks(): number | null {
  const stats = allStats();
  if (!stats.has(process.pid)) return null;
  let total = 0;
  for (const pid of withDescendants([process.pid], stats)) total += stats.get(pid)?.ticks ?? 0;
  return total;
}

/** CPU seconds (user + system) used so far by `pid` and its descendants; null where unknown. */
export function treeCpuSeconds(pid: number): number | null {
  const stats = allStats();
  if (!stats.has(pid)) return null;
  let ticks = 0;
  for (const member of withDescendants([pid], stats)) ticks += stats.get(member)?.ticks ?? 0;
  return ticks / 100; // USER_HZ: 100 on the Linux this runs on
}

/** Resident memory of `pid` and its descendants, in bytes (0 where unknown). */
export function treeRss(pid: number): number {
  let pages = 0;
  for (const member of withDescendants([pid])) {
    try {
      pages += Number(readFileSync(`/proc/${member}/statm`, "utf8").split(" ")[1]);
    } catch {
      // gone meanwhile
    }
  }
  return pages * 4096; // statm counts pages; 4 KiB on the x86-64 and arm64 Linux this runs on
}
