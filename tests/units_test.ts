import assert from "node:assert/strict";
import { SeededRandom } from "../core/faults/random.ts";
import {
  parseDuration,
  parseDurationRange,
  parseHostPort,
  parseRate,
} from "../core/units/units.ts";

Deno.test("parseRate reads percentages and fractions", () => {
  assert.equal(parseRate("30%"), 0.3);
  assert.equal(parseRate("0.3"), 0.3);
  assert.equal(parseRate("100%"), 1);
  for (const bad of ["130%", "-1", "abc", "1.5", "", "3 0%"]) {
    assert.throws(() => parseRate(bad), /Cannot parse rate/, bad);
  }
});

Deno.test("parseDuration reads ms, s, m, h and bare milliseconds", () => {
  assert.equal(parseDuration("200ms"), 200);
  assert.equal(parseDuration("1.5s"), 1500);
  assert.equal(parseDuration("2m"), 120_000);
  assert.equal(parseDuration("250"), 250);
  assert.throws(() => parseDuration("fast"), /Cannot parse duration "fast"/);
  assert.deepEqual(parseDurationRange("2s..8s"), { min: 2000, max: 8000 });
  assert.throws(() => parseDurationRange("8s..2s"), /less than the minimum/);
});

Deno.test("parseHostPort reads host:port and [v6]:port", () => {
  assert.deepEqual(parseHostPort("127.0.0.1:7000"), {
    hostname: "127.0.0.1",
    port: 7000,
  });
  assert.deepEqual(parseHostPort("[::1]:80"), { hostname: "::1", port: 80 });
  assert.throws(() => parseHostPort("nohost"), /expected host:port/);
});

Deno.test("SeededRandom gives the same stream for the same seed and name", () => {
  const a = new SeededRandom(7).derive("x");
  const b = new SeededRandom(7).derive("x");
  const c = new SeededRandom(7).derive("y");
  const first = Array.from({ length: 5 }, () => a.next());
  assert.deepEqual(first, Array.from({ length: 5 }, () => b.next()));
  assert.notDeepEqual(first, Array.from({ length: 5 }, () => c.next()));
  assert.ok(first.every((n) => n >= 0 && n < 1));
  assert.throws(() => new SeededRandom(-1), /Cannot use seed/);
});
