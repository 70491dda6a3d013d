/**
 * The test servers, each a library (`startXServer`) and a CLI.
 *
 * @module
 */
export * from "./primary.ts";
