/**
 * The stages of one `session.list` page of 50, timed in process (no HTTP): what sessiond does
 * (the store's query, `toSession`, the wire serializer, the final JSON.stringify), what the bare
 * handler (servers/raw.ts) does, and two cheaper ways to build the same bytes, to size the
 * changes proposed in bench/README.md ("Where list time goes"). Every variant's output is first
 * checked to be byte for byte sessiond's.
 *
 * Run: node bench/list-stages.ts (Node 24; about 15 s). Prints µs per page, median of 5 rounds.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { COLUMNS, toSession, type SessionRow } from "../server/src/store/row.ts";
import { serialize } from "../server/src/wire/serialize.ts";
import { bareSessionJson, type DateMeta } from "./lib/bare.ts";
import { openLikeStore, seed } from "./lib/seed.ts";

const PAGE = 50;
const dir = mkdtempSync(join(tmpdir(), "sessiond-list-stages-"));
try {
  const path = join(dir, "stages.db");
  await seed(path, { rows: 10_000 });
  const db = openLikeStore(path);
  const sql = `SELECT ${COLUMNS} FROM session ORDER BY created_at DESC, id DESC LIMIT :limit`;
  const asObjects = db.prepare(sql);
  const asArrays = db.prepare(sql);
  asArrays.setReturnArrays(true);
  const rows = asObjects.all({ limit: PAGE + 1 }) as unknown as SessionRow[];
  const nextCursor = "cursor";
  const page = { items: rows.slice(0, PAGE).map(toSession), nextCursor };
  const wire = serialize(page);
  const expected = JSON.stringify({ result: { data: wire } });

  /** servers/raw.ts's way: one object per row with ISO strings, the meta paths alongside. */
  function bareObjects(): unknown {
    const values: DateMeta = {};
    const items = rows.slice(0, PAGE).map((row, i) => bareSessionJson(row, `items.${i}.`, values));
    return { json: { items, nextCursor }, meta: { values, v: 1 } };
  }

  /**
   * The whole answer as one string: the stored metadata text spliced in as it is (SQLite keeps
   * what JSON.stringify wrote), one ISO string when updatedAt equals createdAt.
   */
  function bareString(): string {
    let items = "";
    let meta = "";
    for (let i = 0; i < PAGE; i++) {
      const row = rows[i]!;
      const created = new Date(row.created_at).toISOString();
      const updated = row.updated_at === row.created_at ? created : new Date(row.updated_at).toISOString();
      const archived = row.archived_at === null ? "null" : `"${new Date(row.archived_at).toISOString()}"`;
      const parent = row.parent_id === null ? "null" : `"${row.parent_id}"`;
      items += `${i ? "," : ""}{"id":"${row.id}","title":${JSON.stringify(row.title)},"parentId":${parent},"metadata":${row.metadata},"revision":${row.revision},"createdAt":"${created}","updatedAt":"${updated}","archivedAt":${archived}}`;
      meta += `${i ? "," : ""}"items.${i}.createdAt":["Date"],"items.${i}.updatedAt":["Date"]${row.archived_at === null ? "" : `,"items.${i}.archivedAt":["Date"]`}`;
    }
    return `{"result":{"data":{"json":{"items":[${items}],"nextCursor":"${nextCursor}"},"meta":{"values":{${meta}},"v":1}}}}`;
  }

  if (JSON.stringify({ result: { data: bareObjects() } }) !== expected) throw new Error("bareObjects answers other bytes than sessiond");
  if (bareString() !== expected) throw new Error("bareString answers other bytes than sessiond");

  const stages: Record<string, () => unknown> = {
    "query, rows as objects (store, raw)": () => asObjects.all({ limit: PAGE + 1 }),
    "query, rows as arrays (setReturnArrays)": () => asArrays.all({ limit: PAGE + 1 }),
    "toSession x 50 (store)": () => rows.slice(0, PAGE).map(toSession),
    "serialize: generic walk (wire/serialize.ts)": () => serialize(page),
    "JSON.stringify of the envelope (both)": () => JSON.stringify({ result: { data: wire } }),
    "row -> json + meta objects (raw)": bareObjects,
    "the envelope as one string (proposal)": bareString,
  };
  const samples = new Map<string, number[]>(Object.keys(stages).map((name) => [name, []]));
  for (let round = 0; round < 6; round++) {
    for (const [name, run] of Object.entries(stages)) {
      const started = performance.now();
      let calls = 0;
      while (performance.now() - started < 300) {
        for (let i = 0; i < 20; i++) run();
        calls += 20;
      }
      // Round 0 only warms the JIT up.
      if (round > 0) samples.get(name)!.push(((performance.now() - started) * 1000) / calls);
    }
  }
  for (const [name, values] of samples) {
    const median = values.sort((a, b) => a - b)[values.length >> 1]!;
    process.stdout.write(`${median.toFixed(1).padStart(7)} µs  ${name}\n`);
  }
  db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
