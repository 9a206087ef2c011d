/**
 * A user's project with holdfast installed as `npm install holdfast` leaves it: a package.json
 * like `npm init -y` writes, holdfast's published files copied into node_modules/holdfast (a
 * copy, not a link, so Node resolves holdfast's imports from the project rather than from this
 * checkout), and its runtime dependencies linked from this checkout. The optional packages
 * (peer dependencies) are there only when asked for, so a missing one really is unresolvable.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The project directory and the CLI `npx holdfast` would run there. */
export interface InstalledProject {
  dir: string;
  cli: string;
  /** Removes the project (links are removed, never followed). */
  remove(): void;
}

/** Options of {@link installedProject}. */
export interface InstalledProjectOptions {
  /** package.json "type": npm 11's `npm init -y` writes "commonjs"; older npm wrote none (undefined). */
  type?: "commonjs" | "module" | undefined;
  /** Optional packages to install too (linked from this checkout). */
  optional?: string[];
}

/** Creates the project in a fresh temp directory. The checkout must be built (dist/). */
export function installedProject(o: InstalledProjectOptions = {}): InstalledProject {
  const dir = mkdtempSync(join(tmpdir(), "hf-user-project-"));
  const pkg: Record<string, unknown> = { name: "my-service", version: "1.0.0", main: "index.js", license: "ISC" };
  if (o.type) pkg.type = o.type;
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`);
  const own = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string>; files: string[] };
  const installed = join(dir, "node_modules", "holdfast");
  mkdirSync(installed, { recursive: true });
  cpSync(join(ROOT, "package.json"), join(installed, "package.json"));
  for (const entry of own.files) if (entry !== "docs" && entry !== "README.md") cpSync(join(ROOT, entry), join(installed, entry), { recursive: true });
  for (const name of [...Object.keys(own.dependencies), ...(o.optional ?? [])]) {
    const at = join(dir, "node_modules", name);
    mkdirSync(join(at, ".."), { recursive: true });
    symlinkSync(join(ROOT, "node_modules", name), at, "dir");
  }
  return { dir, cli: join(installed, "dist", "cli", "main.js"), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
