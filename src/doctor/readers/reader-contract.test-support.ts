/**
 * The contract every log reader keeps (run on each by readers.contract.test.ts and the fuzz
 * test): it never throws, returns null for garbage, and turns its own recorded lines into records
 * with a time and the reader's kind. Exported for tests; not part of the doctor's public face.
 */
import assert from "node:assert/strict";
import { albReader } from "./alb.js";
import { appLogReader } from "./app-log.js";
import { haproxyReader } from "./haproxy.js";
import { nginxAccessReader } from "./nginx-access.js";
import { nginxErrorReader } from "./nginx-error.js";
import type { LogReader } from "./reader.js";

/** A reader with lines it must accept. */
export interface ReaderCase {
  name: string;
  reader: LogReader<{ time: number }>;
  good: string[];
}

const GARBAGE = [
  "",
  " ",
  "-",
  "\u0000\u0001\u0002",
  "{",
  "[]",
  "null",
  '{"time": "yesterday"}',
  "GET / HTTP/1.1",
  "2026/13/45 99:99:99 [error] broken",
  "a".repeat(10_000),
  "\ud800\udfff\ufffd",
  '"""""""""',
  "[[[[[[[[",
];

/** Asserts the contract for one reader. */
export function checkReaderContract(c: ReaderCase): void {
  for (const g of c.good) {
    const r = c.reader.parse(g);
    assert.ok(r, `${c.name} must read its own line: ${g.slice(0, 120)}`);
    assert.equal(typeof r.time, "number");
    assert.ok("source" in r && (r as { source: string }).source.length > 0);
  }
  for (const g of GARBAGE) assert.equal(c.reader.parse(g), null, `${c.name} must reject garbage ${JSON.stringify(g.slice(0, 40))}`);
  for (const g of c.good) {
    for (let cut = 0; cut < g.length; cut += Math.max(1, Math.floor(g.length / 17))) {
      assert.doesNotThrow(() => c.reader.parse(g.slice(0, cut)));
      assert.doesNotThrow(() => c.reader.parse(g.slice(cut)));
    }
  }
}

/** Every reader with recorded lines of its kind. */
export const READER_CASES: ReaderCase[] = [
  {
    name: "nginx-access (combined)",
    reader: nginxAccessReader(),
    good: [
      '10.0.3.17 - - [24/Nov/2026:14:02:03 +0000] "POST /api/checkout HTTP/1.1" 502 157 "https://shop.example.com/cart" "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) Safari/605.1.15"',
      '10.0.4.9 - - [24/Nov/2026:14:02:36 +0000] "-" 400 0 "-" "-"',
    ],
  },
  {
    name: "nginx-access (upstream timings)",
    reader: nginxAccessReader('$remote_addr [$time_local] "$request" $status $upstream_status $upstream_response_time $request_time $request_id'),
    good: ['127.0.0.1 [24/Nov/2026:14:02:03 +0000] "GET /slow HTTP/1.1" 504 504 1.001 1.002 7d3f0c2a9b8e4d61a0f5c3b2e1d4a697'],
  },
  {
    name: "nginx-error",
    reader: nginxErrorReader,
    good: [
      '2026/11/24 14:02:03 [error] 31#31: *1873 upstream prematurely closed connection while reading response header from upstream, client: 10.0.3.17, server: _, request: "POST /api/checkout HTTP/1.1", upstream: "http://127.0.0.1:3000/api/checkout", host: "shop.example.com"',
    ],
  },
  {
    name: "haproxy",
    reader: haproxyReader,
    good: [
      'Nov 24 14:02:03 lb1 haproxy[2201]: 10.0.3.17:51234 [24/Nov/2026:14:02:03.481] www~ app/app1 0/0/0/-1/2 502 209 - - SH-- 12/12/3/1/0 0/0 "POST /api/checkout HTTP/1.1"',
    ],
  },
  {
    name: "alb",
    reader: albReader,
    good: [
      'http 2026-11-24T14:02:03.481296Z app/shop-prod/50dc6c495c0c9188 10.0.3.17:51234 10.0.1.12:3000 0.000 -1 -1 502 - 612 277 "POST http://shop.example.com:80/api/checkout HTTP/1.1" "curl/8.5.0" - - arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop/73e2d6bc24d8a067 "Root=1-6743a2b3-36d228ad5d99923122bbe354" "-" "-" 0 2026-11-24T14:02:03.479000Z "forward" "-" "-" "10.0.1.12:3000" "-" "-" "-"',
    ],
  },
  {
    name: "app-log",
    reader: appLogReader,
    good: [
      '{"level":"warn","time":"2026-11-24T14:02:03.123Z","pid":4100,"event":"worker.timeout","workerId":2,"workerPid":4121,"heartbeatAgeMs":30012,"msg":"killing"}',
      "[2026-11-24 14:02:03 +0000] [4100] [CRITICAL] WORKER TIMEOUT (pid:4121)",
    ],
  },
];
