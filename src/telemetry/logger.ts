/**
 * Structured JSON logs, one event per line (pino): `time`, `level`, `event`, `pid`, then
 * the event's own fields. Every process of a holdfast instance appends to the same file;
 * each line is one write(2) on an O_APPEND descriptor, so lines never interleave.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import pino from "pino";
import pretty from "pino-pretty";

/** The logger every part writes events to. */
export type Logger = pino.Logger;

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** JSON log file, or "-" for standard output only. */
  file: string;
  /** Lowest level logged. */
  level: string;
  /** Readable copy on standard output: auto = when it is a TTY. */
  pretty: "auto" | "always" | "never";
  /** Fields on every line (e.g. { role: "worker", workerId: 2 }). */
  base?: Record<string, unknown>;
}

const RAW = Symbol.for("holdfast.rawDestination");

/** Creates the process's logger; call once per process. */
export function createLogger(o: LoggerOptions): Logger {
  const streams: pino.StreamEntry[] = [];
  const wantPretty = o.pretty === "always" || (o.pretty === "auto" && process.stdout.isTTY === true);
  let raw: { write(line: string): unknown } | undefined;
  if (o.file !== "-") {
    mkdirSync(dirname(o.file), { recursive: true });
    const dest = pino.destination({ dest: o.file, append: true, sync: false, mkdir: true });
    raw = dest;
    streams.push({ level: o.level as pino.Level, stream: dest });
  }
  if (wantPretty) {
    streams.push({
      level: o.level as pino.Level,
      stream: pretty({ colorize: true, translateTime: "HH:MM:ss.l", ignore: "hostname", messageKey: "msg", sync: true }),
    });
  } else if (o.file === "-") {
    streams.push({ level: o.level as pino.Level, stream: pino.destination({ dest: 1, sync: false }) });
  }
  const logger = pino(
    {
      level: o.level,
      base: { pid: process.pid, ...o.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: ["token", "password", "*.token", "*.password", "authorization", "*.authorization"], censor: "[redacted]" },
    },
    pino.multistream(streams),
  );
  // The request log writes pre-built lines straight to the file when nothing else (pretty
  // output) needs them: the per-request hot path then skips pino's serializer.
  if (raw && !wantPretty && streams.length === 1) (logger as unknown as Record<symbol, unknown>)[RAW] = raw;
  return logger;
}

/** The file destination a logger writes to, when lines can be written to it directly. */
export function rawDestination(log: Logger): { write(line: string): unknown } | undefined {
  return (log as unknown as Record<symbol, { write(line: string): unknown } | undefined>)[RAW];
}

/** A logger that drops everything (tests, library use without a logger). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
