/**
 * Scenario 5: session ID generation, ours against opencode's reference algorithm, in process.
 */
import { randomBytes } from "node:crypto";
import { createSessionIdGenerator } from "@sessiond/shared";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/**
 * opencode's reference generator, reimplemented: per ID, Date.now(), a counter per millisecond,
 * ~(ms * 4096 + counter) as 12 hex digits through a 6-byte Buffer, then randomBytes(14) mapped
 * with `byte % 62`.
 */
export function createReferenceGenerator(): () => string {
  let lastTimestamp = 0;
  let counter = 0;
  return function referenceId(): string {
    const currentTimestamp = Date.now();
    if (currentTimestamp !== lastTimestamp) {
      lastTimestamp = currentTimestamp;
      counter = 0;
    }
    counter++;
    const now = ~(BigInt(currentTimestamp) * BigInt(0x1000) + BigInt(counter));
    const timeBytes = Buffer.alloc(6);
    for (let i = 0; i < 6; i++) {
      timeBytes[i] = Number((now >> BigInt(40 - 8 * i)) & BigInt(0xff));
    }
    const bytes = randomBytes(14);
    let random = "";
    for (let i = 0; i < 14; i++) random += BASE62[bytes[i]! % 62];
    return `ses_${timeBytes.toString("hex")}${random}`;
  };
}

export interface IdRate {
  /** IDs per second, median of the rounds. */
  idsPerS: number;
  rounds: number[];
}

export interface Bias {
  /** Characters counted: IDs × 14 random positions. */
  characters: number;
  chiSquare: number;
  df: number;
  /** Probability of a chi-square at least this large from a uniform source. */
  pValue: number;
  /** Frequency of the most and least common character relative to uniform (1 = exact). */
  maxRelative: number;
  minRelative: number;
}

export interface IdResult {
  idsPerRound: number;
  rounds: number;
  ours: IdRate;
  reference: IdRate;
  /** ours / reference, from the medians. */
  ratio: number;
  bias: { ids: number; ours: Bias; reference: Bias };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Times `count` calls; the XOR sink keeps the work observable. */
function timeRound(generate: () => string, count: number): { perS: number; sink: number } {
  let sink = 0;
  const started = performance.now();
  for (let i = 0; i < count; i++) sink ^= generate().charCodeAt(29);
  const seconds = (performance.now() - started) / 1000;
  return { perS: count / seconds, sink };
}

// ln Γ(x), Lanczos approximation.
function lnGamma(x: number): number {
  const g = [
    676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
    9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  x -= 1;
  let a = 0.99999999999980993;
  const t = x + 7.5;
  for (let i = 0; i < 8; i++) a += g[i]! / (x + i + 1);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularized upper incomplete gamma Q(a, x) (Numerical Recipes' gammq). */
function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const lnPrefix = -x + a * Math.log(x) - lnGamma(a);
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return 1 - sum * Math.exp(lnPrefix);
  }
  // Lentz's continued fraction.
  let b = x + 1 - a;
  let c = 1 / 1e-300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.exp(lnPrefix) * h;
}

/** Chi-square of the 14 random characters of `ids` IDs against the uniform base62 distribution. */
export function bias(generate: () => string, ids: number): Bias {
  const counts = new Float64Array(128);
  for (let i = 0; i < ids; i++) {
    const id = generate();
    for (let j = 16; j < 30; j++) counts[id.charCodeAt(j)]! += 1;
  }
  const characters = ids * 14;
  const expected = characters / 62;
  let chiSquare = 0;
  let max = 0;
  let min = Infinity;
  for (const char of BASE62) {
    const observed = counts[char.charCodeAt(0)]!;
    chiSquare += (observed - expected) ** 2 / expected;
    max = Math.max(max, observed);
    min = Math.min(min, observed);
  }
  const df = 61;
  return {
    characters,
    chiSquare: Number(chiSquare.toFixed(1)),
    df,
    pValue: Number(gammaQ(df / 2, chiSquare / 2).toPrecision(3)),
    maxRelative: Number((max / expected).toFixed(4)),
    minRelative: Number((min / expected).toFixed(4)),
  };
}

export function benchIds(options: { idsPerRound: number; rounds: number; biasIds: number }): IdResult {
  const ours = createSessionIdGenerator();
  const reference = createReferenceGenerator();
  // Warm-up: let both reach optimised code.
  timeRound(ours, options.idsPerRound);
  timeRound(reference, Math.max(1, options.idsPerRound >> 2));
  const oursRounds: number[] = [];
  const referenceRounds: number[] = [];
  let sink = 0;
  for (let round = 0; round < options.rounds; round++) {
    // Alternate which one goes first, so neither always runs on a warmer or cooler machine.
    const order = round % 2 === 0 ? [ours, reference] : [reference, ours];
    for (const generate of order) {
      const { perS, sink: s } = timeRound(generate, options.idsPerRound);
      sink ^= s;
      (generate === ours ? oursRounds : referenceRounds).push(Math.round(perS));
    }
  }
  if (sink === -1) console.log(sink);
  const oursRate = median(oursRounds);
  const referenceRate = median(referenceRounds);
  return {
    idsPerRound: options.idsPerRound,
    rounds: options.rounds,
    ours: { idsPerS: Math.round(oursRate), rounds: oursRounds },
    reference: { idsPerS: Math.round(referenceRate), rounds: referenceRounds },
    ratio: Number((oursRate / referenceRate).toFixed(2)),
    bias: {
      ids: options.biasIds,
      ours: bias(createSessionIdGenerator(), options.biasIds),
      reference: bias(createReferenceGenerator(), options.biasIds),
    },
  };
}
