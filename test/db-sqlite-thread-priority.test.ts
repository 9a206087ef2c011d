/**
 * The SQLite reader threads run at a lower CPU priority than the event loop (db.sqlite.readerNice),
 * and the writer keeps its own: read from the kernel's view of this process's threads.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { openDatabase } from "../src/db/index.js";

const dir = mkdtempSync(join(tmpdir(), "holdfast-nice-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Nice values of this process's threads, from /proc (field 19 of each thread's stat line). */
function threadNices(): number[] {
  return readdirSync("/proc/self/task").map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
  });
}

const linuxOnly = process.platform === "linux" ? false : "per-thread nice values exist on Linux only";

test("the reader thread runs at db.sqlite.readerNice and the writer at the loop's priority; 0 (the default) changes nothing", { skip: linuxOnly }, async () => {
  const base = threadNices().filter((n) => n !== 0).length;
  const db = await openDatabase(`sqlite:${join(dir, "a.db")}`, { sqlite: { readers: 1, readerNice: 7 } });
  try {
    await db.run("CREATE TABLE t (x)");
    await db.get("SELECT count(*) AS n FROM t"); // the reader thread is up once it has answered
    const niced = threadNices().filter((n) => n === 7).length;
    assert.equal(niced, 1, "exactly one thread (the one reader) at nice 7: the writer and the event loop keep theirs");
  } finally {
    await db.close();
  }
  const plain = await openDatabase(`sqlite:${join(dir, "b.db")}`, { sqlite: { readers: 1 } });
  try {
    await plain.run("CREATE TABLE t (x)");
    await plain.get("SELECT count(*) AS n FROM t");
    assert.equal(threadNices().filter((n) => n !== 0).length, base, "readerNice 0 leaves every thread's priority alone");
  } finally {
    await plain.close();
  }
});
