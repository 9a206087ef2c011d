/** Real nginx (the Debian package) in a temp prefix, as the proxy in front of each stack. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Proxy settings the bench states (and holdfast's timeout budget is told about). */
export const PROXY = { readTimeoutS: 5, connectTimeoutS: 5, keepalive: 512, keepaliveTimeoutS: 60 } as const;

/** nginx.conf for a reverse proxy on `listen` to 127.0.0.1:`upstream`, upstream keep-alive on. */
export function nginxConf(dir: string, listen: number, upstream: number): string {
  return `worker_processes 1;
worker_rlimit_nofile 100000;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 60000; multi_accept on; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  keepalive_timeout 75s;
  keepalive_requests 100000;
  upstream app {
    server 127.0.0.1:${upstream} max_fails=0;
    keepalive ${PROXY.keepalive};
    keepalive_timeout ${PROXY.keepaliveTimeoutS}s;
    keepalive_requests 100000;
  }
  server {
    listen 127.0.0.1:${listen} backlog=4096;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Request-Start "t=\${msec}";
      proxy_read_timeout ${PROXY.readTimeoutS}s;
      proxy_connect_timeout ${PROXY.connectTimeoutS}s;
      proxy_next_upstream off;
    }
  }
}
`;
}

/** A running nginx. */
export interface Nginx {
  stop(): Promise<void>;
  errorLog(): string;
}

/** Starts nginx in the foreground (`-g 'daemon off;'`) with its own prefix `dir`, pinned to `cpu` when given. */
export async function startNginx(dir: string, listen: number, upstream: number, cpu?: string): Promise<Nginx> {
  for (const d of ["tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"]) mkdirSync(join(dir, d), { recursive: true });
  const conf = join(dir, "nginx.conf");
  writeFileSync(conf, nginxConf(dir, listen, upstream));
  const args = ["-p", dir, "-c", conf, "-g", "daemon off; user root;"];
  const child: ChildProcess =
    cpu === undefined
      ? spawn("nginx", args, { stdio: ["ignore", "ignore", "pipe"] })
      : spawn("taskset", ["-c", cpu, "nginx", ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const until = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${stderr}`);
    try {
      const r = await fetch(`http://127.0.0.1:${listen}/__nginx_probe`);
      await r.arrayBuffer();
      break;
    } catch {}
    if (Date.now() > until) throw new Error(`nginx did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    },
    errorLog: () => {
      try {
        return readFileSync(join(dir, "error.log"), "utf8");
      } catch {
        return "";
      }
    },
  };
}
