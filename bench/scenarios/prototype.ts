/**
 * Opt-in (`--only=prototype`): the group-commit designs of bench/prototypes/group-commit.ts on a
 * bare create handler, session.create at 10 and 64 connections, rounds alternating between the
 * four; ratios to the first (today's store design with `normal`). This is how "make `full`
 * cheap" was explored for issue 13 (bench/README.md); it is not one of the issues' figures.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compareLoads, type LoadResult, type LoadSpec } from "../lib/load.ts";
import { startEntry, type ServerProcess } from "../lib/proc.ts";
import { describeLoad, ratio, type ScenarioContext } from "../lib/scenario.ts";

const ENTRY = join(dirname(dirname(fileURLToPath(import.meta.url))), "prototypes", "group-commit.ts");

export const DESIGNS = {
  "bare, main thread, normal": ["main", "normal"],
  "bare, main thread, full": ["main", "full"],
  "bare, writer thread, full": ["thread", "full"],
  "bare, normal + async WAL fdatasync": ["fsync", "full"],
} as const;
export type Design = keyof typeof DESIGNS;

export interface PrototypeScenario {
  runs: (LoadResult & { design: Design })[];
  ratios: { connections: number; design: Design; overFirst: number }[];
}

export async function scenarioPrototype({ settings, log, freshDb }: ScenarioContext): Promise<PrototypeScenario> {
  log("prototype: group commit on the main thread or a writer thread, normal and full (bare handler)");
  const designs = Object.keys(DESIGNS) as Design[];
  const servers = new Map<Design, ServerProcess>();
  try {
    for (const design of designs) {
      const [shape, sync] = DESIGNS[design];
      servers.set(
        design,
        await startEntry("raw", ENTRY, ["--db", freshDb(`prototype-${shape}-${sync}`), "--design", shape, "--sync", sync]),
      );
    }
    const runs: PrototypeScenario["runs"] = [];
    for (const [level, connections] of settings.createConnections.entries()) {
      const spec = (design: Design): LoadSpec => ({
        url: servers.get(design)!.url,
        method: "POST",
        paths: ["/trpc/session.create"],
        body: '{"json":{}}',
        connections,
        durationS: settings.shortDurationS,
        warmupS: level === 0 ? settings.warmupS : settings.rewarmS,
      });
      const results = await compareLoads(
        Object.fromEntries(designs.map((design) => [design, spec(design)])) as Record<Design, LoadSpec>,
        settings.rounds,
      );
      for (const design of designs) {
        runs.push({ design, ...results[design] });
        log(describeLoad(`  ${design} c${connections}`, results[design]));
      }
    }
    const rpsOf = (design: Design, connections: number) => runs.find((r) => r.design === design && r.connections === connections)!.rps;
    return {
      runs,
      ratios: settings.createConnections.flatMap((connections) =>
        designs
          .slice(1)
          .map((design) => ({ connections, design, overFirst: ratio(rpsOf(design, connections), rpsOf(designs[0]!, connections)) })),
      ),
    };
  } finally {
    for (const server of servers.values()) await server.stop();
  }
}
