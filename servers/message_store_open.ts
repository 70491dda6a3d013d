/**
 * Opens the shared message store a `--store` flag names: `memory` (the
 * default, in this process) or a `postgres://` URL (shared by every process
 * pointed at that database). The PostgreSQL driver is loaded only when a URL
 * asks for it.
 *
 * @module
 */
import type { MessageStore } from "./message_store_interface.ts";
import { MemoryMessageStore } from "./message_store_memory.ts";
import type { PostgresMessageStoreOptions } from "./message_store_postgres.ts";

/** What `--store` accepts, for help texts. */
export const MESSAGE_STORE_SPECS =
  "memory | postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE";

/**
 * Opens a store: `memory` makes a new in-memory one; a `postgres://` (or
 * `postgresql://`) URL connects, creating the schema on first start. Throws
 * a clear error (the URL's password hidden) for anything else, or when the
 * database cannot be reached.
 *
 * @example Usage
 * ```ts ignore
 * import { openMessageStore } from "./message_store_open.ts";
 * const store = await openMessageStore("postgres://ft@127.0.0.1:5432/ft");
 * ```
 */
export async function openMessageStore(
  spec: string,
  options: PostgresMessageStoreOptions = {},
): Promise<MessageStore> {
  if (spec === "memory") return new MemoryMessageStore();
  const { PostgresMessageStore, redactDatabaseUrl } = await import(
    "./message_store_postgres.ts"
  );
  if (/^postgres(ql)?:\/\//i.test(spec)) {
    return await PostgresMessageStore.connect(spec, options);
  }
  const shown = spec.includes("://") ? redactDatabaseUrl(spec) : spec;
  throw new TypeError(
    `Cannot use the message store "${shown}": expected ${MESSAGE_STORE_SPECS}`,
  );
}
