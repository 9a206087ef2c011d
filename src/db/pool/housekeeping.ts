/** What the housekeeping timer does to an idle resource, and how often it runs. */
import type { Slot } from "./lease.js";

/** Why an idle resource needs attention: closed for age or idleness, or pinged. */
export type Maintenance = "lifetime" | "idle" | "ping" | undefined;

/** Settings housekeeping reads. */
export interface MaintenanceSettings {
  idleTimeout: number;
  maxLifetime: number;
  keepaliveInterval: number;
  min: number;
  canPing: boolean;
}

/** The action due for an idle `slot` at `now`, given `size` resources open. */
export function dueMaintenance(slot: Slot<unknown>, now: number, size: number, o: MaintenanceSettings): Maintenance {
  if (slot.expiresAt <= now) return "lifetime";
  if (o.idleTimeout > 0 && now - slot.lastUsedAt > o.idleTimeout && size > o.min) return "idle";
  if (o.keepaliveInterval > 0 && o.canPing && now - slot.lastCheckedAt >= o.keepaliveInterval) return "ping";
  return undefined;
}

/** Half the shortest of idleTimeout / maxLifetime / keepaliveInterval, within 10 ms..5 s; 0 when none is set. */
export function housekeepingInterval(o: Pick<MaintenanceSettings, "idleTimeout" | "maxLifetime" | "keepaliveInterval">): number {
  const periods = [o.idleTimeout, o.maxLifetime, o.keepaliveInterval].filter((n) => n > 0);
  if (periods.length === 0) return 0;
  return Math.min(5000, Math.max(10, Math.min(...periods) / 2));
}
