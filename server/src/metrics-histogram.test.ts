/**
 * The cheap histogram must read exactly as prom-client's Counter and Histogram would after the
 * same observations: the /metrics text, and the JSON the cluster aggregation sums.
 */
import { AggregatorRegistry, Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { CheapHistogram } from "./metrics-histogram.ts";

const BUCKETS = [0.001, 0.01, 0.1, 1];
const OBSERVATIONS: [string, number, number][] = [
  ["session.get", 200, 0.0004],
  ["session.get", 200, 0.001], // on a bound: counted in that bucket ("le")
  ["session.get", 404, 0.05],
  ["session.create", 200, 3],
  ["GET /session/{id}", 200, 0.2],
  ["session.get", 200, 0.02],
];

function promClient(): Registry {
  const registry = new Registry();
  const counter = new Counter({ name: "x_total", help: "count", labelNames: ["route", "status"], registers: [registry] });
  const histogram = new Histogram({
    name: "x_seconds",
    help: "time",
    labelNames: ["route", "status"],
    buckets: BUCKETS,
    registers: [registry],
  });
  for (const [route, status, value] of OBSERVATIONS) {
    counter.inc({ route, status });
    histogram.observe({ route, status }, value);
  }
  return registry;
}

function cheap(): Registry {
  const registry = new Registry();
  const histogram = new CheapHistogram(
    { name: "x_seconds", help: "time", labelNames: ["route", "status"], buckets: BUCKETS, counter: { name: "x_total", help: "count" } },
    registry,
  );
  for (const [route, status, value] of OBSERVATIONS) histogram.observe(route, status, value);
  return registry;
}

describe("CheapHistogram", () => {
  it("writes the same /metrics text as prom-client's Counter and Histogram", async () => {
    expect(await cheap().metrics()).toBe(await promClient().metrics());
  });

  it("gives the cluster aggregation the same JSON, and sums the same", async () => {
    // prom-client adds `exemplar: null` (or undefined) to each value; exemplars are not used here.
    const withoutExemplars = (metrics: unknown) =>
      JSON.parse(JSON.stringify(metrics, (key, value) => (key === "exemplar" ? undefined : value)));
    expect(withoutExemplars(await cheap().getMetricsAsJSON())).toEqual(withoutExemplars(await promClient().getMetricsAsJSON()));
    const ours = AggregatorRegistry.aggregate([await cheap().getMetricsAsJSON(), await cheap().getMetricsAsJSON()]);
    const theirs = AggregatorRegistry.aggregate([await promClient().getMetricsAsJSON(), await promClient().getMetricsAsJSON()]);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('x_total{route="session.get",status="200"} 6');
  });

  it("times an operation", async () => {
    const registry = new Registry();
    const histogram = new CheapHistogram({ name: "t_seconds", help: "t", labelNames: ["engine", "operation"], buckets: BUCKETS }, registry);
    const end = histogram.startTimer("sqlite", "get");
    await new Promise((resolve) => setTimeout(resolve, 5));
    end();
    const text = await registry.metrics();
    expect(text).toContain('t_seconds_count{engine="sqlite",operation="get"} 1');
    expect(text).toContain('t_seconds_bucket{le="0.001",engine="sqlite",operation="get"} 0');
  });
});
