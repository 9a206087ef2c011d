/**
 * bench:doctor — analysis throughput of `holdfast doctor` on a generated nginx access log,
 * against `grep -c` and `awk` counting 502s on the same file, in the same run.
 *
 *   npm run bench:doctor                 # 1 GB
 *   npm run bench:doctor -- --size 200MB # smaller
 *
 * The file is generated into os.tmpdir() by a child process (so its garbage does not burden this
 * heap) and deleted afterwards. One run each; the file is read once before timing so every
 * contestant reads it from the page cache. The doctor is timed twice: in-process (read + parse +
 * rules) and as the CLI a user runs (`holdfast doctor --json`, including Node/tsx start-up).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseSize } from "../src/config/index.js";
import { analyze, collectLogs } from "../src/doctor/index.js";
import { nginxAccessLine, UPSTREAM_TIMING_FORMAT } from "../src/doctor/recorded-lines.js";

const sizeArg = process.argv.indexOf("--size");
const target = sizeArg > 0 ? (parseSize(process.argv[sizeArg + 1] ?? "") ?? 0) : 1024 ** 3;
if (!target) throw new Error("--size expects a size such as 200MB or 1GB");

const PATHS = ["/api/orders", "/api/orders/81723", "/api/cart", "/static/app.3f9c.js", "/healthz", "/api/search?q=boots&page=2", "/login"];

function generate(file: string): { lines: number; f502: number } {
  const fd = openSync(file, "w");
  let t = Date.UTC(2026, 10, 24, 0, 0, 0);
  let size = 0;
  let lines = 0;
  let f502 = 0;
  let seed = 42;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  let batch: string[] = [];
  while (size < target) {
    const r = rnd();
    const status = r < 0.004 ? 502 : r < 0.005 ? 504 : r < 0.02 ? 404 : r < 0.05 ? 304 : 200;
    if (status === 502) f502++;
    t += Math.floor(rnd() * 3);
    const line = nginxAccessLine({
      t,
      status,
      method: rnd() < 0.2 ? "POST" : "GET",
      path: PATHS[Math.floor(rnd() * PATHS.length)] as string,
      rt: status === 504 ? 60 : rnd() * 0.2,
      urt: status === 502 ? 0 : status === 504 ? 60 : rnd() * 0.2,
      rid: (seed >>> 0).toString(16).padStart(32, "0"),
      ip: `10.0.${lines % 250}.${(lines >> 8) % 250}`,
    });
    batch.push(line);
    size += line.length + 1;
    lines++;
    if (batch.length === 20_000) {
      writeSync(fd, `${batch.join("\n")}\n`);
      batch = [];
    }
  }
  if (batch.length) writeSync(fd, `${batch.join("\n")}\n`);
  closeSync(fd);
  return { lines, f502 };
}

function timed<T>(fn: () => T): { value: T; s: number } {
  const t0 = process.hrtime.bigint();
  const value = fn();
  return { value, s: Number(process.hrtime.bigint() - t0) / 1e9 };
}

async function main(): Promise<void> {
  const genArg = process.argv.indexOf("--generate");
  if (genArg > 0) {
    process.stdout.write(JSON.stringify(generate(process.argv[genArg + 1] as string)));
    return;
  }
  const file = join(tmpdir(), `holdfast-bench-doctor-${process.pid}.log`);
  try {
    process.stderr.write(`generating ${(target / 1e6).toFixed(0)} MB nginx access log at ${file} …\n`);
    const gen = JSON.parse(
      execFileSync(process.execPath, ["--import", "tsx", new URL(import.meta.url).pathname, "--generate", file, "--size", String(target)], {
        encoding: "utf8",
      }),
    ) as { lines: number; f502: number };
    const bytes = statSync(file).size;
    const mb = bytes / 1e6;
    // Warm the page cache so every contestant reads from memory.
    spawnSync("cat", [file], { stdio: ["ignore", "ignore", "ignore"] });

    const grep = timed(() => Number(execFileSync("grep", ["-c", '" 502 ', file], { encoding: "utf8" }).trim()));
    const awk = timed(() => Number(execFileSync("awk", ["$9 == 502 {n++} END {print n+0}", file], { encoding: "utf8", maxBuffer: 1 << 20 }).trim()));
    const t0 = process.hrtime.bigint();
    const data = await collectLogs([{ kind: "nginx-access", file }], { nginxLogFormat: UPSTREAM_TIMING_FORMAT, progress: false });
    const findings = analyze(data);
    const doctorS = Number(process.hrtime.bigint() - t0) / 1e9;
    const doctor502 = data.statusCounts["502"] ?? 0;
    const root = new URL("..", import.meta.url).pathname;
    const cli = timed(() =>
      spawnSync(
        process.execPath,
        [
          "--import",
          "tsx",
          join(root, "src/cli/main.ts"),
          "doctor",
          "--nginx-access-log",
          file,
          "--nginx-log-format",
          UPSTREAM_TIMING_FORMAT,
          "--json",
          "--skip-system",
          "--no-progress",
        ],
        { encoding: "utf8", maxBuffer: 64 << 20 },
      ),
    );
    const cli502 = (JSON.parse(cli.value.stdout) as { totals: { statusCounts: Record<string, number> } }).totals.statusCounts["502"];
    if (cli502 !== gen.f502) throw new Error(`the CLI counted ${cli502} 502s, expected ${gen.f502}`);
    if (grep.value !== gen.f502 || awk.value !== gen.f502 || doctor502 !== gen.f502) {
      throw new Error(`counts disagree: generated ${gen.f502}, grep ${grep.value}, awk ${awk.value}, doctor ${doctor502}`);
    }
    const result = {
      bench: "doctor",
      machine: `${cpus().length} cores, ${cpus()[0]?.model ?? "?"}`,
      fileMB: Math.round(mb),
      lines: gen.lines,
      count502: gen.f502,
      grepMBs: Math.round(mb / grep.s),
      awkMBs: Math.round(mb / awk.s),
      doctorMBs: Math.round(mb / doctorS),
      doctorVsGrep: Math.round((grep.s / doctorS) * 100) / 100,
      doctorVsAwk: Math.round((awk.s / doctorS) * 100) / 100,
      cliMBs: Math.round(mb / cli.s),
      cliVsGrep: Math.round((grep.s / cli.s) * 100) / 100,
      topFinding: findings[0]?.id,
      targetMet: mb / doctorS >= 100 && grep.s / doctorS >= 0.25,
    };
    process.stderr.write(
      `grep -c: ${grep.s.toFixed(2)} s (${result.grepMBs} MB/s) · awk: ${awk.s.toFixed(2)} s (${result.awkMBs} MB/s) · doctor (read + parse + rules): ${doctorS.toFixed(2)} s (${result.doctorMBs} MB/s) · holdfast doctor CLI: ${cli.s.toFixed(2)} s (${result.cliMBs} MB/s)\n`,
    );
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    rmSync(file, { force: true });
  }
}

await main();
