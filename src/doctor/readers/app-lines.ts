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

/** Lines that continue a trace without being indented (socketserver's handler-error header opens its own event). */
const CONTINUATION =
  /^(?!Exception occurred during processing of request)(?:Traceback \(most recent call last\):|Caused by: |Suppressed: |During handling of the above exception|The above exception was the direct cause|\.\.\. \d+ (?:more|common frames omitted)|(?:[A-Za-z_][\w.$]*)?(?:Error|Exception|Exit|Interrupt|Timeout|Warning|Throwable)\b|[A-Z]\w*(?:::[A-Z]\w*)+|[\^~ ]+$|.*\.rb:\d+:in [`']|\d+: 0x[0-9a-f]+ |Aborted(?: \(core dumped\))?$)/;

/**
 * Lines that only decorate a dump and say nothing of their own: Python socketserver's dashes
 * around each handler error, V8's banners and GC trace lines before a heap-exhaustion abort. They
 * neither start nor end an event (like empty lines), so they are not reported as unreadable.
 */
const DECORATION = /^(?:-{20,}|<--- [A-Za-z ]+ --->|-{3,} [A-Za-z ]+ -{3,}|\s*\S?\[\d+:0x[0-9a-f]+\]\s+[\d.]+ ms: .*)$/;

/** True when a line is a banner or separator of a dump (see {@link DECORATION}). */
export function decorates(line: string): boolean {
  return DECORATION.test(line);
}

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

  /** One line (without its newline); empty lines and decorations neither start nor end an event. */
  push(line: string, lineNo: number): void {
    if (line.length === 0 || DECORATION.test(line)) return;
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
