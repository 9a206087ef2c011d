/**
 * Progress of a running load test on stderr: on a terminal one line redrawn in place (\r) with a
 * bar; otherwise (a pipe, a CI log) one plain line a second, which logs keep readable.
 */
import type { Progress } from "./types.js";

/** Where progress goes: a stream and whether it is a terminal. */
export interface ProgressSink {
  write(text: string): unknown;
  isTTY?: boolean | undefined;
}

const BAR = 20;

/** One progress reading as text (no line ending). */
export function progressText(p: Progress, bar: boolean): string {
  const secs = `${Math.floor(p.elapsedMs / 1000)}/${Math.round(p.totalMs / 1000)} s`;
  const counts = `sent ${p.sent}, answered ${p.completed}, in flight ${p.inflight}, failed ${p.failed}`;
  if (!bar) return `  ${secs}: ${counts}`;
  const done = Math.max(0, Math.min(BAR, Math.round((p.elapsedMs / Math.max(1, p.totalMs)) * BAR)));
  return `  [${"#".repeat(done)}${".".repeat(BAR - done)}] ${secs}  ${counts}`;
}

/** Writes progress to `sink`: in place on a TTY, a line at a time otherwise. */
export class ProgressLine {
  readonly #sink: ProgressSink;
  readonly #tty: boolean;
  #drawn = false;

  constructor(sink: ProgressSink) {
    this.#sink = sink;
    this.#tty = sink.isTTY === true;
  }

  /** Shows one reading. */
  update(p: Progress): void {
    if (this.#tty) {
      // \r then erase-to-end-of-line: a shorter line must not leave the tail of a longer one.
      this.#sink.write(`\r${progressText(p, true)}\x1b[K`);
      this.#drawn = true;
    } else this.#sink.write(`${progressText(p, false)}\n`);
  }

  /** Clears the in-place line so the summary starts on a clean line. */
  done(): void {
    if (this.#drawn) this.#sink.write("\r\x1b[K");
    this.#drawn = false;
  }
}
