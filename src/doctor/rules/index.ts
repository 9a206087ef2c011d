/** The rule catalogue, in the order docs/doctor.md lists it. */
import type { Rule } from "../types.js";
import { allUpstreamsDown } from "./all-upstreams-down.js";
import { diskFdLimit } from "./disk-fd-limit.js";
import { eventLoopBlocking } from "./event-loop-blocking.js";
import { keepaliveRace } from "./keepalive-race.js";
import { listenBacklog } from "./listen-backlog.js";
import { memoryGrowth } from "./memory-growth.js";
import { appDeadline, databaseUnavailable, loadShed, proxyQueue } from "./overload.js";
import { oversizedHeaders } from "./oversized-headers.js";
import { pgConnectionLimit } from "./pg-connection-limit.js";
import { poolExhaustion } from "./pool-exhaustion.js";
import { probeHealth } from "./probe-health.js";
import { proxyReadTimeout } from "./proxy-read-timeout.js";
import { sqliteDeferredBusy } from "./sqlite-deferred-busy.js";
import { sqliteLock } from "./sqlite-lock.js";
import { timeoutBudget } from "./timeout-budget.js";
import { upstreamDown } from "./upstream-down.js";
import { walGrowth } from "./wal-growth.js";
import { workerKilled } from "./worker-killed.js";

/** Every rule the doctor runs. */
export const DOCTOR_RULES: readonly Rule[] = [
  keepaliveRace,
  workerKilled,
  upstreamDown,
  proxyReadTimeout,
  poolExhaustion,
  sqliteLock,
  sqliteDeferredBusy,
  walGrowth,
  pgConnectionLimit,
  eventLoopBlocking,
  memoryGrowth,
  listenBacklog,
  oversizedHeaders,
  allUpstreamsDown,
  diskFdLimit,
  timeoutBudget,
  loadShed,
  proxyQueue,
  appDeadline,
  databaseUnavailable,
  probeHealth,
];

export { leftovers } from "./unexplained.js";
