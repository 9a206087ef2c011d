/** config/ — one schema for every setting, loading, and the timeout budget rules. */
export { configSchema, configDefaults, type Config, type ConfigInput } from "./schema.js";
export { loadConfig, defineConfig, formatSource, type LoadedConfig, type LoadConfigOptions, type ValueSource } from "./load.js";
export { listSettings, type SettingInfo } from "./introspect.js";
export { checkTimeoutBudget, type TimeoutLayers, type BudgetViolation } from "./timeout-budget.js";
export { parseDuration, parseSize, formatDuration, formatSize } from "./duration.js";
export { layersFromConfig, checkConfig } from "./check.js";
export { nginxConfig, haproxyConfig, matchedProxyTimeouts, type ProxyConfigOptions } from "./proxy-config.js";
export { sqliteUrlPath, sqliteUrlProblem } from "./sqlite-url.js";
export { printableValue, isSecretSetting } from "./printable-value.js";
export { proxyOptionProblems, parseUpstream, type Upstream } from "./proxy-config-options.js";
export { kubernetesConfig, kubernetesOptionProblems, terminationGraceSeconds, PRE_STOP_DELAY_S, type KubernetesOptions } from "./kubernetes-config.js";
