/** CPU and memory of process trees from /proc (Linux; elsewhere null or 0): a server and its workers, not PostgreSQL's backends. */
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

const read = (path: string): string | null => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null; // not Linux, or the process is gone
  }
};

/** `root` and its descendants, with their CPU ticks (utime + stime). */
function tree(root: number): { pid: number; ticks: number }[] {
  const all = new Map<number, { ppid: number; ticks: number }>();
  for (const pid of (read("/proc/self/stat") && readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) || []) {
    // After the command name (which may hold spaces): state, ppid (field 4), …, utime and stime (14, 15).
    const rest = read(`/proc/${pid}/stat`)?.split(") ").pop()?.split(" ");
    if (rest) all.set(Number(pid), { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) });
  }
  const members: { pid: number; ticks: number }[] = [];
  for (const queue = all.has(root) ? [root] : []; queue.length > 0; ) {
    const pid = queue.pop()!;
    members.push({ pid, ticks: all.get(pid)!.ticks });
    for (const [child, { ppid }] of all) if (ppid === pid) queue.push(child);
  }
  return members;
}

/** CPU seconds used so far by `pid` and its descendants; null where unknown. */
export function treeCpuSeconds(pid: number): number | null {
  const members = tree(pid);
  return members.length ? members.reduce((sum, m) => sum + m.ticks, 0) / 100 : null; // USER_HZ
}

/** Resident memory of `pid` and its descendants in bytes (0 where unknown). */
export function treeRss(pid: number): number {
  return tree(pid).reduce((sum, { pid: member }) => sum + Number(read(`/proc/${member}/statm`)?.split(" ")[1] ?? 0) * 4096, 0);
}

type CpuSnapshot = { busy: number; total: number; own: number } | null;

/** The machine's busy and total ticks, and the bench's own process tree's. */
export function cpuSnapshot(): CpuSnapshot {
  // "cpu  user nice system idle iowait irq softirq steal …", in ticks
  const fields = (read("/proc/stat")?.split("\n", 1)[0] ?? "").split(/\s+/).map(Number);
  const [, user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  const [busy, own] = [user + nice + system + irq + softirq + steal, treeCpuSeconds(process.pid)];
  return busy > 0 && own !== null ? { busy, total: busy + idle + iowait, own: own * 100 } : null;
}

/** Other processes' CPU ticks between two snapshots, and the wall time in ticks of one core. */
export function foreignBetween(a: CpuSnapshot, b: CpuSnapshot): { foreign: number; wall: number } | null {
  if (!a || !b) return null;
  return { foreign: Math.max(0, b.busy - a.busy - (b.own - a.own)), wall: (b.total - a.total) / availableParallelism() };
}
