/**
 * Writes src/config/defaults.ts: the defaults of the db and cache sections as plain data, read from
 * the schema (configSchema.parse({})), which stays the one place a default is decided.
 * `npm run config:defaults` after changing a default there; src/config/defaults.test.ts fails until then.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { configDefaults } from "../src/config/schema.js";

const out = new URL("../src/config/defaults.ts", import.meta.url).pathname;
const text = `/**
 * The defaults of the db and cache sections as plain data, for the code every worker loads (db/,
 * cache/): importing the schema costs a process ~80 ms of CPU (zod, and building the schema), and a
 * worker gets its whole config from the supervisor already parsed. Generated from the schema by
 * \`npm run config:defaults\` (scripts/config-defaults.ts); defaults.test.ts fails when it differs.
 * Do not edit by hand: change the default in schema.ts and run the script.
 */
import { deepFreeze } from "./deep-freeze.js";
import type { Config } from "./schema.js";

/** db.* defaults (durations in ms, sizes in bytes). */
export const dbDefaults: Config["db"] = deepFreeze(${JSON.stringify(configDefaults.db, null, 2)});

/** cache.* defaults (durations in ms). */
export const cacheDefaults: Config["cache"] = deepFreeze(${JSON.stringify(configDefaults.cache, null, 2)});
`;
writeFileSync(out, text);
const fmt = spawnSync(process.execPath, [new URL("../node_modules/@biomejs/biome/bin/biome", import.meta.url).pathname, "format", "--write", out], {
  stdio: "inherit",
});
process.exit(fmt.status ?? 1);
