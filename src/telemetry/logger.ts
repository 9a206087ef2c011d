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

/** Creates the process's logger; call once per process. */
export function createLogger(o: LoggerOptions): Logger {
  const streams: pino.StreamEntry[] = [];
  const wantPretty = o.pretty === "always" || (o.pretty === "auto" && process.stdout.isTTY === true);
  if (o.file !== "-") {
    mkdirSync(dirname(o.file), { recursive: true });
    streams.push({ level: o.level as pino.Level, stream: pino.destination({ dest: o.file, append: true, sync: false, mkdir: true }) });
  }
  if (wantPretty) {
    streams.push({
      level: o.level as pino.Level,
      stream: pretty({ colorize: true, translateTime: "HH:MM:ss.l", ignore: "hostname", messageKey: "msg", sync: true }),
    });
  } else if (o.file === "-") {
    streams.push({ level: o.level as pino.Level, stream: pino.destination({ dest: 1, sync: false }) });
  }
  return pino(
    {
      level: o.level,
      base: { pid: process.pid, ...o.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: ["token", "password", "*.token", "*.password", "authorization", "*.authorization"], censor: "[redacted]" },
    },
    pino.multistream(streams),
  );
}

/** A logger that drops everything (tests, library use without a logger). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
