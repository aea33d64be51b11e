/** In process: ID generation, ours against opencode's (median IDs/s of alternating rounds); chi-square of the random characters. */
import { createSessionIdGenerator } from "@sessiond/shared";
import { BASE62, createOpencodeIdGenerator } from "../lib/opencode-id.ts";
import { figure, type Scenario } from "../lib/scenario.ts";

/** IDs per second over `count` calls; the XOR keeps the work observable. */
function rate(generate: () => string, count: number): number {
  let sink = 0;
  const started = performance.now();
  for (let i = 0; i < count; i++) sink ^= generate().charCodeAt(29);
  if (sink === -1) console.log(sink);
  return count / ((performance.now() - started) / 1000);
}

/** Chi-square (df 61) of the random characters of `ids` IDs against a uniform distribution. */
function chiSquare(generate: () => string, ids: number): number {
  const counts = new Map([...BASE62].map((char) => [char, 0]));
  for (let i = 0; i < ids; i++) for (const char of generate().slice(16)) counts.set(char, counts.get(char)! + 1);
  const expected = (ids * 14) / 62;
  return [...counts.values()].reduce((sum, observed) => sum + (observed - expected) ** 2 / expected, 0);
}

export const scenarioIds: Scenario = async ({ settings: { idsPerRound, idRounds, biasIds } }) => {
  const generators = { ours: createSessionIdGenerator(), reference: createOpencodeIdGenerator() };
  rate(generators.ours, idsPerRound); // warm-up: both reach optimised code
  rate(generators.reference, idsPerRound >> 2);
  const rounds = { ours: [] as number[], reference: [] as number[] };
  for (let round = 0; round < idRounds; round++) {
    // Alternate which one goes first, so neither always runs on a warmer or cooler machine.
    for (const name of round % 2 ? (["reference", "ours"] as const) : (["ours", "reference"] as const)) {
      rounds[name].push(rate(generators[name], idsPerRound));
    }
  }
  const [ours, reference] = [rounds.ours, rounds.reference].map((values) => values.sort((a, b) => a - b)[values.length >> 1]!) as [
    number,
    number,
  ];
  const bias = `of ${biasIds.toLocaleString("en")} IDs × 14 random characters; 100.9 is p = 0.001 against uniform`;
  return {
    figures: [
      figure("ID generation: ours / reference", ours / reference, "IDs/s", { min: 5 }),
      figure("ours: chi-square (df 61)", chiSquare(createSessionIdGenerator(), biasIds), bias, { max: 100.9 }),
    ],
    notes: [
      `Median of ${idRounds} rounds of ${idsPerRound}: ours ${Math.round(ours)} IDs/s, reference (opencode) ${Math.round(reference)} IDs/s.`,
      `The reference's chi-square (byte % 62 is biased): ${chiSquare(createOpencodeIdGenerator(), biasIds).toFixed(1)}.`,
    ],
  };
};
