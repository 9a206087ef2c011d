/**
 * Fuzz: every log reader gets 10^5 random and mutated lines and must never throw; the collector
 * must count each non-empty line as either a record or garbage. Seeded, so a failure reproduces.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { collectLines, emptyDataset } from "../src/doctor/collect.js";
import { READER_CASES } from "../src/doctor/readers/reader-contract.test-support.js";
import type { LogKind } from "../src/doctor/types.js";

const N = 100_000;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ' "[]{}:,/-.0123456789abcdefABCDEF\\\t\u0000\u00e9\ud83d\ude00$#*?=+_';

function mutate(line: string, r: () => number): string {
  let s = line;
  const ops = 1 + Math.floor(r() * 4);
  for (let k = 0; k < ops; k++) {
    const i = Math.floor(r() * (s.length + 1));
    const op = Math.floor(r() * 6);
    if (op === 0)
      s = s.slice(0, i); // truncate
    else if (op === 1)
      s = s.slice(i); // lose the head
    else if (op === 2)
      s = s.slice(0, i) + (ALPHABET[Math.floor(r() * ALPHABET.length)] as string) + s.slice(i + 1); // flip a char
    else if (op === 3)
      s = s.slice(0, i) + s.slice(i, i + 20) + s.slice(i); // duplicate a run
    else if (op === 4)
      s = s.slice(0, i) + s.slice(i + Math.floor(r() * 10)); // delete a run
    else s = s.replace(/\d/g, (d) => (r() < 0.3 ? String.fromCharCode(48 + Math.floor(r() * 10)) : d)); // scramble digits
  }
  return s;
}

function random(r: () => number): string {
  const len = Math.floor(r() * 300);
  let s = "";
  for (let i = 0; i < len; i++) s += r() < 0.5 ? ALPHABET[Math.floor(r() * ALPHABET.length)] : String.fromCharCode(Math.floor(r() * 0x2fff));
  return s;
}

const KIND: Record<string, LogKind> = {
  "nginx-access (combined)": "nginx-access",
  "nginx-error": "nginx-error",
  haproxy: "haproxy",
  alb: "alb",
  "app-log": "app",
};

for (const [n, c] of READER_CASES.entries()) {
  test(`fuzz ${c.name}: ${N} random and mutated lines, no throw, every line counted`, () => {
    const r = rng(0xdecaf + n);
    const lines: string[] = [];
    for (let i = 0; i < N; i++) lines.push(r() < 0.3 ? random(r) : mutate(c.good[i % c.good.length] as string, r));
    let parsed = 0;
    for (const l of lines) {
      try {
        if (c.reader.parse(l)) parsed++;
      } catch (err) {
        assert.fail(`${c.name} threw on ${JSON.stringify(l)}: ${(err as Error).message}`);
      }
    }
    assert.ok(parsed > 0, "some mutations stay valid lines");
    const kind = KIND[c.name];
    if (kind) {
      // The counting check on a fifth of them: the parse above already covered every line.
      const sample = lines.slice(0, N / 5);
      const data = emptyDataset();
      const stats = collectLines(data, kind, sample);
      const nonEmpty = sample.filter((l) => l.length > 0).length;
      // App-log lines that continue the event above them (a traceback) are counted as `continued`.
      assert.equal(stats.records + stats.garbage + stats.outOfWindow + (stats.continued ?? 0), nonEmpty);
      assert.ok(stats.garbage > 0);
    }
  });
}
