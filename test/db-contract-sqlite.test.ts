/** The Database contract suite on a real SQLite file (worker-thread driver). */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { openDatabase } from "../src/db/index.js";
import { databaseContract } from "./support/db-contract.js";

const dir = mkdtempSync(join(tmpdir(), "holdfast-contract-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

databaseContract("SQLite (file, worker threads)", () => openDatabase(`sqlite:${join(dir, `c${n++}.db`)}`));
// Statements run inline on the main thread after one fast threaded run: the contract holds either way.
databaseContract("SQLite (file, reads inline once measured fast)", () => openDatabase(`sqlite:${join(dir, `c${n++}.db`)}`, { inlineAfterRuns: 1 }));
databaseContract("SQLite (:memory:, writer thread only)", () => openDatabase("sqlite::memory:"));
