#!/usr/bin/env node
// What `npm install holdfast` costs a new project: packs this checkout (or takes a tarball given
// as the first argument), installs it into fresh `npm init -y` projects, each with its own empty
// npm cache so every round downloads like a first install, and prints wall time, node_modules size
// and package count (median of BENCH_ROUNDS, default 3). Needs the npm registry; it compiles
// better-sqlite3 each round (its prebuilt download is not reachable here), which dominates the time:
// BENCH_IGNORE_SCRIPTS=1 skips install scripts to time what the dependency list alone costs.
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const ignoreScripts = process.env.BENCH_IGNORE_SCRIPTS === "1";
const work = mkdtempSync(join(tmpdir(), "hf-install-bench-"));
// The optional packages a user no longer gets unless they ask for them, and the one native build.
const WATCH = ["pg", "ioredis", "tsx", "esbuild", "pino-pretty", "better-sqlite3"];

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}

/** Bytes on disk under dir (files and symlinks themselves, not what links point to). */
function diskBytes(dir) {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    total += st.blocks * 512;
    if (st.isDirectory()) total += diskBytes(p);
  }
  return total;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

let tarball = process.argv[2] ? resolve(process.argv[2]) : undefined;
if (!tarball) {
  const out = run("npm", ["pack", "--silent", "--pack-destination", work], root).trim().split("\n").pop();
  tarball = join(work, out);
}

const results = [];
for (let i = 0; i < rounds; i++) {
  const project = join(work, `project-${i}`);
  mkdirSync(project);
  run("npm", ["init", "-y"], project);
  const t0 = performance.now();
  run("npm", ["install", tarball, "--cache", join(work, `cache-${i}`), "--no-audit", "--no-fund", ...(ignoreScripts ? ["--ignore-scripts"] : [])], project);
  const seconds = (performance.now() - t0) / 1000;
  const lock = JSON.parse(readFileSync(join(project, "node_modules", ".package-lock.json"), "utf8"));
  const packages = Object.keys(lock.packages).filter((k) => k !== "");
  const present = WATCH.filter((name) => existsSync(join(project, "node_modules", name)));
  results.push({
    seconds: Math.round(seconds * 10) / 10,
    mb: Math.round(diskBytes(join(project, "node_modules")) / 1e5) / 10,
    packages: packages.length,
    present,
  });
  process.stderr.write(`round ${i + 1}/${rounds}: ${JSON.stringify(results.at(-1))}\n`);
  rmSync(join(work, `cache-${i}`), { recursive: true, force: true });
}
console.log(
  JSON.stringify({
    bench: "install",
    node: process.version,
    npm: run("npm", ["--version"], work).trim(),
    tarball: tarball.split("/").pop(),
    rounds,
    ignoreScripts,
    seconds: median(results.map((r) => r.seconds)),
    nodeModulesMB: median(results.map((r) => r.mb)),
    packages: median(results.map((r) => r.packages)),
    present: results[0]?.present,
    runs: results,
  }),
);
rmSync(work, { recursive: true, force: true });
