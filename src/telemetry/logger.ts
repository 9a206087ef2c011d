/**
 * Structured JSON logs, one event per line (pino): `time`, `level`, `event`, `pid`, then
 * the event's own fields. Every process of a holdfast instance appends to the same file;
 * each line is one write(2) on an O_APPEND descriptor, so lines never interleave.
 */
import { mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import pino from "pino";
import type PinoPretty from "pino-pretty";
import { importOptional } from "../optional/index.js";

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
  /** Say on stderr when pretty "auto" falls back to JSON because pino-pretty is missing. Default true; workers pass false (the supervisor said it). */
  explainPrettyFallback?: boolean;
}

const RAW = Symbol.for("holdfast.rawDestination");

/** pino-pretty's default export: a function returning the stream pretty lines are written to. */
type PrettyFactory = typeof PinoPretty;

/**
 * pino-pretty when readable output is wanted, else undefined. It is an optional package: "always"
 * without it is an error naming the command that adds it; "auto" falls back to JSON lines, which
 * are complete, and says so once, because a first `holdfast serve` on a terminal must not fail.
 */
async function loadPretty(o: LoggerOptions): Promise<PrettyFactory | undefined> {
  if (o.pretty === "never" || (o.pretty === "auto" && process.stdout.isTTY !== true)) return undefined;
  if (o.pretty === "always") return (await importOptional<{ default: PrettyFactory }>("pino-pretty", 'log.pretty is "always"')).default;
  try {
    return (await importOptional<{ default: PrettyFactory }>("pino-pretty", "Readable logs on this terminal")).default;
  } catch (err) {
    if ((err as { code?: string }).code !== "DEPENDENCY_MISSING") throw err;
    if (o.explainPrettyFallback !== false) {
      process.stderr.write(
        "holdfast: logs are JSON lines: readable terminal logs need the 'pino-pretty' package. Run: npm install pino-pretty (or set log.pretty to \"never\" to keep JSON and silence this note)\n",
      );
    }
    return undefined;
  }
}

/** Creates the process's logger; call once per process. */
export async function createLogger(o: LoggerOptions): Promise<Logger> {
  const streams: pino.StreamEntry[] = [];
  const pretty = await loadPretty(o);
  const wantPretty = pretty !== undefined;
  let raw: { write(line: string): unknown } | undefined;
  if (o.file !== "-") {
    mkdirSync(dirname(o.file), { recursive: true });
    const dest = new LogFile(o.file);
    raw = dest;
    streams.push({ level: o.level as pino.Level, stream: dest });
  }
  if (pretty) {
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

/**
 * Lines are written to the log file once this many bytes are waiting, or every LOG_FLUSH_MS, and at
 * exit (pino flushes its destinations synchronously then). Unbuffered, every line was its own
 * write(2): under a 4x overload a worker logs ~450 `shed` lines a second, and in a CPU profile of
 * bench:overload those writes were a quarter of the worker's main-thread time, taken from the core
 * that serves the admitted requests. The price: a process killed with SIGKILL loses at most its
 * last LOG_FLUSH_MS of lines.
 */
const LOG_BUFFER_BYTES = 4096;
/** Longest a line waits in the buffer before it is written, ms (see LOG_BUFFER_BYTES). */
const LOG_FLUSH_MS = 100;

/** How long a log file that failed (disk full, I/O error) rests before holdfast opens it again. */
const LOG_RETRY_MS = 30_000;

/**
 * The log file, kept from taking the service down: a write error (ENOSPC when the disk is full,
 * EIO, EDQUOT) is said once on standard error, lines are dropped meanwhile, and the file is opened
 * again after LOG_RETRY_MS. Without this, pino's destination emits an unhandled 'error' (the
 * worker's uncaughtException path) and its exit-time flushSync retries the write forever, which
 * froze every holdfast process when the log's filesystem filled up.
 */
class LogFile {
  readonly #file: string;
  #dest: ReturnType<typeof pino.destination>;
  #broken = false;
  #said = false;
  /** Lines dropped while the file could not be written. */
  dropped = 0;

  constructor(file: string) {
    this.#file = file;
    this.#dest = this.#open();
  }

  #open(): ReturnType<typeof pino.destination> {
    // Opened here, synchronously: given a path, the destination opens the file in the background,
    // and a process that exits before that finished (a worker told to stop while it was starting)
    // threw "sonic boom is not ready yet" from pino's exit-time flush and never exited.
    // If it cannot be opened now, the destination tries again itself and reports through 'error'.
    let fd: number | undefined;
    try {
      fd = openSync(this.#file, "a");
    } catch {
      fd = undefined;
    }
    const target = fd === undefined ? { dest: this.#file, append: true, mkdir: true } : { dest: fd };
    const d = pino.destination({ ...target, sync: false, minLength: LOG_BUFFER_BYTES, periodicFlush: LOG_FLUSH_MS });
    d.on("error", (err: NodeJS.ErrnoException) => this.#fail(d, err));
    return d;
  }

  #fail(d: ReturnType<typeof pino.destination>, err: NodeJS.ErrnoException): void {
    // What pino itself does on EPIPE: this destination must never write (or retry at exit) again.
    const noop = () => true;
    Object.assign(d, { write: noop, end: noop, flush: noop, flushSync: noop, destroy: noop });
    if (d !== this.#dest) return;
    this.#broken = true;
    if (!this.#said) {
      this.#said = true;
      const why = err.code === "ENOSPC" ? "no space left on the device" : err.code === "EDQUOT" ? "disk quota exceeded" : err.message;
      process.stderr.write(
        `holdfast (pid ${process.pid}): cannot write the log file ${this.#file}: ${err.code ?? "error"} (${why}). The service keeps running; log lines are dropped until the file can be written (retried every ${LOG_RETRY_MS / 1000} s). Free space on that filesystem (df -h ${dirname(this.#file)}) or point logging.file elsewhere. This message is shown once per process.\n`,
      );
    }
    const retry = setTimeout(() => {
      this.#broken = false;
      this.#dest = this.#open();
    }, LOG_RETRY_MS);
    retry.unref();
  }

  /** Writes one line, or drops it while the file is failing. */
  write(line: string): boolean {
    if (this.#broken) {
      this.dropped++;
      return true;
    }
    return this.#dest.write(line);
  }

  /** Flushes buffered lines (pino's logger.flush()). */
  flush(cb?: (err?: Error) => void): void {
    if (this.#broken) cb?.();
    else this.#dest.flush(cb);
  }

  /** Flushes synchronously (pino at exit). */
  flushSync(): void {
    if (this.#broken) return;
    try {
      this.#dest.flushSync();
    } catch {
      // At exit nothing can be done about a line that cannot be written, and throwing here
      // (inside process.exit) would keep the process alive.
    }
  }
}

/** The file destination a logger writes to, when lines can be written to it directly. */
export function rawDestination(log: Logger): { write(line: string): unknown } | undefined {
  return (log as unknown as Record<symbol, { write(line: string): unknown } | undefined>)[RAW];
}

/** A logger that drops everything (tests, library use without a logger). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
