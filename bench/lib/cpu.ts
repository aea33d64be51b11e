/**
 * CPU and memory from /proc (Linux; elsewhere null or 0). A server under test is a process and
 * everything it started (`sessiond serve`'s workers, PostgreSQL's backends). "Other CPU" is the
 * machine's busy time minus this process tree's: on a shared machine, more than a few tenths of a
 * core during a load means its absolute figures are disturbed.
 */
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

/** Parent and CPU ticks (utime + stime) of every live process, by pid. */
function processes(): Map<number, { ppid: number; ticks: number }> {
  const all = new Map<number, { ppid: number; ticks: number }>();
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc").filter((entry) => /^\d+$/.test(entry));
  } catch {
    return all;
  }
  for (const entry of entries) {
    try {
      const text = readFileSync(`/proc/${entry}/stat`, "utf8");
      // After the command name (which may hold spaces): state, ppid (field 4), …, utime and stime (14, 15).
      const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
      all.set(Number(entry), { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) });
    } catch {
      // gone meanwhile
    }
  }
  return all;
}

/** `root` and its descendants. */
function tree(root: number, all: Map<number, { ppid: number }>): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of all) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const members: number[] = [];
  for (const queue = [root]; queue.length > 0; ) {
    const pid = queue.pop()!;
    members.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return members;
}

/** CPU seconds used so far by `pid` and its descendants; null where unknown. */
export function treeCpuSeconds(pid: number): number | null {
  const all = processes();
  if (!all.has(pid)) return null;
  return tree(pid, all).reduce((sum, member) => sum + (all.get(member)?.ticks ?? 0), 0) / 100; // USER_HZ
}

/** Resident memory of `pid` and its descendants in bytes (0 where unknown). */
export function treeRss(pid: number): number {
  let pages = 0;
  for (const member of tree(pid, processes())) {
    try {
      pages += Number(readFileSync(`/proc/${member}/statm`, "utf8").split(" ")[1]);
    } catch {
      // gone meanwhile
    }
  }
  return pages * 4096;
}

export interface CpuSnapshot {
  busy: number;
  total: number;
  /** This process tree's ticks. */
  own: number;
}

export function cpuSnapshot(): CpuSnapshot | null {
  try {
    const fields = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
    const busy = user + nice + system + irq + softirq + steal;
    const own = treeCpuSeconds(process.pid);
    return own === null ? null : { busy, total: busy + idle + iowait, own: own * 100 };
  } catch {
    return null;
  }
}

/** Other processes' CPU ticks between two snapshots, and the wall time in ticks of one core. */
export function foreignBetween(a: CpuSnapshot | null, b: CpuSnapshot | null): { foreign: number; wall: number } | null {
  if (!a || !b) return null;
  return { foreign: Math.max(0, b.busy - a.busy - (b.own - a.own)), wall: (b.total - a.total) / availableParallelism() };
}
