/**
 * Reads a proxy config file for the doctor with a cap on what it holds: a real nginx -T dump or
 * haproxy.cfg is well under a megabyte, and a wrong path (a log, a disk image, a directory) must
 * give a message, not an out-of-memory crash or a stack trace.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { errors } from "../../errors/index.js";

/** Most bytes of proxy config the doctor reads: 16 × the largest `nginx -T` output seen in practice. */
export const MAX_PROXY_CONFIG_BYTES = 16 * 1024 * 1024;

/** The text of the config at `path`; throws USAGE naming `flag` when it is a directory, unreadable or over the cap. */
export function readProxyConfigFile(path: string, flag: string, maxBytes = MAX_PROXY_CONFIG_BYTES): string {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    throw errors.usage(
      `${flag} ${path}: cannot open it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Give the proxy's config file, e.g. the output of \`nginx -T\` saved to a file.`,
      { cause: err },
    );
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) {
      throw errors.usage(
        `${flag} ${path} is a directory. Give one file: for nginx, \`nginx -T > nginx-full.conf\` writes every included file into one; for HAProxy, haproxy.cfg.`,
      );
    }
    if (st.isFile() && st.size > maxBytes) throw tooBig(flag, path, `${st.size} bytes`, maxBytes);
    // Read in chunks up to the cap, so a pipe or device (no size in stat) is capped too.
    const chunks: Buffer[] = [];
    let total = 0;
    const buf = Buffer.allocUnsafe(1024 * 1024);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) throw tooBig(flag, path, `more than ${maxBytes} bytes`, maxBytes);
      chunks.push(Buffer.from(buf.subarray(0, n)));
    }
    return Buffer.concat(chunks).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

function tooBig(flag: string, path: string, size: string, maxBytes: number) {
  return errors.usage(
    `${flag} ${path} is ${size}; a proxy config is far smaller (the doctor reads at most ${maxBytes / 1024 / 1024} MB). Check that the path names the config, not a log or a dump.`,
  );
}
