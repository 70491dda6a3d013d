/**
 * The fault engine's entry point: everything in `core/faults/` (the engine,
 * the rule parts, one file per fault, the registry). See
 * `core/faults/mod.ts` and `docs/faults.md`.
 *
 * @module
 */
export * from "./faults/mod.ts";
