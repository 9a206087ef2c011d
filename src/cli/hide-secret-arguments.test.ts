import assert from "node:assert/strict";
import { test } from "node:test";
import { shownArguments } from "./hide-secret-arguments.js";

test("the command line as ps shows it: URL secrets, token flags and credential headers hidden, the rest as typed", () => {
  assert.deepEqual(
    shownArguments(["serve", "app.js", "--db", "postgres://app:pw1@db/x?password=pw2&sslmode=disable", "--db=postgres://app:pw3@db/x", "--port", "8080"]),
    ["serve", "app.js", "--db", "postgres://app:***@db/x?password=***&sslmode=disable", "--db=postgres://app:***@db/x", "--port", "8080"],
  );
  assert.deepEqual(shownArguments(["monitor", "--token", "tok1", "--admin-token=tok2", "--admin", "http://:tok3@h:9464"]), [
    "monitor",
    "--token",
    "***",
    "--admin-token=***",
    "--admin",
    "http://:***@h:9464/",
  ]);
  assert.deepEqual(shownArguments(["load", "http://h/", "--header", "Authorization: Bearer tok4", "--header", "Accept: text/html"]), [
    "load",
    "http://h/",
    "--header",
    "Authorization: ***",
    "--header",
    "Accept: text/html",
  ]);
  // -H is --header in every command (short-flags.ts): its credentials are hidden the same way.
  assert.deepEqual(shownArguments(["load", "http://h/", "-H", "cookie: sid=tok5"]), ["load", "http://h/", "-H", "cookie: ***"]);
  assert.deepEqual(shownArguments(["monitor", "--thresholds", "errorRate=2%,p99=3s"]), ["monitor", "--thresholds", "errorRate=2%,p99=3s"]);
});
