/** `holdfast proxy-config nginx|haproxy`: a proxy config whose timeouts agree with holdfast's. */
import { writeFileSync, existsSync } from "node:fs";
import {
  checkTimeoutBudget,
  haproxyConfig,
  layersFromConfig,
  loadConfig,
  matchedProxyTimeouts,
  nginxConfig,
  proxyOptionProblems,
} from "../../config/index.js";
import { errors } from "../../errors/index.js";
import type { Command } from "../command.js";
import { parseFlags, str, strs } from "../parse-args.js";

const command: Command = {
  summary: "Write an nginx or HAProxy config whose timeouts agree with holdfast's (no keep-alive race, no proxy 504 first).",
  usage: `Usage: holdfast proxy-config <nginx|haproxy> [options]

Prints (or writes) a reverse-proxy config matched to the holdfast config in this directory:
upstream keep-alive closing before holdfast's, read timeout above holdfast's deadline,
retries only before a request reached an instance, X-Request-Id passed through, and an
access-log format holdfast doctor reads.

Options:
  --upstream <host:port>  a holdfast instance (repeat for several; default: host:port from the config)
  --listen <port>         port the proxy listens on (default 80)
  --server-name <name>    nginx server_name (default _)
  -c, --config <file>     holdfast config file
  -o, --out <file>        write to this file instead of standard output (refuses to overwrite without --force)
  --force                 overwrite --out`,
  async run(argv) {
    const { values, positionals } = parseFlags("proxy-config", argv, {
      upstream: { type: "string", multiple: true },
      listen: { type: "string" },
      "server-name": { type: "string" },
      config: { type: "string", short: "c" },
      out: { type: "string", short: "o" },
      force: { type: "boolean" },
    });
    const kind = positionals[0];
    if (kind !== "nginx" && kind !== "haproxy") throw errors.usage(`Say which proxy: \`holdfast proxy-config nginx\` or \`holdfast proxy-config haproxy\` (got ${JSON.stringify(kind ?? "")}).`);
    const { config } = await loadConfig({ configFile: str(values.config) });
    const listenFlag = str(values.listen);
    const listen = listenFlag === undefined ? 80 : /^\d+$/.test(listenFlag) ? Number(listenFlag) : Number.NaN;
    const upstreams = strs(values.upstream);
    const host = config.host.includes(":") ? `[${config.host}]` : config.host;
    const opts = { upstreams: upstreams.length ? upstreams : [`${host}:${config.port}`], listen, serverName: str(values["server-name"]) ?? "_" };
    const problems = proxyOptionProblems(opts);
    if (problems.length) {
      throw errors.usage(`Nothing was written; these values would break the proxy config or inject into it:\n  - ${problems.join("\n  - ")}\nSee \`holdfast proxy-config --help\`.`);
    }
    const text = kind === "nginx" ? nginxConfig(config, opts) : haproxyConfig(config, opts);
    // The generated proxy timeouts must pass the same budget holdfast checks at start-up.
    const t = matchedProxyTimeouts(config);
    const violations = checkTimeoutBudget({ ...layersFromConfig(config), proxyIdleTimeout: t.idleS * 1000, proxyReadTimeout: t.readS * 1000 }).filter((v) => v.severity === "error");
    for (const v of violations) process.stderr.write(`warning: ${v.message}\n  fix: ${v.fix}\n`);
    const out = str(values.out);
    if (out) {
      if (existsSync(out) && !values.force) throw errors.usage(`${out} exists; pass --force to overwrite it (keep a copy first).`);
      writeFileSync(out, text);
      process.stderr.write(`wrote ${out}\n`);
    } else process.stdout.write(text);
    return 0;
  },
};
export default command;
