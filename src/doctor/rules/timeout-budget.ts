/**
 * The timeout budget across proxy, app, pool and database, via the config part's
 * checkTimeoutBudget with the proxy's values read from its config. A violation that matches
 * failures seen in the logs says how many it explains.
 */
import { checkTimeoutBudget } from "../../config/index.js";
import type { Correlation, Dataset, Finding, Rule } from "../types.js";

export const timeoutBudget: Rule = {
  id: "timeout-budget",
  summary: "Timeouts of proxy, app, pool and database that do not nest (checkTimeoutBudget).",
  run(data: Dataset, corr: Correlation): Finding[] {
    if (!data.timeouts) return [];
    const readTimeouts = corr.kinds.filter((k) => k === "read-timeout").length;
    const source = data.proxyConfig ? `${data.proxyConfig.kind} config ${data.proxyConfig.file}` : "holdfast config (proxy values as declared in proxy.*)";
    return checkTimeoutBudget(data.timeouts).map((v) => {
      // The race and the read timeout are counted by their own rules; here the budget is the root cause note.
      const linked = v.id === "deadline-not-below-proxy-read" ? readTimeouts : 0;
      return {
        id: `timeout-budget/${v.id}`,
        title: `Timeout budget: ${v.id.replace(/-/g, " ")}`,
        severity: v.severity === "error" ? "warning" : "info",
        confidence: data.proxyConfig ? 0.9 : 0.6,
        explains: 0,
        evidence: {
          summary: `${v.message} (from ${source})${linked ? ` ${linked} proxy read timeouts were seen in the logs.` : ""}`,
          counts: { related: linked },
          samples: [],
        },
        fix: { summary: "Make the layers nest: proxy idle < app keep-alive; pool/db waits ≤ deadline < proxy read timeout.", holdfast: v.fix },
      } satisfies Finding;
    });
  },
};
