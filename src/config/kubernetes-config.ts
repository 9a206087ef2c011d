/**
 * A Kubernetes Deployment + Service + Ingress (ingress-nginx) for holdfast whose probes, grace
 * period, preStop delay and proxy timeouts agree with the holdfast config: the pod leaves the
 * Service before it stops accepting, in-flight requests get timeouts.graceful to finish before
 * the kubelet's SIGKILL, and ingress-nginx waits longer than holdfast's deadline.
 */
import { createRequire } from "node:module";
import { errors } from "../errors/index.js";
import { formatDuration } from "./duration.js";
import { matchedProxyTimeouts } from "./proxy-config.js";
import type { Config } from "./schema.js";

// yaml is loaded when a manifest is written, not with config/: every holdfast process (each worker,
// each CLI command) imports config/, and only `proxy-config kubernetes` writes YAML (20 ms of a
// worker's start-up CPU went to loading it).
const requireYaml = createRequire(import.meta.url);

/** Options of the Kubernetes generator. */
export interface KubernetesOptions {
  /** Name of the Deployment, Service, Ingress and their `app` label. */
  name: string;
  /** Container image running `holdfast serve`. */
  image: string;
  /** Pods in the Deployment. */
  replicas: number;
  /** Host the Ingress answers for; undefined answers every host. */
  host: string | undefined;
}

/** Seconds the pod keeps serving after deletion starts, while endpoint removal reaches every ingress controller and kube-proxy. */
export const PRE_STOP_DELAY_S = 10;

const sec = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** The grace period that lets preStop and holdfast's graceful drain both finish before SIGKILL. */
export function terminationGraceSeconds(c: Config): number {
  return PRE_STOP_DELAY_S + sec(c.timeouts.graceful) + 5;
}

/** Problems with the options (empty when all is well), each naming the flag and the rule. */
export function kubernetesOptionProblems(o: KubernetesOptions): string[] {
  const problems: string[] = [];
  // DNS-1035 label: what a Service name must be.
  if (!/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(o.name))
    problems.push(
      `--name ${JSON.stringify(o.name)}: expected lower-case letters, digits and "-", starting with a letter, at most 63 characters (a Kubernetes Service name).`,
    );
  if (o.image.trim() === "" || /\s/.test(o.image))
    problems.push(`--image ${JSON.stringify(o.image)}: expected a container image reference such as "registry.example.com/app:1.4.2".`);
  if (!Number.isInteger(o.replicas) || o.replicas < 1 || o.replicas > 1000)
    problems.push(`--replicas ${JSON.stringify(String(o.replicas))}: expected a whole number from 1 to 1000.`);
  return problems;
}

/** The three manifests as one multi-document YAML file. */
export function kubernetesConfig(c: Config, o: KubernetesOptions): string {
  const problems = kubernetesOptionProblems(o);
  if (problems.length) throw errors.configInvalid(`Refusing to generate Kubernetes manifests:\n  - ${problems.join("\n  - ")}`);
  const t = matchedProxyTimeouts(c);
  const labels = { app: o.name };
  const appPort = c.port || 3000;
  const adminPort = c.admin.port || 9464;
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: "admin" },
    periodSeconds,
    timeoutSeconds: 2,
    failureThreshold,
  });
  const deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: o.name, labels },
    spec: {
      replicas: o.replicas,
      selector: { matchLabels: labels },
      // A new pod is ready before an old one goes: capacity never drops during a rollout.
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: terminationGraceSeconds(c),
          containers: [
            {
              name: "app",
              image: o.image,
              ports: [
                { name: "http", containerPort: appPort },
                { name: "admin", containerPort: adminPort },
              ],
              env: [
                // Probes come from the kubelet on the pod IP, so both listeners bind every interface;
                // an admin endpoint off loopback needs a token (holdfast refuses to start without one).
                { name: "HOLDFAST_HOST", value: "0.0.0.0" },
                { name: "HOLDFAST_PORT", value: String(appPort) },
                { name: "HOLDFAST_ADMIN_HOST", value: "0.0.0.0" },
                { name: "HOLDFAST_ADMIN_PORT", value: String(adminPort) },
                { name: "HOLDFAST_ADMIN_TOKEN", valueFrom: { secretKeyRef: { name: `${o.name}-admin`, key: "token" } } },
              ],
              // /readyz turns 503 while holdfast is not ready or drains: the pod leaves the Service, no restart.
              readinessProbe: probe("/readyz", 2, 2),
              // /healthz fails only when the supervisor cannot answer at all: then a restart is right.
              livenessProbe: probe("/healthz", 10, 3),
              // Start-up (migrations, first connections) may take a while on a busy node without a liveness kill.
              startupProbe: probe("/healthz", 2, 30),
              lifecycle: { preStop: { exec: { command: ["sleep", String(PRE_STOP_DELAY_S)] } } },
            },
          ],
        },
      },
    },
  };
  const service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: o.name, labels },
    spec: { selector: labels, ports: [{ name: "http", port: 80, targetPort: "http" }] },
  };
  const ingress = {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: {
      name: o.name,
      labels,
      annotations: {
        "nginx.ingress.kubernetes.io/proxy-connect-timeout": String(t.connectS),
        "nginx.ingress.kubernetes.io/proxy-read-timeout": String(t.readS),
        "nginx.ingress.kubernetes.io/proxy-send-timeout": String(t.readS),
        "nginx.ingress.kubernetes.io/proxy-next-upstream": "error timeout http_502",
        "nginx.ingress.kubernetes.io/proxy-next-upstream-tries": "3",
        "nginx.ingress.kubernetes.io/proxy-next-upstream-timeout": String(t.connectS),
      },
    },
    spec: {
      ingressClassName: "nginx",
      rules: [
        {
          ...(o.host ? { host: o.host } : {}),
          http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: o.name, port: { name: "http" } } } }] },
        },
      ],
    },
  };
  const header = `# Generated by \`holdfast proxy-config kubernetes\` for a holdfast deadline of ${formatDuration(c.timeouts.deadline)}, graceful drain of ${formatDuration(c.timeouts.graceful)} and keep-alive of ${formatDuration(c.timeouts.keepAlive)}.
# - terminationGracePeriodSeconds ${terminationGraceSeconds(c)} = preStop ${PRE_STOP_DELAY_S}s + timeouts.graceful ${sec(c.timeouts.graceful)}s + 5s margin.
# - ingress-nginx proxy-read-timeout ${t.readS}s > timeouts.deadline ${sec(c.timeouts.deadline)}s: holdfast answers first, with a body.
# - ingress-nginx keeps upstream connections alive through its ConfigMap, not an annotation: set
#   upstream-keepalive-timeout to ${t.idleS} (below holdfast's keep-alive of ${sec(c.timeouts.keepAlive)}s).
# - Create the admin token first: kubectl create secret generic ${o.name}-admin --from-literal=token=$(openssl rand -hex 24)
`;
  const { stringify } = requireYaml("yaml") as typeof import("yaml");
  return header + [deployment, service, ingress].map((d) => `---\n${stringify(d, { aliasDuplicateObjects: false })}`).join("");
}
