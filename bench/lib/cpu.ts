/**
 * How much CPU other processes took during a load: the machine's busy time (/proc/stat) minus
 * this process's and its servers' own (/proc/<pid>/stat). On a small machine that someone else is
 * using, a figure above a few tenths of a core means the run was disturbed. Linux only; elsewhere
 * the figures are null.
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { livePids } from "./proc.ts";

export interface CpuSnapshot {
  busy: number;
  total: number;
  own: number;
}

function machineTicks(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** A process's CPU time so far (user + system) in clock ticks (1/100 s on Linux); 0 where unknown. */
export function processTicks(pid: number | "self"): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start at state; utime and stime are 14 and 15.
    const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return Number(rest[11]) + Number(rest[12]);
  } catch {
    return 0;
  }
}

export function cpuSnapshot(): CpuSnapshot | null {
  try {
    const { busy, total } = machineTicks();
    let own = processTicks("self");
    for (const pid of livePids()) own += processTicks(pid);
    return { busy, total, own };
  } catch {
    return null;
  }
}

/** Other processes' CPU between two snapshots, in cores, and the elapsed wall time in ticks. */
export function foreignBetween(a: CpuSnapshot | null, b: CpuSnapshot | null): { foreignTicks: number; wallTicks: number } | null {
  if (!a || !b) return null;
  const wallTicks = (b.total - a.total) / availableParallelism();
  const foreignTicks = Math.max(0, b.busy - a.busy - (b.own - a.own));
  return { foreignTicks, wallTicks };
}
