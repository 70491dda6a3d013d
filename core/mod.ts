/**
 * The ground floor, in parts that import only downward: `net/` (addresses,
 * the proxy link) and `codecs/` (frames and codecs) and `units/` (typed
 * values) at the bottom, then `journal/`, `faults/` (the fault engine and
 * seeded randomness), `server/` (the TCP server base and the multi-listener
 * server), `admin/` (the HTTP admin API) and `cli/` (flags and the server
 * command-line runner).
 *
 * @module
 */
export * from "./net/mod.ts";
export * from "./codecs/mod.ts";
export * from "./units/mod.ts";
export * from "./journal/mod.ts";
export * from "./faults/mod.ts";
export * from "./server/mod.ts";
export * from "./admin/mod.ts";
export * from "./cli/mod.ts";
