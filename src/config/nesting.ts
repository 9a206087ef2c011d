/**
 * Refuses config values nested deeper than any setting, before anything recursive walks them:
 * a 10 000-level object in holdfast.config.json used to end in a stack overflow, not a message.
 */

/** Deepest object or list nesting a valid config has (admission.routes[i].path is 3), with room to spare. */
export const MAX_CONFIG_DEPTH = 8;

/** The dotted path where `value` nests deeper than `max`, or undefined. Iterative, so it cannot overflow. */
export function tooDeepAt(value: unknown, max = MAX_CONFIG_DEPTH): string | undefined {
  const stack: Array<{ v: unknown; path: string; depth: number }> = [{ v: value, path: "", depth: 0 }];
  while (stack.length) {
    const { v, path, depth } = stack.pop() as { v: unknown; path: string; depth: number };
    if (typeof v !== "object" || v === null) continue;
    if (depth >= max) return path || "(root)";
    for (const [k, child] of Object.entries(v)) stack.push({ v: child, path: path ? `${path}.${k}` : k, depth: depth + 1 });
  }
  return undefined;
}
