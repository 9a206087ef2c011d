/** telemetry/ — the one event/metric model: JSON logs, Prometheus metrics, the live event stream. */
export { createLogger, silentLogger, type Logger, type LoggerOptions } from "./logger.js";
export { CarriedTotals } from "./carried-totals.js";
export { WorkerMetrics, aggregateMetrics, METRICS_CONTENT_TYPE, promClient, type MetricsSnapshot, type StatusGauge } from "./metrics.js";
export { createRequestLog, type RequestEventLog, type RequestLogFields, type ShedLogFields } from "./request-log.js";
export { redactUrl } from "./redact-url.js";
