/**
 * Checks what `holdfast proxy-config` writes into a proxy config before it is written: every
 * value lands inside nginx or HAProxy syntax, where a ";" or "{" in a server name or a port of
 * 99999 would either break the proxy's start-up or inject directives of the caller's choosing.
 */
import { isIP } from "node:net";

/** One `--upstream` value: `host:port`, optionally `,admin=<port>` when its admin endpoint is not on the default port. */
export interface Upstream {
  /** host:port of the instance's app listener. */
  address: string;
  /** Its admin port (health checks on /readyz), when given with `,admin=`. */
  adminPort: number | undefined;
}

/** Splits `host:port[,admin=port]`; validity is {@link proxyOptionProblems}' job. */
export function parseUpstream(spec: string): Upstream {
  const comma = spec.indexOf(",");
  if (comma < 0) return { address: spec, adminPort: undefined };
  const m = /^admin=(\d{1,5})$/.exec(spec.slice(comma + 1));
  return { address: spec.slice(0, comma), adminPort: m ? Number(m[1]) : Number.NaN };
}

const validPort = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535;

/** Problems with the generator's inputs, each naming the value and what is allowed; empty when all is well. */
export function proxyOptionProblems(o: { upstreams: readonly string[]; listen: number; serverName: string; adminPort?: number | undefined }): string[] {
  const problems: string[] = [];
  for (const u of o.upstreams) {
    const { address, adminPort } = parseUpstream(u);
    const p = upstreamProblem(address);
    if (p) problems.push(`--upstream ${JSON.stringify(u)}: ${p}`);
    else if (adminPort !== undefined && !validPort(adminPort)) {
      problems.push(
        `--upstream ${JSON.stringify(u)}: after the comma, expected admin=<port> with a port from 1 to 65535, such as "127.0.0.1:3001,admin=9465".`,
      );
    }
  }
  if (o.adminPort !== undefined && !validPort(o.adminPort))
    problems.push(`--admin-port ${JSON.stringify(String(o.adminPort))}: expected a port number from 1 to 65535.`);
  if (!Number.isInteger(o.listen) || o.listen < 1 || o.listen > 65535) {
    problems.push(`--listen ${JSON.stringify(String(o.listen))}: expected a port number from 1 to 65535.`);
  }
  const names = o.serverName.trim().split(/ +/);
  if (o.serverName.trim() === "" || !names.every(isServerName)) {
    problems.push(
      `--server-name ${JSON.stringify(o.serverName)}: expected host names separated by spaces (letters, digits, "-" and ".", a leading "*." or "." wildcard, or "_" for any name). Characters such as ";", "{", quotes or "$" would end the directive and change the proxy's configuration.`,
    );
  }
  return problems;
}

/** A host name, an nginx wildcard name (*.example.com, .example.com) or "_". */
function isServerName(name: string): boolean {
  if (name === "_") return true;
  const bare = name.startsWith("*.") ? name.slice(2) : name.startsWith(".") ? name.slice(1) : name;
  return isHostName(bare) || isIP(bare) === 4;
}

function isHostName(host: string): boolean {
  if (host.length === 0 || host.length > 253) return false;
  const labels = host.split(".");
  if (labels.every((l) => /^\d+$/.test(l))) return false; // all digits: a mistyped IPv4 address, not a name
  return labels.every((l) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l));
}

/** Why `hostPort` is not "host:port" (a name, an IPv4 address or a [bracketed] IPv6 address, and a port 1–65535). */
function upstreamProblem(hostPort: string): string | undefined {
  const m = /^(\[[^\]]*\]|[^:[\]]*):([^:]*)$/.exec(hostPort);
  if (!m) return 'expected host:port, such as "127.0.0.1:3000", "app-1.internal:3000" or "[::1]:3000".';
  const host = m[1] as string;
  const port = m[2] as string;
  const hostOk = host.startsWith("[") ? isIP(host.slice(1, -1)) === 6 : isIP(host) === 4 || isHostName(host);
  if (!hostOk) return `${JSON.stringify(host)} is not a host name, an IPv4 address or a [bracketed] IPv6 address.`;
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) return `port ${JSON.stringify(port)} is not a port number from 1 to 65535.`;
  return undefined;
}
