/** Builds a dataset from in-memory lines, as collectLogs would from files (rule tests, embedding). */
import { collectLines, emptyDataset, sortDataset } from "./collect.js";
import { UPSTREAM_TIMING_FORMAT } from "./recorded-lines.js";
import type { Dataset, ProbeResults, ProxyConfigFacts } from "./types.js";
import type { TimeoutLayers } from "../config/index.js";

/** Lines per log kind, plus optional probes, proxy config facts and timeouts. */
export interface LinesInput {
  access?: string[];
  /** Default: UPSTREAM_TIMING_FORMAT. */
  accessFormat?: string;
  error?: string[];
  haproxy?: string[];
  alb?: string[];
  app?: string[];
  probes?: Partial<ProbeResults>;
  proxyConfig?: ProxyConfigFacts;
  timeouts?: TimeoutLayers;
}

/** A sorted dataset holding the given lines. */
export function datasetFromLines(i: LinesInput): Dataset {
  const d = emptyDataset();
  if (i.access) collectLines(d, "nginx-access", i.access, "access.log", { nginxLogFormat: i.accessFormat ?? UPSTREAM_TIMING_FORMAT });
  if (i.error) collectLines(d, "nginx-error", i.error, "error.log");
  if (i.haproxy) collectLines(d, "haproxy", i.haproxy, "haproxy.log");
  if (i.alb) collectLines(d, "alb", i.alb, "alb.log");
  if (i.app) collectLines(d, "app", i.app, "app.log");
  d.probes = { errors: [], ...i.probes };
  d.proxyConfig = i.proxyConfig;
  d.timeouts = i.timeouts;
  return sortDataset(d);
}
