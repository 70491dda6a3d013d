/**
 * Command lines: flag tables, parsing and help text, and the runner every
 * server's command line uses (flags, start, admin, one announced line).
 *
 * @module
 */
export * from "./cli.ts";
export * from "./option_flags.ts";
export * from "./option_values.ts";
export * from "./server_cli.ts";
