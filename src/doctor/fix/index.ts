/** --fix: plan, apply (safe SQLite maintenance after a verified backup), and the patch file. */
export { planFixes, describePlan, type FixPlan, type FixStep } from "./plan.js";
export { applyFixes, describeOutcomes, type FixOutcome } from "./apply.js";
