/**
 * Kept for importers until the message store composes the multi-listener
 * server: the view lives in `core/journal_view.ts`.
 *
 * @module
 */
export { JournalView } from "../core/journal_view.ts";
