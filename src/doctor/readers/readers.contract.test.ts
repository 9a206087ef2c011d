import { test } from "node:test";
import { checkReaderContract, READER_CASES } from "./reader-contract.test-support.js";

for (const c of READER_CASES) {
  test(`reader contract: ${c.name} reads its own lines, rejects garbage, never throws`, () => checkReaderContract(c));
}
