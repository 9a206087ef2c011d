/**
 * Tables that fit the terminal: when a table is wider than the screen, whole columns are
 * dropped, least important first, instead of cutting numbers off at the right edge (a cut
 * "1.25s" reads as "1.2", a lie). The caller is told which columns it lost.
 */

/** A table: header row first; `priority[i]` ranks column i (higher stays longer; the first column always stays). */
export interface TableSpec {
  rows: string[][];
  priority: readonly number[];
}

/** The laid-out lines and the headers of the columns that did not fit. */
export interface FittedTable {
  lines: string[];
  hidden: string[];
}

const GAP = 2;

function layout(rows: string[][], keep: readonly number[]): string[] {
  const widths = keep.map((i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) =>
    keep
      .map((i, k) => (k === 0 ? (r[i] ?? "").padEnd(widths[k] as number) : (r[i] ?? "").padStart(widths[k] as number)))
      .join(" ".repeat(GAP))
      .trimEnd(),
  );
}

/** Lays out `t` within `width` characters (no limit when undefined), dropping the lowest-priority columns first. */
export function fitColumns(t: TableSpec, width: number | undefined): FittedTable {
  const columns = t.rows[0]?.length ?? 0;
  // Columns empty in every data row (e.g. the instance column with one instance) take no room.
  let keep = [...Array(columns).keys()].filter((i) => i === 0 || t.rows.some((r, n) => n > 0 && (r[i] ?? "") !== ""));
  const hidden: string[] = [];
  const widthOf = (cols: number[]) => cols.reduce((a, i) => a + Math.max(...t.rows.map((r) => (r[i] ?? "").length)), 0) + GAP * (cols.length - 1);
  while (width !== undefined && keep.length > 1 && widthOf(keep) > width) {
    const drop = keep.slice(1).reduce((lo, i) => ((t.priority[i] ?? 0) < (t.priority[lo] ?? 0) ? i : lo), keep[1] as number);
    hidden.push(t.rows[0]?.[drop] ?? "");
    keep = keep.filter((i) => i !== drop);
  }
  return { lines: layout(t.rows, keep), hidden };
}
