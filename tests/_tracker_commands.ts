/**
 * Test helper: the timing, seed and command-line pieces the tracker
 * conformance tests share (the reference tracker, the Python example and the
 * wrong trackers all run with them).
 *
 * @module
 */
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
