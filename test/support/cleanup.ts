/** Set up for every test file: whatever processes it started are gone when it ends. */
import { afterAll } from "vitest";
import { stopAllProcesses } from "./process.ts";

afterAll(stopAllProcesses);
