/**
 * Scenario 5, in process: session ID generation, ours (`createSessionIdGenerator`) against
 * opencode's reference algorithm, in alternating timed rounds (median IDs/s); and the chi-square of
 * the 14 random characters against uniform base62.
 */
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

const median = (values: number[]): number => values.sort((a, b) => a - b)[values.length >> 1]!;

/** Chi-square (df 61) of the random characters of `ids` IDs against a uniform distribution. */
function chiSquare(generate: () => string, ids: number): number {
  const counts = new Map([...BASE62].map((char) => [char, 0]));
  for (let i = 0; i < ids; i++) for (const char of generate().slice(16)) counts.set(char, counts.get(char)! + 1);
  const expected = (ids * 14) / 62;
  return [...counts.values()].reduce((sum, observed) => sum + (observed - expected) ** 2 / expected, 0);
}

export const scenarioIds: Scenario = async ({ settings }) => {
  const ours = createSessionIdGenerator();
  const reference = createOpencodeIdGenerator();
  rate(ours, settings.idsPerRound); // warm-up: both reach optimised code
  rate(reference, settings.idsPerRound >> 2);
  const rounds = { ours: [] as number[], reference: [] as number[] };
  for (let round = 0; round < settings.idRounds; round++) {
    // Alternate which one goes first, so neither always runs on a warmer or cooler machine.
    for (const name of round % 2 ? (["reference", "ours"] as const) : (["ours", "reference"] as const)) {
      rounds[name].push(rate(name === "ours" ? ours : reference, settings.idsPerRound));
    }
  }
  const [oursRate, referenceRate] = [median(rounds.ours), median(rounds.reference)];
  const n = settings.biasIds.toLocaleString("en");
  const bias = `of ${n} IDs × 14 random characters; 100.9 is p = 0.001 against uniform`;
  const referenceChi = chiSquare(createOpencodeIdGenerator(), settings.biasIds);
  return {
    figures: [
      figure("ID generation: ours / reference", oursRate / referenceRate, "IDs/s", { min: 5 }),
      figure("ours: chi-square (df 61)", chiSquare(createSessionIdGenerator(), settings.biasIds), bias, { max: 100.9 }),
    ],
    notes: [
      `Median of ${settings.idRounds} rounds of ${settings.idsPerRound}: ours ${Math.round(oursRate)} IDs/s, reference (opencode) ${Math.round(referenceRate)} IDs/s.`,
      `The reference's chi-square (byte % 62 is biased): ${referenceChi.toFixed(1)}.`,
    ],
  };
};
