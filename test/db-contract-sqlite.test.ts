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
databaseContract("SQLite (:memory:, writer thread only)", () => openDatabase("sqlite::memory:"));
