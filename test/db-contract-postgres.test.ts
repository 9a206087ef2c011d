/** The Database contract suite on a real PostgreSQL (skips loudly when unreachable outside CI, fails in CI). */
import { openDatabase } from "../src/db/index.js";
import { databaseContract } from "./support/db-contract.js";
import { PG_URL, probe, unreachableMessage } from "./support/postgres.js";
import { missingServiceTest } from "./support/require-service.js";

const why = await probe();
if (why === undefined) {
  databaseContract("PostgreSQL", () => openDatabase(PG_URL, { pool: { max: 4 } }));
} else {
  missingServiceTest("Database contract: PostgreSQL", unreachableMessage(why));
}
