/**
 * How much CPU other processes took during a load: the machine's busy time (/proc/stat) minus
 * this process's and everything it started (/proc/<pid>/stat over its process tree: the servers,
 * `sessiond serve`'s workers, PostgreSQL and its backends). On a small machine that someone else is
 * using, a figure above a few tenths of a core means the run was disturbed. Linux only; elsewhere
 * the figures are null.
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { ownTreeTicks } from "./tree.ts";

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

export function cpuSnapshot(): CpuSnapshot | null {
  try {
    const { busy, total } = machineTicks();
    const own = ownTreeTicks();
    return own === null ? null : { busy, total, own };
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
