/**
 * The I/O edge: streams one log file (plain or gzip, detected by its magic bytes) through the
 * line splitter, with a progress bar on stderr when stderr is a TTY.
 */
import { closeSync, createReadStream, openSync, readSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { basename } from "node:path";
import { createGunzip } from "node:zlib";
import { type LineHandler, LineSplitter } from "./line-splitter.js";

/** Options of {@link scanFile}. */
export interface ScanOptions {
  /** Called with bytes read so far (compressed bytes for .gz) and the file size. */
  onProgress?: ((done: number, total: number) => void) | undefined;
  /** How lines are decoded; see {@link LineSplitter}. Default utf8. */
  encoding?: "utf8" | "latin1" | undefined;
}

/** True when the file starts with the gzip magic bytes. */
export function isGzip(file: string): boolean {
  const fd = openSync(file, "r");
  try {
    const b = Buffer.alloc(2);
    return readSync(fd, b, 0, 2, 0) === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

const CHUNK = 1024 * 1024;

/** Streams every line of `file` to `onLine`; resolves with bytes and lines read. */
export async function scanFile(file: string, onLine: LineHandler, opts: ScanOptions = {}): Promise<{ bytes: number; lines: number }> {
  const total = statSync(file).size;
  const splitter = new LineSplitter(onLine, opts.encoding);
  let bytes = 0;
  let lastTick = 0;
  const tick = (done: number) => {
    if (!opts.onProgress) return;
    const now = Date.now();
    if (now - lastTick > 200) {
      lastTick = now;
      opts.onProgress(done, total);
    }
  };
  if (isGzip(file)) {
    const raw = createReadStream(file, { highWaterMark: CHUNK });
    for await (const chunk of raw.pipe(createGunzip({ chunkSize: 256 * 1024 })) as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      splitter.push(chunk);
      tick(raw.bytesRead);
    }
  } else {
    // One reused buffer: the splitter consumes each chunk synchronously, and fresh 1 MB buffers per
    // read were a fifth of the scan's time in garbage collection.
    const fh = await open(file, "r");
    try {
      const buf = Buffer.allocUnsafe(CHUNK);
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
        if (bytesRead === 0) break;
        bytes += bytesRead;
        splitter.push(bytesRead === CHUNK ? buf : buf.subarray(0, bytesRead));
        tick(bytes);
      }
    } finally {
      await fh.close();
    }
  }
  splitter.end();
  opts.onProgress?.(total, total);
  return { bytes, lines: splitter.lines };
}

/** Files smaller than this are read too fast for a progress bar to help. */
const PROGRESS_MIN_BYTES = 64 * 1024 * 1024;

/** A one-line progress bar on stderr for a long scan; undefined unless stderr is a TTY and the file is big. */
export function progressBar(
  file: string,
  isTTY = process.stderr.isTTY,
  write: (s: string) => unknown = (s) => process.stderr.write(s),
): ((done: number, total: number) => void) | undefined {
  if (!isTTY) return undefined;
  let size = 0;
  try {
    size = statSync(file).size;
  } catch {
    return undefined;
  }
  if (size < PROGRESS_MIN_BYTES) return undefined;
  const label = basename(file).slice(-30).padEnd(30);
  const started = Date.now();
  let finished = false;
  return (done, total) => {
    if (finished) return;
    const frac = total > 0 ? Math.min(1, done / total) : 1;
    const width = 30;
    const filled = Math.round(frac * width);
    const mbs = done / 1e6 / Math.max(0.001, (Date.now() - started) / 1000);
    write(`\r${label} [${"#".repeat(filled)}${" ".repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ${mbs.toFixed(0)} MB/s`);
    if (frac >= 1) {
      finished = true;
      write("\n");
    }
  };
}
