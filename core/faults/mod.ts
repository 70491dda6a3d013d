/**
 * The fault engine v2, in the manner of Toxiproxy's `toxics/`: one small
 * interface ({@linkcode FaultDefinition}), one registry
 * ({@linkcode FAULT_DEFINITIONS}), one file per fault kind, each acting at a
 * named stage. A fault is a rule: what (the kind) x probability x window
 * (first N, after N, for a duration, or a periodic schedule) x target (every
 * connection, one connection, one peer, one channel, one direction).
 *
 * Stages and who calls them, once per event each:
 *
 * - `listen` (TCP base, on every change of faults): `engine.listenPlan()`
 *   says whether to listen, refuse, go down (closing open connections) or
 *   listen without accepting.
 * - `accept` (TCP base, proxy link: once per new connection):
 *   `engine.accept(conn)`; false when a fault closed it.
 * - `bytesIn` / `bytesOut` (connection, proxy link): `engine.pipe(conn,
 *   "in" | "out", sink)` once per connection and direction, then
 *   `pipe.write(chunk)` per chunk and `pipe.end()` for the FIN; the steps of
 *   the byte faults in force run in between, faults by kind first, then the
 *   named instances (a proxy's toxics, see `engine.addInstance`) in the order
 *   added (they may delay with order kept, throttle, slice, hold, drop, or
 *   close the link by FIN or RST; `pipe.held` counts what they hold). `engine.gate(conn, what, id, bytes)` is
 *   called once per write before it is journalled (black hole).
 * - `frameIn` (connection, per decoded frame): `engine.frameIn(call)`: close
 *   after N frames, reject a login.
 * - `reply` (connection's `sendReply`, per ACK-like reply):
 *   `engine.reply(call)`: drop, NACK, corrupt, duplicate, delay, in that order.
 * - `close` (connection, proxy link: per close the server makes):
 *   `engine.closing(call)`: slow close, RST instead of FIN.
 *
 * A proxy link (upstream = client to server = `in`, downstream = server to
 * client = `out`) implements {@linkcode FaultConnection} with
 * `forwards: true` and runs one pipe per direction.
 *
 * @example A new fault file: `latency.ts`
 * ```ts ignore
 * import { z } from "zod";
 * import { DelayQueue } from "./delay_queue.ts";
 * import { defineFault } from "./fault.ts";
 * import { TARGETED_STATE_RULE_SHAPE } from "./rule.ts";
 *
 * export const latency = defineFault<"latency", { ms: number }>({
 *   kind: "latency",
 *   stage: "bytesOut",
 *   summary: "every chunk is passed on `ms` late, in order",
 *   schema: z.object({ ms: z.number().min(0), ...TARGETED_STATE_RULE_SHAPE }).strict(),
 *   hooks: {
 *     bytesOut(rule, _tools, { next }) {
 *       const queue = new DelayQueue<Uint8Array>({
 *         ordered: true,
 *         deliver: (chunks) => { for (const chunk of chunks) next.write(chunk); },
 *       });
 *       return {
 *         write: (chunk) => queue.push(performance.now() + rule.ms, chunk),
 *         stop: () => { for (const chunk of queue.clear()) next.write(chunk); },
 *       };
 *     },
 *   },
 * });
 * ```
 *
 * @module
 */
export * from "./delay_queue.ts";
export * from "./engine.ts";
export * from "./fault.ts";
export * from "./registry.ts";
export * from "./rule.ts";
export * from "./random.ts";
