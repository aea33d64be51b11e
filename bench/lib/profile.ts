/**
 * --profile: runs sessiond (and, for list and get, the bare handler) under --cpu-prof for a few loads and prints where its CPU time goes
 * (self time by function and by package). Profiles stay in bench/results/tmp/ (not committed).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runLoad, type LoadResult, type LoadSpec } from "./load.ts";
import { startServer, type ServerKind } from "./proc.ts";
import { REQUESTS } from "./requests.ts";
import { seed } from "./seed.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

function bucketOf(url: string, name: string): string {
  if (!url) return name.startsWith("(") ? name : "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/(server|shared|client|bench)\/src\//.exec(url) ?? /\/(bench)\//.exec(url);
  if (own) return `@sessiond/${own[1]}`;
  if (url.startsWith("node:")) return "node internals";
  return url;
}

const keyOf = ({ functionName, url, lineNumber }: ProfileNode["callFrame"]): string => {
  const short = url.replace(/^file:\/\/.*?\/(node_modules|server|shared|client|bench)\//, "$1/");
  return `${functionName || "(anonymous)"}  ${short}${url ? `:${lineNumber + 1}` : ""}`;
};

/**
 * Busy samples by function including its callees (each function counted once per sample, however
 * often it is on that stack): where a request's time goes, stage by stage.
 */
function inclusive(profile: CpuProfile): Map<string, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const totals = new Map<string, number>();
  for (const sample of profile.samples) {
    const leaf = byId.get(sample);
    if (!leaf || leaf.callFrame.functionName === "(idle)" || leaf.callFrame.functionName === "(program)") continue;
    const seen = new Set<string>();
    for (let id: number | undefined = sample; id !== undefined; id = parent.get(id)) {
      const key = keyOf(byId.get(id)!.callFrame);
      if (seen.has(key)) continue;
      seen.add(key);
      totals.set(key, (totals.get(key) ?? 0) + 1);
    }
  }
  return totals;
}

export function summarise(profile: CpuProfile, top = 25): string {
  const totalUs = profile.endTime - profile.startTime;
  const perSampleUs = totalUs / Math.max(1, profile.samples.length);
  const byFunction = new Map<string, number>();
  const byBucket = new Map<string, number>();
  let hits = 0;
  for (const node of profile.nodes) {
    const count = node.hitCount ?? 0;
    if (!count) continue;
    hits += count;
    const { functionName, url } = node.callFrame;
    const key = keyOf(node.callFrame);
    byFunction.set(key, (byFunction.get(key) ?? 0) + count);
    const bucket = bucketOf(url, functionName);
    byBucket.set(bucket, (byBucket.get(bucket) ?? 0) + count);
  }
  const idle = byFunction.get("(idle)  ") ?? 0;
  const busy = hits - idle;
  const lines: string[] = [];
  const pct = (n: number) => `${((100 * n) / busy).toFixed(1).padStart(5)} %`;
  lines.push(`busy ${((busy * perSampleUs) / 1e6).toFixed(1)} s of ${(totalUs / 1e6).toFixed(1)} s; shares of busy time`);
  lines.push("by package:");
  for (const [bucket, n] of [...byBucket]
    .filter(([b]) => b !== "(idle)")
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15))
    lines.push(`  ${pct(n)}  ${bucket}`);
  lines.push("by function (self):");
  for (const [key, n] of [...byFunction]
    .filter(([k]) => !k.startsWith("(idle)"))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top))
    lines.push(`  ${pct(n)}  ${key}`);
  lines.push("by function (total, with what it calls; samples of (program) left out):");
  for (const [key, n] of [...inclusive(profile)]
    .filter(([k]) => !k.startsWith("(root)"))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top * 2))
    lines.push(`  ${pct(n)}  ${key}`);
  return lines.join("\n");
}

/**
 * Profiles sessiond under each load (and the bare handler under the list load, for comparison);
 * `only` keeps the loads whose names start with one of its entries.
 */
export async function profileSessiond(
  db: string,
  outDir: string,
  timing: { durationS: number; warmupS: number },
  only?: string[],
): Promise<void> {
  const listSpec: Omit<LoadSpec, "url"> = { method: "GET", paths: [REQUESTS.sessiond.listPath], connections: 10, ...timing };
  const getSpec: Omit<LoadSpec, "url"> = { method: "GET", paths: [], connections: 10, ...timing };
  const all: { name: string; kind?: ServerKind; seedRows?: number; spec: Omit<LoadSpec, "url">; getIds?: boolean }[] = [
    { name: "create-c64", spec: { method: "POST", paths: ["/trpc/session.create"], body: '{"json":{}}', connections: 64, ...timing } },
    {
      name: "batch100-c10",
      spec: {
        method: "POST",
        paths: [`/trpc/${Array(100).fill("session.create").join(",")}?batch=1`],
        body: JSON.stringify(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [i, { json: {} }]))),
        connections: 10,
        ...timing,
      },
    },
    { name: "list-c10", seedRows: 10_000, spec: listSpec },
    { name: "list-c10-raw", kind: "raw", seedRows: 10_000, spec: listSpec },
    // The same 1,000 IDs as the read scenario, for the paths of get.
    { name: "get-c10", seedRows: 10_000, spec: getSpec, getIds: true },
    { name: "get-c10-raw", kind: "raw", seedRows: 10_000, spec: getSpec, getIds: true },
  ];
  const loads = only ? all.filter((load) => only.some((prefix) => load.name.startsWith(prefix))) : all;
  const report: string[] = [];
  for (const load of loads) {
    const dir = join(outDir, `profile-${load.name}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const path = `${db}.${load.name}`;
    const { sampleIds } = await seed(path, { rows: load.seedRows ?? 0, sampleIds: load.getIds ? 1000 : 0 });
    const spec = load.getIds ? { ...load.spec, paths: sampleIds.map(REQUESTS.sessiond.getPath) } : load.spec;
    const server = await startServer(load.kind ?? "sessiond", path, { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${dir}`] });
    let result: LoadResult;
    try {
      result = await runLoad({ url: server.url, ...spec });
    } finally {
      await server.stop();
    }
    const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
    const text = file ? summarise(JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfile) : "(no profile written)";
    report.push(`## ${load.name}: ${result.rps.toFixed(0)} req/s, p50 ${result.latencyMs.p50} ms (profiling on)\n${text}\n`);
    process.stdout.write(`${report.at(-1)}\n`);
  }
  writeFileSync(join(outDir, "profile-summary.txt"), report.join("\n"));
}
