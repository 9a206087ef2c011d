/** The Database contract suite on a real PostgreSQL (skips loudly when unreachable outside CI, fails in CI). */
import { test } from "node:test";
import { openDatabase } from "../src/db/index.js";
import { databaseContract } from "./support/db-contract.js";
import { PG_URL, probe } from "./support/postgres.js";

const why = await probe();
if (why === undefined) {
  databaseContract("PostgreSQL", () => openDatabase(PG_URL, { pool: { max: 4 } }));
} else {
  const msg = `PostgreSQL unreachable at ${PG_URL.replace(/:[^:@/]*@/, "@")} (${why}) — start it to run this test`;
  test("Database contract: PostgreSQL", (t) => {
    if (process.env.CI === "true") throw new Error(msg);
    console.error(`\n*** SKIPPED: ${msg} ***\n`);
    t.skip(msg);
  });
}
