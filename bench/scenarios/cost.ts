/**
 * Issue 20's cost table: where a get and a list page spend the server's CPU, step by step, in
 * `sessiond serve` with its defaults and in the plain Hono app, under Node's CPU profiler. A step's
 * share of the busy samples in a load's measured rounds, times the load's CPU per request (/proc).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Wire } from "../lib/contenders.ts";
import type { LoadResult } from "../lib/load.ts";
import { readLoad, type Scenario } from "../lib/scenario.ts";
import { startPlainAndSessiond } from "./plain.ts";

/**
 * A sample's step: the first whose pattern matches "<url> <function name>" of the sampled function
 * (self time); a native function, or one of Node's modules that matches none, takes its caller's.
 */
const STEPS: [string, RegExp][] = [
  ["headers", / \S*header/i],
  ["HTTP (Node)", /^node:(_http_|net|stream|events|internal\/(streams|stream_base_commons|http|timers))/],
  ["serialization", /server\/src\/wire\/(serialize|transformer|iso-date)\.ts|\/superjson\/|lib\/row\.ts|hono\/dist\/context\.js json$/],
  [
    "front door",
    /server\/src\/http\/(handler|exchange|hosts|cors|routes|auth|jwt|listen|trpc-endpoint|rest)\.ts|\/(rou3|hono|@hono\/node-server)\//,
  ],
  ["tRPC procedure call", /\/@trpc\/server\/|server\/src\/(http\/(invoke|fast-path|trpc-response)|trpc|router)\.ts/],
  ["validation", /\/(zod|@hono\/zod-validator)\/|wire\/decode\.ts|shared\/src\/(schema|limits|utf8)\.ts/],
  ["service", /server\/src\/(session\/|context\.ts|errors\.ts)|shared\/src\//],
  ["store", /server\/src\/store\/|servers\/plain\.ts/],
  ["access log", /http\/access\.ts|src\/log(-output)?\.ts|\/pino\/|^node:(internal\/)?fs/],
  ["metrics", /server\/src\/metrics[\w-]*\.ts|\/prom-client\//],
  ["GC", /^ \(garbage collector\)$/],
  ["other", /$/],
];

/** A .cpuprofile: the call tree, and each sample's node and the µs since the one before. */
type Profile = { nodes: ProfileNode[]; startTime: number; samples: number[]; timeDeltas: number[] };
type ProfileNode = { id: number; callFrame: { functionName: string; url: string }; children?: number[] };

/** The busy samples of the CPU profiles in `dir`: when each was taken (µs, process.hrtime's clock) and its step. */
function profileSamples(dir: string): { at: number; step: string }[] {
  const samples: { at: number; step: string }[] = [];
  for (const file of readdirSync(dir)) {
    const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as Profile;
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    const parents = new Map(profile.nodes.flatMap((node) => (node.children ?? []).map((child) => [child, node.id] as const)));
    const stepOf = (id: number): string => {
      const [{ url, functionName }, parent] = [nodes.get(id)!.callFrame, parents.get(id)];
      const step = STEPS.find(([, pattern]) => pattern.test(`${url} ${functionName}`))![0];
      const inherits = step === "other" && parent !== undefined && (url.startsWith("node:") || (!url && !functionName.startsWith("(")));
      return inherits ? stepOf(parent) : step;
    };
    let at = profile.startTime;
    profile.samples.forEach((id, i) => {
      at += profile.timeDeltas[i]!;
      if (nodes.get(id)!.callFrame.functionName !== "(idle)") samples.push({ at, step: stepOf(id) });
    });
  }
  return samples;
}

/** Each step's µs per request in `load`, from the samples taken during its measured rounds. */
function costOf(samples: { at: number; step: string }[], load: LoadResult) {
  const inside = samples.filter(({ at }) => load.windows.some(([from, to]) => at >= from && at < to));
  const costs = new Map<string, number>();
  for (const { step } of inside) costs.set(step, (costs.get(step) ?? 0) + load.cpuUsPerRequest! / inside.length);
  return { costs, samples: inside.length, total: load.cpuUsPerRequest! };
}

export const scenarioCost: Scenario = async (context) => {
  const dir = context.freshDb("cost-profiles").replace(/\.db$/, ""); // the run removes its scratch folder
  const profile = (name: string) => ["--cpu-prof", `--cpu-prof-dir=${join(dir, name)}`];
  const nodeArgs = { sessiond: profile("sessiond"), plain: profile("plain") };
  const { sessiond, plain, ids, contenders } = await startPlainAndSessiond(context, nodeArgs);
  const measure = (name: string, paths: (wire: Wire) => string[]) =>
    context.measure(
      name,
      contenders((server, wire) => readLoad(context.settings, server, paths(wire))),
    );
  const [get, list] = [await measure("get", (wire) => ids.map(wire.getPath)), await measure("list", (wire) => [wire.listPath])];
  await Promise.all([sessiond.stop(), plain.stop()]); // the profiles are written on exit
  const samples = { sessiond: profileSamples(join(dir, "sessiond")), plain: profileSamples(join(dir, "plain")) };
  const columns = Object.entries({ get, list }).flatMap(([name, loads]) =>
    (["sessiond REST", "sessiond tRPC", "plain"] as const).map((key) => {
      const title = `${name} ${key === "plain" ? "plain app" : key.slice(9)}`;
      return { title, ...costOf(samples[key === "plain" ? "plain" : "sessiond"], loads[key]) };
    }),
  );
  const row = (label: string, cell: (c: (typeof columns)[number]) => string) => `| ${label} | ${columns.map(cell).join(" | ")} |`;
  const table = [
    row("µs of server CPU per request", (c) => c.title),
    row("---", () => "---:"),
    ...STEPS.map(([step]) => row(step, (c) => (c.costs.get(step) ?? 0).toFixed(1))),
    row("**total** (from /proc)", (c) => `**${c.total.toFixed(1)}**`),
    row("profile samples", (c) => String(c.samples)),
  ];
  const how = "Under Node's CPU profiler (its cost included); by the file of each sampled function (self time): see bench/README.md.";
  return { figures: [], notes: [table.join("\n"), how] };
};
