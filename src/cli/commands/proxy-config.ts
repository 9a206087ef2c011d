/** `holdfast proxy-config nginx|haproxy|kubernetes`: a proxy config whose timeouts agree with holdfast's. */
import { writeFileSync, existsSync } from "node:fs";
import {
  checkTimeoutBudget,
  haproxyConfig,
  kubernetesConfig,
  kubernetesOptionProblems,
  layersFromConfig,
  loadConfig,
  matchedProxyTimeouts,
  nginxConfig,
  proxyOptionProblems,
} from "../../config/index.js";
import { errors } from "../../errors/index.js";
import type { Command } from "../command.js";
import { EXIT } from "../exit-codes.js";
import { str, strs } from "../parse-args.js";

const command: Command = {
  arguments: "<nginx|haproxy|kubernetes> [options]",
  description: `Prints (or writes) a reverse-proxy config matched to the holdfast config in this directory:
upstream keep-alive closing before holdfast's, read timeout above holdfast's deadline,
passive health checks, retries to the next instance only for idempotent methods and only
before a response started, X-Request-Id passed through, and an access-log format holdfast
doctor reads. \`kubernetes\` writes a Deployment + Service + Ingress (ingress-nginx) whose
probes, grace period, preStop delay and proxy timeouts agree with the config.`,
  options: [
    {
      flag: "--upstream <host:port[,admin=port]>",
      multiple: true,
      description: "a holdfast instance, with its admin port when it differs (repeat for several; default: host:port from the config)",
    },
    { flag: "--admin-port <port>", description: 'admin port of upstreams without ",admin=" (default: admin.port, 9464)' },
    { flag: "--listen <port>", description: "port the proxy listens on (default 80)" },
    { flag: "--server-name <name>", description: "nginx server_name, and the Ingress host (default _: any)" },
    { flag: "--image <ref>", description: "kubernetes: the container image (required)" },
    { flag: "--replicas <n>", description: "kubernetes: pods (default 3)" },
    { flag: "--name <name>", description: "kubernetes: name of the Deployment, Service and Ingress (default holdfast)" },
    { flag: "--config <file>", description: "holdfast config file" },
    { flag: "--out <file>", description: "write to this file instead of standard output (refuses to overwrite without --force)" },
    { flag: "--force", description: "overwrite --out" },
  ],
  async run({ values, positionals }) {
    const kind = positionals[0];
    if (kind !== "nginx" && kind !== "haproxy" && kind !== "kubernetes") {
      throw errors.usage(
        `Say which proxy: \`holdfast proxy-config nginx\`, \`holdfast proxy-config haproxy\` or \`holdfast proxy-config kubernetes\` (got ${JSON.stringify(kind ?? "")}).`,
      );
    }
    const { config } = await loadConfig({ configFile: str(values.config) });
    const listenFlag = str(values.listen);
    const listen = listenFlag === undefined ? 80 : /^\d+$/.test(listenFlag) ? Number(listenFlag) : Number.NaN;
    const upstreams = strs(values.upstream);
    const host = config.host.includes(":") ? `[${config.host}]` : config.host;
    const asInt = (v: string | undefined) => (v === undefined ? undefined : /^\d+$/.test(v) ? Number(v) : Number.NaN);
    const adminPortFlag = str(values["admin-port"]);
    const adminPort = asInt(adminPortFlag);
    const opts = { upstreams: upstreams.length ? upstreams : [`${host}:${config.port}`], listen, serverName: str(values["server-name"]) ?? "_", adminPort };
    const problems = proxyOptionProblems({ ...opts, adminPort: Number.isNaN(adminPort) ? undefined : adminPort });
    if (Number.isNaN(adminPort)) problems.push(`--admin-port ${JSON.stringify(adminPortFlag)}: expected a port number from 1 to 65535.`);
    const k8s = {
      name: str(values.name) ?? "holdfast",
      image: str(values.image) ?? "",
      replicas: asInt(str(values.replicas)) ?? 3,
      host: opts.serverName === "_" ? undefined : opts.serverName.split(" ")[0],
    };
    if (kind === "kubernetes") {
      if (values.image === undefined)
        problems.push("--image is required for kubernetes: the container image that runs `holdfast serve`, such as registry.example.com/app:1.4.2.");
      else
        problems.push(
          ...kubernetesOptionProblems(k8s).map((m) =>
            m.startsWith("--replicas") ? `--replicas ${JSON.stringify(str(values.replicas))}: expected a whole number from 1 to 1000.` : m,
          ),
        );
      if (k8s.host?.startsWith(".")) problems.push(`--server-name ${JSON.stringify(k8s.host)}: an Ingress host cannot start with "."; use "*.example.com".`);
    }
    if (problems.length) {
      throw errors.usage(
        `Nothing was written; these values would break the proxy config or inject into it:\n  - ${problems.join("\n  - ")}\nSee \`holdfast proxy-config --help\`.`,
      );
    }
    const text = kind === "nginx" ? nginxConfig(config, opts) : kind === "haproxy" ? haproxyConfig(config, opts) : kubernetesConfig(config, k8s);
    // The generated proxy timeouts must pass the same budget holdfast checks at start-up.
    const t = matchedProxyTimeouts(config);
    const violations = checkTimeoutBudget({ ...layersFromConfig(config), proxyIdleTimeout: t.idleS * 1000, proxyReadTimeout: t.readS * 1000 }).filter(
      (v) => v.severity === "error",
    );
    for (const v of violations) process.stderr.write(`warning: ${v.message}\n  fix: ${v.fix}\n`);
    const out = str(values.out);
    if (out) {
      if (existsSync(out) && !values.force) throw errors.usage(`${out} exists; pass --force to overwrite it (keep a copy first).`);
      writeFileSync(out, text);
      process.stderr.write(`wrote ${out}\n`);
    } else process.stdout.write(text);
    return EXIT.OK;
  },
};
export default command;
