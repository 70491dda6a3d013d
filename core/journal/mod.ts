/**
 * The journal: every server's ordered, bounded log of typed events, and a
 * view of a shared journal for one listener of a server with several.
 *
 * @module
 */
export * from "./journal.ts";
export * from "./journal_view.ts";
