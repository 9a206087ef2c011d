/** Freezes a value and everything in it, so a caller that spreads a default section and then edits it cannot change everyone's default. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
