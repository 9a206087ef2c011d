/**
 * Failures no cause explained, and how well the logs could be read. Runs after the other rules
 * (it reads their findings), so it is not in the ordinary rule list.
 */
import type { Dataset, Finding } from "../types.js";

/** Info findings: failures left unexplained, and unreadable lines per file. */
export function leftovers(data: Dataset, findings: Finding[]): Finding[] {
  const out: Finding[] = [];
  const explained = findings.reduce((n, f) => n + f.explains, 0);
  const rest = data.failedTotal - explained;
  if (data.failedTotal > 0 && rest > 0) {
    const byStatus = Object.entries(data.statusCounts)
      .filter(([s]) => Number(s) >= 500)
      .map(([s, n]) => `${n} × ${s}`)
      .join(", ");
    out.push({
      id: "unexplained-failures",
      title: "Failed requests with no cause found",
      severity: "info",
      confidence: 1,
      explains: 0,
      evidence: {
        summary: `${rest} of ${data.failedTotal} failed requests (${byStatus}) matched no cause. Give the doctor the logs of the other layers (--nginx-error-log, --app-log) so it can join them.`,
        counts: { unexplained: rest, failed: data.failedTotal },
        samples: [],
      },
      fix: { summary: "Add $upstream_status, $upstream_response_time, $request_time and $request_id to the access log format, pass $request_id to the app as X-Request-Id.", nginx: "log_format holdfast '$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent \"$http_referer\" \"$http_user_agent\" rt=$request_time uct=$upstream_connect_time urt=$upstream_response_time us=$upstream_status rid=$request_id';\naccess_log /var/log/nginx/access.log holdfast;\nproxy_set_header X-Request-Id $request_id;" },
    });
  }
  for (const f of data.files) {
    if (f.garbage === 0) continue;
    out.push({
      id: "unreadable-lines",
      title: `Lines the ${f.kind} reader did not recognise in ${f.file}`,
      severity: "info",
      confidence: 1,
      explains: 0,
      evidence: {
        summary: `${f.garbage} of ${f.lines} lines were not ${f.kind} lines and were skipped${f.kind === "nginx-access" ? " (wrong --nginx-log-format?)" : ""}.`,
        counts: { garbage: f.garbage, lines: f.lines },
        samples: f.garbageSamples,
      },
      fix: { summary: f.kind === "nginx-access" ? "Pass the log_format with --nginx-log-format or --nginx-config." : "Nothing to do if these are unrelated lines." },
    });
  }
  if (data.errorLogShiftMs) {
    const h = data.errorLogShiftMs / 3_600_000;
    out.push({
      id: "error-log-clock",
      title: "nginx error log written in another time zone",
      severity: "info",
      confidence: 0.9,
      explains: 0,
      evidence: { summary: `The nginx error log's times were ${h > 0 ? "behind" : "ahead of"} the access log by ${Math.abs(h)} h (nginx writes it in the server's local time); they were shifted to match before joining.`, counts: { shiftMinutes: data.errorLogShiftMs / 60_000 }, samples: [] },
      fix: { summary: "Run the doctor with the server's zone (TZ=Europe/Berlin holdfast doctor …) to read the error log as written." },
    });
  }
  for (const e of data.probes.errors) {
    out.push({ id: `probe-failed/${e.probe}`, title: `Probe ${e.probe} could not run`, severity: "info", confidence: 1, explains: 0, evidence: { summary: e.message, counts: {}, samples: [] }, fix: { summary: "Check the address and credentials given to the doctor." } });
  }
  return out;
}
