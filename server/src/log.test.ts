import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { accessLineWriter, createLogger } from "./log.ts";
import { LineOutput } from "./log-output.ts";

const dir = mkdtempSync(join(tmpdir(), "sessiond-log-"));
const opened: number[] = [];
afterEach(() => {
  for (const fd of opened.splice(0)) closeSync(fd);
});

let files = 0;
function scratchFile(): { path: string; fd: number } {
  const path = join(dir, `${files++}.log`);
  const fd = openSync(path, "w");
  opened.push(fd);
  return { path, fd };
}

const flushed = (output: { flush(done: () => void): void }) => new Promise<void>((resolve) => output.flush(resolve));
const fields = { requestId: "req-1", method: "GET", route: "GET /session/{id}", status: 404, ms: 0.3 };

describe("the log's output", () => {
  for (const sharedOutput of [false, true]) {
    it(`writes the access line as pino writes log.info(fields, "request")${sharedOutput ? ", with the pid of a shared output" : ""}`, async () => {
      const { path, fd } = scratchFile();
      const log = createLogger("info", { fd, sharedOutput });
      log.info(fields, "request");
      accessLineWriter(log)!(fields);
      await flushed(log);
      const [pinos, ours] = readFileSync(path, "utf8")
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(Object.keys(ours!)).toEqual(Object.keys(pinos!));
      expect({ ...ours, time: 0 }).toEqual({ ...pinos, time: 0 });
      expect(ours!.time).toBeGreaterThanOrEqual(pinos!.time as number);
      expect(ours!.pid).toBe(sharedOutput ? process.pid : undefined);
    });
  }

  it("writes access lines only at the logger's level, and has no writer for another logger", async () => {
    const { path, fd } = scratchFile();
    const log = createLogger("warn", { fd });
    accessLineWriter(log)!(fields);
    log.level = "info";
    accessLineWriter(log)!({ ...fields, requestId: "req-2" });
    await flushed(log);
    expect(
      readFileSync(path, "utf8")
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line).requestId),
    ).toEqual(["req-2"]);
    expect(accessLineWriter(log.child({ part: "x" }))).toBeUndefined();
  });

  it("writes every line whole and in order, in writes of whole lines", async () => {
    const { path, fd } = scratchFile();
    const output = new LineOutput(fd, { minBytes: 100, maxWriteBytes: 4096, flushMs: 5, maxPendingBytes: 1 << 24 });
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      // Some lines are long, some not ASCII (more bytes than characters), one longer than a write.
      const line = `${JSON.stringify({ i, text: "é✓".repeat(i % 7) + "x".repeat(i === 1500 ? 5000 : i % 300) })}\n`;
      lines.push(line);
      expect(output.write(line)).toBe(true);
      if (i % 500 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await flushed(output);
    expect(readFileSync(path, "utf8")).toBe(lines.join(""));
  });

  it("writes lines that wait less than a batch after flushMs", async () => {
    const { path, fd } = scratchFile();
    const output = new LineOutput(fd, { minBytes: 1 << 20, maxWriteBytes: 1 << 20, flushMs: 20, maxPendingBytes: 1 << 24 });
    output.write("one\n");
    expect(readFileSync(path, "utf8")).toBe("");
    for (let i = 0; i < 100 && readFileSync(path, "utf8") === ""; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(readFileSync(path, "utf8")).toBe("one\n");
  });

  it("drops lines beyond maxPendingBytes, counts them, and says so with the next line it takes", async () => {
    const { path, fd } = scratchFile();
    const output = new LineOutput(fd, { minBytes: 1 << 20, maxWriteBytes: 1 << 20, flushMs: 60_000, maxPendingBytes: 1000 });
    const line = `${"x".repeat(99)}\n`;
    const taken = Array.from({ length: 15 }, () => output.write(line));
    expect(taken).toEqual([...Array(10).fill(true), ...Array(5).fill(false)]);
    await flushed(output);
    expect(output.write("after\n")).toBe(true);
    await flushed(output);
    const written = readFileSync(path, "utf8").trimEnd().split("\n");
    expect(written.slice(0, 10)).toEqual(Array(10).fill(line.trimEnd()));
    expect(JSON.parse(written[10]!)).toMatchObject({ level: 40, dropped: 5 });
    expect(written[11]).toBe("after");
  });

  it("writes what waits when the process exits", () => {
    const { path, fd } = scratchFile();
    const log = fileURLToPath(new URL("./log.ts", import.meta.url));
    // The file is the child's descriptor 3.
    const script = `import { createLogger } from ${JSON.stringify(log)}; const log = createLogger("info", { fd: 3 }); for (let i = 0; i < 3; i++) log.info({ i }, "line"); process.exit(0);`;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "inherit", "inherit", fd] });
    expect(child.status).toBe(0);
    expect(
      readFileSync(path, "utf8")
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line).i),
    ).toEqual([0, 1, 2]);
  });
});
