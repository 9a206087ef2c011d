// The inline-read policy on its own: run times in, promotion and demotion out.
import assert from "node:assert/strict";
import { test } from "node:test";
import { type StatementProfile, InlineProfiles } from "./inline-profiles.js";

const options = { thresholdUs: 200, proofRuns: 32, maxStatements: 3 };

/** The profile of `text`, run fast on the threads until it is promoted to inline. */
function promoted(profiles: InlineProfiles, text: string): StatementProfile {
  const p = profiles.profile(text);
  assert.ok(p);
  while (!p.inline) profiles.threadedRun(p, 5);
  return p;
}

test("a statement runs inline after proofRuns fast threaded runs, not before", () => {
  const profiles = new InlineProfiles(options);
  const p = profiles.profile("SELECT 1");
  assert.ok(p);
  for (let i = 0; i < 31; i++) profiles.threadedRun(p, 5);
  assert.equal(p.inline, false);
  profiles.threadedRun(p, 5);
  assert.equal(p.inline, true);
  assert.equal(profiles.inlineStatements, 1);
});

test("the p99 decides: one slow run in fewer than 100 blocks promotion, one in the last 100 does not, two do", () => {
  const profiles = new InlineProfiles(options);
  const p = profiles.profile("SELECT 2");
  assert.ok(p);
  profiles.threadedRun(p, 5_000);
  for (let i = 0; i < 98; i++) profiles.threadedRun(p, 5);
  assert.equal(p.inline, false, "promoted with a slow run among 99");
  profiles.threadedRun(p, 5);
  assert.equal(p.inline, true, "one slow run in the last 100 is within p99");

  const q = profiles.profile("SELECT 3");
  assert.ok(q);
  for (let i = 0; i < 300; i++) profiles.threadedRun(q, i % 50 === 0 ? 5_000 : 5);
  assert.equal(q.inline, false, "two slow runs in every 100 is over p99");
});

test("one slow inline run demotes at once; a statement that lasted proofRuns inline runs proves itself over proofRuns again, one that flapped over twice as many", () => {
  const profiles = new InlineProfiles(options);
  const p = profiles.profile("SELECT 4");
  assert.ok(p);
  for (let i = 0; i < 32; i++) profiles.threadedRun(p, 5);
  for (let i = 0; i < 100; i++) assert.equal(profiles.inlineRun(p, 5), false);
  assert.equal(profiles.inlineRun(p, 201), true);
  assert.equal(p.inline, false);
  assert.equal(p.proofNeeded, 32);
  for (let i = 0; i < 32; i++) profiles.threadedRun(p, 5);
  assert.equal(p.inline, true);
  // Flaps: slow on its third inline run.
  profiles.inlineRun(p, 5);
  profiles.inlineRun(p, 5);
  profiles.inlineRun(p, 50_000);
  assert.equal(p.proofNeeded, 64);
  for (let i = 0; i < 63; i++) profiles.threadedRun(p, 5);
  assert.equal(p.inline, false);
  profiles.threadedRun(p, 5);
  assert.equal(p.inline, true);
  assert.equal(profiles.counts.demotions, 2);
  // Flapping every time: the proof doubles up to its cap.
  for (let k = 0; k < 20; k++) {
    while (!p.inline) profiles.threadedRun(p, 5);
    profiles.inlineRun(p, 50_000);
  }
  assert.equal(p.proofNeeded, 4096);
});

test("a statement that lasted 1 000 inline runs proves itself over proofRuns / 32 runs after one slow run; flapping after a short proof takes the full proofRuns, then doubles", () => {
  const profiles = new InlineProfiles(options);
  const p = promoted(profiles, "SELECT 5");
  // 998 fast and the slow one: 999 inline runs.
  for (let i = 0; i < 998; i++) profiles.inlineRun(p, 5);
  assert.equal(profiles.inlineRun(p, 201), true, "not demoted at once");
  assert.equal(p.inline, false);
  assert.equal(p.proofNeeded, 32, "999 inline runs are not a long streak");
  while (!p.inline) profiles.threadedRun(p, 5);
  for (let i = 0; i < 1000; i++) profiles.inlineRun(p, 5);
  profiles.inlineRun(p, 201);
  assert.equal(p.inline, false, "a long streak still leaves at once");
  assert.equal(p.proofNeeded, 1);
  profiles.threadedRun(p, 5);
  assert.equal(p.inline, true, "not back after a fast threaded run");
  // A slow threaded run during the short proof keeps it on the threads: the p99 rule still applies.
  for (let i = 0; i < 1000; i++) profiles.inlineRun(p, 5);
  profiles.inlineRun(p, 201);
  profiles.threadedRun(p, 5_000);
  assert.equal(p.inline, false, "back after a slow threaded run");
  profiles.threadedRun(p, 5);
  assert.equal(p.inline, false, "back with a slow run among its last two");
  while (!p.inline) profiles.threadedRun(p, 5);
  // Flaps right after a short proof: the full proofRuns, then doubling from there.
  profiles.inlineRun(p, 5);
  profiles.inlineRun(p, 50_000);
  assert.equal(p.proofNeeded, 32);
  while (!p.inline) profiles.threadedRun(p, 5);
  profiles.inlineRun(p, 50_000);
  assert.equal(p.proofNeeded, 64);
});

test("threshold 0 turns inline reads off, and past maxStatements new texts get no profile", () => {
  assert.equal(new InlineProfiles({ ...options, thresholdUs: 0 }).enabled, false);
  const profiles = new InlineProfiles(options);
  for (const t of ["a", "b", "c"]) assert.ok(profiles.profile(t));
  assert.equal(profiles.profile("d"), undefined);
  assert.ok(profiles.profile("a"), "known texts keep their profile");
});

