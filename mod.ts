/**
 * Failover toolkit: TCP test servers with fault injection, reference failover
 * clients, and a conformance runner for clients that must survive a server
 * going away.
 *
 * @example Start a primary that drops 30% of ACKs
 * ```ts ignore
 * import { startPrimaryServer } from "./mod.ts";
 * await using primary = await startPrimaryServer({ port: 0, dropAck: 0.3, seed: 7 });
 * ```
 *
 * @module
 */
export * from "./core/mod.ts";
export * from "./servers/mod.ts";
