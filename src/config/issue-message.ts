/**
 * Turns a schema validation issue into what a person needs at 3 a.m.: what is allowed for this key,
 * in holdfast's words ("a whole number from 1 to 65535"), never the schema library's
 * ("Too small: expected number to be >=1").
 */
import type { z } from "zod";

/** What `issue` means for the setting at `path` whose type (from the schema) is `type`. */
export function issueMessage(issue: z.core.$ZodIssue, type: string | undefined): string {
  // A message the schema wrote itself (schema.ts) already says it in holdfast's words.
  if (!/^(Too small|Too big|Invalid|Expected|Unrecognized)/.test(issue.message)) return issue.message;
  switch (issue.code) {
    case "too_small":
      if (issue.origin === "string") return Number(issue.minimum) === 1 ? "must not be empty" : `must be at least ${issue.minimum} characters long`;
      if (issue.origin === "array") return `needs at least ${issue.minimum} entries`;
      return `must be ${issue.inclusive === false ? "above" : "at least"} ${issue.minimum}`;
    case "too_big":
      if (issue.origin === "string") return `must be at most ${issue.maximum} characters long`;
      if (issue.origin === "array") return `takes at most ${issue.maximum} entries`;
      return `must be ${issue.inclusive === false ? "below" : "at most"} ${issue.maximum}`;
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_type":
      if (issue.expected === "int") return "must be a whole number";
      if (issue.expected === "number") return type ? `expected ${article(type)}` : "expected a number";
      if (issue.expected === "object") return "expected a group of settings ({ ... })";
      if (issue.expected === "array") return "expected a list ([ ... ])";
      return `expected ${type ? article(type) : `a ${issue.expected}`}`;
    case "invalid_union":
      return type ? `expected ${article(type)}` : "is not one of the accepted forms";
    default:
      return type ? `expected ${article(type)}` : issue.message;
  }
}

/** A setting's type (as `holdfast config --docs` lists it) written as what to give. */
function article(type: string): string {
  if (type === "boolean") return "true or false (yes/no, on/off and 1/0 work too)";
  if (type === "duration") return 'a duration such as "30s", "250ms" or "2m"';
  if (type === "size") return 'a size such as "512MB" or a number of bytes';
  if (type === '"auto" or number') return '"auto" or a whole number';
  if (type.startsWith("one of") || type.startsWith('"')) return type;
  return /^[aeiou]/i.test(type) ? `an ${type}` : `a ${type}`;
}
