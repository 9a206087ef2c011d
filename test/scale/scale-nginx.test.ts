// The scale scenario (test/scale/scenario.ts) behind the nginx config `holdfast proxy-config nginx` generates.
import { test } from "node:test";
import { scaleScenario } from "./scenario.js";

test(
  "three instances behind nginx: kill -9 of one, a rolling SIGHUP of the others, Redis and PostgreSQL connections killed lose no GET and no acknowledged write",
  { timeout: 170_000 },
  (t) => scaleScenario(t, "nginx"),
);
