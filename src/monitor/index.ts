/** monitor/ — live terminal dashboard and alerts over holdfast admin endpoints (/status, /metrics). */
export { watch, snapshot, type MonitorOptions, type WatchOutput, type SnapshotDocument } from "./run-monitor.js";
export { Monitor, type Tick } from "./monitor.js";
export { loadThresholds, resolveThresholds, DEFAULT_THRESHOLDS, ThresholdsError, thresholdsSchema, type Thresholds } from "./thresholds.js";
export { InstanceTracker } from "./instance-tracker.js";
export { ALERT_RULES, type RuleName } from "./alert-rules.js";
export { renderDashboard, renderLines, type DashboardModel, type RenderOptions } from "./render-dashboard.js";
export { scrapeInstance, type ScrapeOptions } from "./scrape.js";
export { WebhookSender, type WebhookOptions } from "./webhook.js";
export { parseWebhookTarget, webhookBody, WEBHOOK_FORMATS, type WebhookFormat, type WebhookPayload, type WebhookTarget } from "./webhook-formats.js";
export type { Alert, AlertState, AlertTransition, InstanceView, Rates, Incidents, Scrape, WorkerView } from "./types.js";
export { readStatus, type InstanceStatus } from "./status-document.js";
export { parsePrometheusText, type PromSample } from "./prometheus-text.js";
export { extractRequestHistogram, quantileMs, countStatus, type RequestDelta, type RequestHistogram } from "./request-histogram.js";
export { grafanaDashboard, grafanaExpressions } from "./grafana-dashboard.js";
export { alertingRules, alertingRulesYaml, type AlertingRule } from "./prometheus-rules.js";
export { fleetFigures, fleetTable, type FleetFigures, type FleetSample, type InstanceFigures } from "./fleet-figures.js";
