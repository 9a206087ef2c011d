/**
 * optional/ — the packages a holdfast user installs only for the feature that needs them (pg,
 * ioredis, tsx, pino-pretty: peer dependencies marked optional). Every load of one goes through
 * here, on first use, so a missing package is one clear error naming the feature and the command
 * that adds it, instead of ERR_MODULE_NOT_FOUND from deep inside a worker.
 */
import { errors } from "../errors/index.js";

/** Each optional package and what it is for, in the words the error shows. */
export const OPTIONAL_PACKAGES = {
  pg: "PostgreSQL databases (postgres:// URLs)",
  ioredis: "the Redis cache (redis:// URLs)",
  tsx: "TypeScript apps and config files (.ts)",
  "pino-pretty": "readable terminal logs (log.pretty)",
} as const;

/** The name of an optional package. */
export type OptionalPackage = keyof typeof OPTIONAL_PACKAGES;

/** The package a specifier belongs to ("tsx/esm/api" → "tsx"). */
function packageOf(specifier: string): OptionalPackage {
  const name = specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : (specifier.split("/")[0] as string);
  if (!(name in OPTIONAL_PACKAGES)) throw new Error(`${name} is not one of holdfast's optional packages`);
  return name as OptionalPackage;
}

/**
 * Resolves `specifier` from holdfast's own location (where Node will look when it imports it) and
 * returns its URL. `need` says why it is needed now, e.g. "db.url is a postgres:// URL"; when the
 * package is not installed this throws DEPENDENCY_MISSING with `need`, the package and the command.
 */
export function resolveOptional(specifier: string, need: string): string {
  const name = packageOf(specifier);
  try {
    return import.meta.resolve(specifier);
  } catch (err) {
    // Only "not installed" is ours to explain; anything else (a broken install, a subpath the
    // installed version lacks) keeps Node's own error, which names the real problem.
    const e = err as NodeJS.ErrnoException;
    if (e.code !== "ERR_MODULE_NOT_FOUND" || !e.message.includes(`'${name}'`)) throw err;
    throw errors.dependencyMissing(
      `${need}, but the '${name}' package is not installed; it is optional, needed only for ${OPTIONAL_PACKAGES[name]}. Run: npm install ${name}`,
      { cause: err, details: { package: name } },
    );
  }
}

/** Imports an optional package on first use (Node caches it after); same errors as {@link resolveOptional}. */
export async function importOptional<Module>(specifier: string, need: string): Promise<Module> {
  return (await import(resolveOptional(specifier, need))) as Module;
}
