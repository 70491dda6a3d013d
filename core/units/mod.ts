/**
 * Parsing the values people type: rates (`30%`), durations (`200ms`),
 * duration ranges (`2s..8s`), integers.
 *
 * @module
 */
export * from "./units.ts";
