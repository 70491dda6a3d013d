/**
 * Test helper: what the tracker conformance tests share: the timing, seed
 * and command-line pieces (the reference tracker, the Python example and the
 * wrong trackers all run with them), and the all-pass assertion and verdict
 * lines every conformance test uses, and a run of the reference clients.
 *
 * @module
 */
import assert from "node:assert/strict";
import { behavioursOf, type SuiteName } from "../conformance/catalogue.ts";
import { processClient } from "../conformance/client.ts";
import { referenceClients } from "../conformance/reference.ts";
import {
  type ConformanceOptions,
  type ConformanceResult,
  runConformance,
} from "../conformance/runner.ts";
import type { Timing } from "../conformance/scenario.ts";

/**
 * Short timing, so the whole file stays fast, with room for a loaded
 * machine: a client whose event loop stalls longer than the ACK timeout
 * would resend for real.
 */
export const TIMING: Partial<Timing> = {
  ackTimeoutMs: 400,
  reconnectDelayMs: 100,
  connectTimeoutMs: 500,
};
/** The run seed. */
export const SEED = 11;
/** This Deno, quoted for a command template. */
export const DENO = `'${Deno.execPath()}'`;
/** The tracker's endpoint flags, as placeholders. */
export const ENDPOINTS =
  "--ip1 {ip1} --port1 {port1} --ip2 {ip2} --port2 {port2}";
/** The tracker's timing flags, as placeholders. */
export const TIMING_FLAGS =
  "--ack-timeout {ackTimeoutMs}ms --resends {resends} --reconnect-delay {reconnectDelayMs}ms --connect-timeout {connectTimeoutMs}ms";

/** Every verdict, one a line, with the client's standard error. */
export function verdicts(result: ConformanceResult): string {
  return result.results.map((r) =>
    `${r.status.toUpperCase()} ${r.id} ${r.summary}${
      r.stderr ? `\n  stderr: ${r.stderr.slice(-400)}` : ""
    }`
  ).join("\n");
}

/** Asserts every check of the suite ran, in order, and passed. */
export function assertAllPass(
  result: ConformanceResult,
  suite: SuiteName,
): void {
  const ids = behavioursOf(suite).map((b) => b.id);
  assert.deepEqual(result.results.map((r) => r.id), ids);
  assert.equal(
    result.results.every((r) => r.status === "pass"),
    true,
    `expected every ${suite} check to pass:\n${verdicts(result)}`,
  );
  assert.equal(result.exitCode, 0);
}

/**
 * Runs a suite (seed {@linkcode SEED} and {@linkcode TIMING} unless given)
 * against the reference clients in this process, or with `command` against
 * the client that command template starts, as a process.
 */
export function runReference(
  options: Omit<ConformanceOptions, "client" | "clients"> & {
    command?: string;
  },
): Promise<ConformanceResult> {
  const { command, ...rest } = options;
  return runConformance({
    seed: SEED,
    timing: TIMING,
    ...rest,
    ...(command === undefined
      ? { clients: referenceClients() }
      : { client: processClient(command) }),
  });
}

/** Runs a suite as {@linkcode runReference} does and asserts every check passed. */
export async function assertReferencePasses(
  options: Parameters<typeof runReference>[0] & { suite: SuiteName },
): Promise<void> {
  assertAllPass(await runReference(options), options.suite);
}