test("10 demotions within a second pause inline reads for every statement for 1 s, longer when it trips again right after", () => {
  let now = 0;
  const profiles = new InlineProfiles({ ...options, maxStatements: 20, now: () => now });
  for (let i = 0; i < 9; i++) {
    now += 50;
    profiles.inlineRun(promoted(profiles, `SELECT ${i}`), 5_000);
  }
  assert.equal(profiles.inlineAllowed, true, "9 demotions in 450 ms do not pause");
  now += 50;
  profiles.inlineRun(promoted(profiles, "SELECT 9"), 5_000);
  assert.equal(profiles.counts.pauses, 1);
  assert.equal(profiles.inlineAllowed, false);
  now += 999;
  assert.equal(profiles.inlineAllowed, false);
  now += 2;
  assert.equal(profiles.inlineAllowed, true, "the pause lasts 1 s");
  // Trips again at once: 2 s.
  for (let i = 0; i < 10; i++) {
    now += 10;
    profiles.inlineRun(promoted(profiles, `SELECT ${i}`), 5_000);
  }
  assert.equal(profiles.counts.pauses, 2);
  now += 1_500;
  assert.equal(profiles.inlineAllowed, false, "the second pause is longer");
  now += 600;
  assert.equal(profiles.inlineAllowed, true);
  // Demotions spread out (one every 200 ms) never pause.
  for (let i = 0; i < 30; i++) {
    now += 200;
    profiles.inlineRun(promoted(profiles, `SELECT ${i % 10}`), 5_000);
  }
  assert.equal(profiles.counts.pauses, 2);
});

test("demotions that are rare per run (preemption noise at a high read rate) never pause, however close together in time", () => {
  let now = 0;
  const profiles = new InlineProfiles({ ...options, maxStatements: 20, now: () => now });
  // 30 demotions in 300 ms, each after 1 500 fast inline runs: one slow run in 1 500.
  for (let i = 0; i < 30; i++) {
    const p = promoted(profiles, `SELECT ${i % 10}`);
    for (let r = 0; r < 1_500; r++) profiles.inlineRun(p, 5);
    now += 10;
    profiles.inlineRun(p, 3_000);
  }
  assert.equal(profiles.counts.demotions, 30);
  assert.equal(profiles.counts.pauses, 0);
  assert.equal(profiles.inlineAllowed, true);
  // The same demotions with a slow run in every 50: the machine is short of cores, pause.
  for (let i = 0; i < 10; i++) {
    const p = promoted(profiles, `SELECT ${i}`);
    for (let r = 0; r < 50; r++) profiles.inlineRun(p, 5);
    now += 10;
    profiles.inlineRun(p, 3_000);
  }
  assert.equal(profiles.counts.pauses, 1);
  assert.equal(profiles.inlineAllowed, false);
});

test("a demotion is undone when a garbage collection inside the slow run explains it; not when the statement's own time is still over the threshold, nor once the statement changed since", () => {
  let now = 1_000;
  const profiles = new InlineProfiles({ ...options, now: () => now });
  const p = promoted(profiles, "SELECT 1");
  // A 450 µs run ending at 1000.45 ms, 300 µs of it a scavenge: 150 µs of its own, under 200.
  now = 1_000.45;
  assert.equal(profiles.inlineRun(p, 450, now), true);
  assert.equal(p.inline, false, "demoted at once");
  const proofAfterDemotion = p.proofNeeded;
  const promotions = profiles.promotions;
  profiles.gcPause(1_000.1, 0.3);
  assert.equal(p.inline, true, "restored: the collection made it slow");
  assert.equal(profiles.counts.gcRestored, 1);
  assert.equal(profiles.promotions, promotions + 1, "a restore is a promotion (queued reads may run inline)");
  assert.equal(profiles.counts.demotions, 1, "the demotion still happened and is counted");
  // 900 µs with 300 µs of collection: 600 of its own, still slow.
  now = 2_000.9;
  profiles.inlineRun(p, 900, now);
  profiles.gcPause(2_000.2, 0.3);
  assert.equal(p.inline, false);
  // A collection outside the run explains nothing.
  const q = promoted(profiles, "SELECT 2");
  now = 3_000.5;
  profiles.inlineRun(q, 500, now);
  profiles.gcPause(2_999, 0.4);
  assert.equal(q.inline, false);
  // Re-promoted on the threads before the report came: left as it is (no double count).
  const r = promoted(profiles, "SELECT 3");
  now = 4_000.3;
  profiles.inlineRun(r, 300, now);
  while (!r.inline) profiles.threadedRun(r, 5);
  profiles.gcPause(4_000.05, 0.2);
  assert.equal(profiles.counts.gcRestored, 1);
  assert.ok(proofAfterDemotion >= options.proofRuns);
});

test("ten slow runs within a second that collections explain do not leave inline reads paused", () => {
  let now = 10_000;
  const profiles = new InlineProfiles({ ...options, maxStatements: 20, now: () => now });
  const ends: number[] = [];
  for (let i = 0; i < 10; i++) {
    now += 20;
    ends.push(now);
    profiles.inlineRun(promoted(profiles, `SELECT ${i}`), 400, now);
  }
  assert.equal(profiles.counts.pauses, 1, "paused at once, before any report");
  assert.equal(profiles.inlineAllowed, false);
  // The reports come: each run was a 350 µs scavenge and 50 µs of query.
  for (const end of ends) profiles.gcPause(end - 0.38, 0.35);
  assert.equal(profiles.counts.gcRestored, 10);
  assert.equal(profiles.inlineAllowed, true, "the pause is lifted");
  assert.equal(profiles.inlineStatements, 10);
});
