/**
 * Failures no cause explained, and how well the logs could be read. Runs after the other rules
 * (it reads their findings), so it is not in the ordinary rule list.
 */
import { claim } from "../correlate.js";
import type { Correlation, Dataset, Finding } from "../types.js";
import { between, failureWindow, ofTotal, probeTime, samples, statusCounts } from "./evidence.js";

const LOG_FORMAT_FIX =
  'log_format holdfast \'$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time uct=$upstream_connect_time urt=$upstream_response_time us=$upstream_status rid=$request_id\';\naccess_log /var/log/nginx/access.log holdfast;\nproxy_set_header X-Request-Id $request_id;';

/** The first failure's time, for the doctor's own UTC offset at the time of the logs (DST). */
function firstTime(data: Dataset): number {
  const t = data.failures[0]?.record.time;
  return t !== undefined && Number.isFinite(t) ? t : Date.now();
}

/**
 * The zone a log without an offset was written in, from the shift that aligned it: the doctor
 * read it in its own zone, so the writer's UTC offset is the doctor's minus the shift. Advises a
 * POSIX `Etc/GMT±N` zone for whole hours (its sign is inverted: Etc/GMT+3 is UTC−3) and the
 * server's own zone name otherwise, and in any case when the server follows daylight saving.
 */
export function serverZone(shiftMs: number, at: number): { offsetMinutes: number; utc: string; advice: string } {
  const doctorOffset = -new Date(at).getTimezoneOffset();
  const offsetMinutes = Math.round(doctorOffset - shiftMs / 60_000);
  const abs = Math.abs(offsetMinutes);
  const sign = offsetMinutes < 0 ? "−" : "+";
  const utc = offsetMinutes === 0 ? "UTC" : `UTC${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
  const own = "better, the server's own zone name (timedatectl or /etc/timezone on the server names it), which also follows its daylight-saving changes";
  if (abs % 60 !== 0)
    return {
      offsetMinutes,
      utc,
      advice: `no Etc/ zone has a ${utc} offset, so use the server's own zone name (TZ=<the server's zone> holdfast doctor …; timedatectl or /etc/timezone on the server names it)`,
    };
  const hours = abs / 60;
  // POSIX: "Etc/GMT+3" means 3 h *behind* UTC.
  const etc = offsetMinutes === 0 ? "UTC" : `Etc/GMT${offsetMinutes < 0 ? "+" : "-"}${hours}`;
  const note = offsetMinutes === 0 ? "" : ` (POSIX inverts the sign: ${etc} is ${utc})`;
  return { offsetMinutes, utc, advice: `TZ=${etc} holdfast doctor …${note}, or ${own}` };
}

/**
 * What the causes left over: failures the app answered with a 5xx itself (`app-errors`), failures
 * nothing explains (`unexplained-failures`) — both warnings, since failed requests are the
 * problem — and info about how well the logs could be read. `taken` holds the failures the
 * causes counted.
 */
export function leftovers(data: Dataset, findings: Finding[], corr?: Correlation, taken: ReadonlySet<number> = new Set()): Finding[] {
  const out: Finding[] = [];
  const appErrors: number[] = [];
  if (corr)
    data.failures.forEach((_f, i) => {
      if (!taken.has(i) && corr.kinds[i] === "app-5xx") appErrors.push(i);
    });
  if (appErrors.length && corr) {
    const counts = statusCounts(data, appErrors);
    const paths = new Map<string, number>();
    for (const i of appErrors) {
      const p = data.failures[i]?.record.path ?? "?";
      paths.set(p, (paths.get(p) ?? 0) + 1);
    }
    const top = [...paths]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([p, n]) => `${p} (${n})`);
    const w = failureWindow(data, appErrors);
    out.push(
      claim(
        corr,
        {
          id: "app-errors",
          title: "The app answered 5xx itself",
          severity: "warning",
          confidence: 0.7,
          explains: appErrors.length,
          evidence: {
            summary: `${ofTotal(data, counts)} ${between(w)} came from the app itself (the upstream's own status), with no pool, lock, deadline or shed event to explain them. Paths: ${top.join(", ")}.`,
            counts,
            window: w,
            samples: samples(data, appErrors),
          },
          fix: {
            summary:
              "Read the app's error events for those paths and times (holdfast logs request.error with the stack); give the doctor --app-log to join them.",
          },
        },
        appErrors,
      ),
    );
  }
  // Findings of one chain share their failures, so count the failures taken, not the sum of explains.
  const explained = (taken.size > 0 ? taken.size : findings.reduce((n, f) => n + f.explains, 0)) + appErrors.length;
  const rest = data.failedTotal - explained;
  if (data.failedTotal > 0 && rest > 0) {
    const byStatus = Object.entries(data.statusCounts)
      .filter(([s]) => Number(s) >= 500)
      .map(([s, n]) => `${n} × ${s}`)
      .join(", ");
    out.push({
      id: "unexplained-failures",
      title: "Failed requests with no cause found",
      severity: "warning",
      confidence: 1,
      explains: 0,
      evidence: {
        summary: `${rest} of ${data.failedTotal} failed requests (${byStatus}) matched no cause. Give the doctor the logs of the other layers (--nginx-error-log, --app-log) and the timings in the access log so it can join them.`,
        counts: { unexplained: rest, failed: data.failedTotal },
        samples: [],
      },
      fix: {
        summary:
          "Add $upstream_status, $upstream_response_time, $request_time and $request_id to the access log format, pass $request_id to the app as X-Request-Id.",
        nginx: LOG_FORMAT_FIX,
      },
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
      fix: {
        summary: f.kind === "nginx-access" ? "Pass the log_format with --nginx-log-format or --nginx-config." : "Nothing to do if these are unrelated lines.",
      },
    });
  }
  for (const u of data.unreadable ?? []) {
    out.push({
      id: "log-unreadable",
      title: `Could not read all of ${u.file}`,
      severity: "info",
      confidence: 1,
      explains: 0,
      evidence: {
        summary: `Reading stopped after ${u.lines} lines: ${u.message}. The lines read before that are in the report.`,
        counts: { linesRead: u.lines },
        samples: [],
      },
      fix: { summary: "Check the file (gzip -t for .gz, permissions, path) and run again." },
    });
  }
  if (data.errorLogShiftMs) {
    const h = data.errorLogShiftMs / 3_600_000;
    const zone = serverZone(data.errorLogShiftMs, firstTime(data));
    out.push({
      id: "error-log-clock",
      title: "nginx error log written in another time zone",
      severity: "info",
      confidence: 0.9,
      explains: 0,
      evidence: {
        summary: `The nginx error log's times were ${h > 0 ? "behind" : "ahead of"} the access log by ${Math.abs(h)} h: nginx writes it in the server's local time, which was ${zone.utc} when these lines were written. They were shifted to match before joining.`,
        counts: { shiftMinutes: data.errorLogShiftMs / 60_000, serverUtcOffsetMinutes: zone.offsetMinutes },
        samples: [],
      },
      fix: { summary: `Nothing to change on the server. To read the error log as written, run the doctor in the server's zone: ${zone.advice}.` },
    });
  }
  if (data.appLogShiftMs) {
    const h = data.appLogShiftMs / 3_600_000;
    const zone = serverZone(data.appLogShiftMs, firstTime(data));
    out.push({
      id: "app-log-clock",
      title: "App log written in another time zone",
      severity: "info",
      confidence: 0.8,
      explains: 0,
      evidence: {
        summary: `The app log's times carry no zone and were ${h > 0 ? "behind" : "ahead of"} the proxy's by ${Math.abs(h)} h: the app wrote them in ${zone.utc}. They were shifted to match before joining.`,
        counts: { shiftMinutes: data.appLogShiftMs / 60_000, serverUtcOffsetMinutes: zone.offsetMinutes },
        samples: [],
      },
      fix: {
        summary: `Log times with their zone (Python: logging.Formatter with %z or a UTC converter; Rails: config.time_zone), or run the doctor in the app server's zone: ${zone.advice}.`,
      },
    });
  }
  for (const e of data.probes.errors) {
    // A probe looks at this host now; in a post-mortem of copied logs its failure says nothing about the incident.
    const when = probeTime(data, e.at);
    out.push({
      id: `probe-failed/${e.probe}`,
      title: `Probe ${e.probe} could not run ${when.now}`,
      severity: "info",
      confidence: 1,
      explains: 0,
      evidence: { summary: `${e.message}${when.note}`, counts: {}, samples: [] },
      fix: {
        summary: when.stale
          ? "Nothing to do for this report. To probe the live system, run the doctor on the host it describes with the address and credentials it uses (--db, --config, --admin)."
          : "Check the address and credentials given to the doctor (--db, --config, --admin).",
      },
    });
  }
  return out;
}
