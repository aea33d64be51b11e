/**
 * What sessiond is compared with in the create and read scenarios, and the ratio each comparison
 * must reach (sessiond's req/s over the baseline's, same run, alternating rounds). One table, used
 * by the checks and by the report.
 */
export const BASELINES = ["raw", "stock", "orpc", "hono"] as const;
export type Baseline = (typeof BASELINES)[number];
export type Operation = "create" | "get" | "list";

export const BASELINE_MEANING: Record<Baseline, string> = {
  raw: "share of the bare node:http handler's req/s (the limit)",
  stock: "req/s against tRPC's stock adapter",
  orpc: "req/s against oRPC (Node adapter), same store",
  hono: "req/s against Hono + zod (Node server), same store",
};

/**
 * The targets: create at least 0.6× the bare handler (the first bench issue) and 3× the stock
 * adapter; get and list at least 0.85× their bare handlers; at least 1.0× every peer (issue 13).
 * null: reported without a target.
 */
export function targetOf(operation: Operation, baseline: Baseline): number | null {
  switch (baseline) {
    case "raw":
      return operation === "create" ? 0.6 : 0.85;
    case "stock":
      return operation === "create" ? 3 : null;
    case "orpc":
    case "hono":
      return 1;
  }
}
