/**
 * Groups the lines of an app log into events: a Python traceback, a Java stack trace with its
 * "Caused by" chain, a Node stack or a Rails backtrace belongs to the line that logged it, so the
 * event keeps that line's time and gains the exception. A line starts a new event when it is JSON
 * or carries a time near its start; indented lines and exception lines continue the open one.
 */

/** Most lines kept per event; a longer trace is counted but not kept whole. */
const MAX_LINES = 200;

/** A time near the start of a line (ISO, "2026-11-24 14:02:05,120", CLF, uWSGI ctime, Rails "E, ["). */
const HEAD_TIME =
  /^.{0,40}?(?:\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d|\[\d\d\/[A-Z][a-z]{2}\/\d{4}[: ]\d\d:\d\d:\d\d|\[?(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d \d{4}|^[DIWEF], \[\d{4}-)/;

/** Lines that continue a trace without being indented. */
const CONTINUATION =
  /^(?:Traceback \(most recent call last\):|Caused by: |Suppressed: |During handling of the above exception|The above exception was the direct cause|\.\.\. \d+ (?:more|common frames omitted)|(?:[A-Za-z_][\w.$]*)?(?:Error|Exception|Exit|Interrupt|Timeout|Warning|Throwable)\b|[A-Z]\w*(?:::[A-Z]\w*)+|[\^~ ]+$|.*\.rb:\d+:in [`'])/;

/** True when a line opens a new event (JSON, or a time near its start). */
export function startsEvent(line: string): boolean {
  const c = line.charCodeAt(0);
  if (c === 123) return true;
  return HEAD_TIME.test(line);
}

/** True when a line continues the event above it (indented, or an exception / "Caused by" line). */
export function continues(line: string): boolean {
  const c = line.charCodeAt(0);
  if (c === 32 || c === 9) return !startsEvent(line.trimStart());
  return !startsEvent(line) && CONTINUATION.test(line);
}

/** Feeds lines in file order; calls `emit` with each event's text (lines joined by "\n"), its first line number and its line count. */
export class AppLineGrouper {
  private lines: string[] = [];
  private first = 0;
  private count = 0;

  constructor(private readonly emit: (text: string, lineNo: number, lines: number) => void) {}

  /** One line (without its newline); empty lines neither start nor end an event. */
  push(line: string, lineNo: number): void {
    if (line.length === 0) return;
    if (this.count > 0 && continues(line)) {
      this.count++;
      if (this.lines.length < MAX_LINES) this.lines.push(line);
      return;
    }
    this.flush();
    this.lines.push(line);
    this.first = lineNo;
    this.count = 1;
  }

  /** Emits the open event, if any; call at the end of the file. */
  flush(): void {
    if (this.count === 0) return;
    const text = this.lines.length === 1 ? (this.lines[0] as string) : this.lines.join("\n");
    const { first, count } = this;
    this.lines = [];
    this.count = 0;
    this.emit(text, first, count);
  }
}
