/**
 * A setting's value as it may be printed (`holdfast config`, error messages): a secret is never
 * shown, and a URL goes through the one redactor so its password stays out of terminals and logs.
 */
import { redactUrl } from "../telemetry/index.js";

/** Settings whose whole value is a secret. */
const SECRET_SETTINGS = new Set(["admin.token"]);

/** True for settings whose value must never be printed. */
export function isSecretSetting(path: string): boolean {
  return SECRET_SETTINGS.has(path);
}

/** `value` with secrets hidden: "[hidden]" for a secret setting, a redacted URL for `*.url`. */
export function printableValue(path: string, value: unknown): unknown {
  if (isSecretSetting(path) && value !== undefined && value !== "") return "[hidden]";
  if (typeof value === "string" && /(^|\.)url$/i.test(path)) return redactUrl(value);
  return value;
}
