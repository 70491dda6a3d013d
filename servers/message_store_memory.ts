/**
 * The in-memory implementation of the shared server-side message store of
 * the message-store server (QA behaviours). Messages live as long as the
 * process.
 *
 * @module
 */
import type {
  DeliverableOptions,
  MessageStore,
  StoredMessage,
} from "./message_store_interface.ts";

/**
 * A {@linkcode MessageStore} in memory. Messages wait per recipient, in the
 * order they were stored; an acknowledged message is gone, and its id is
 * remembered so that the same message sent again (its ACK was lost) is not
 * stored a second time. An agent's messages go to its newest connection
 * only (see {@linkcode MessageStore.deliverable}).
 *
 * @example Usage
 * ```ts
 * import { MemoryMessageStore } from "./message_store_memory.ts";
 * const store = new MemoryMessageStore();
 * await store.put({ id: "m1", to: "bob", from: "alice", body: "hi", storedAt: Date.now() });
 * await store.pending("bob"); // [{ id: "m1", ... }]
 * await store.ack("bob", "m1"); // true
 * ```
 */
export class MemoryMessageStore implements MessageStore {
  /** Every waiting message, in the order stored, by recipient and id. */
  #waiting = new Map<string, StoredMessage>();
  /** The keys of acknowledged messages. */
  #acked = new Set<string>();
  /** Each agent's current connection (its newest `hello`). */
  #holders = new Map<string, string>();

  /** Always true: memory does not go away (the server simulates outages). */
  get available(): boolean {
    return true;
  }

  put(message: StoredMessage): Promise<boolean> {
    const key = keyOf(message.to, message.id);
    if (this.#waiting.has(key) || this.#acked.has(key)) {
      return Promise.resolve(false);
    }
    this.#waiting.set(key, structuredClone(message));
    return Promise.resolve(true);
  }

  pending(agent: string): Promise<StoredMessage[]> {
    return this.#select((message) => message.to === agent);
  }

  deliverable(
    agent: string,
    holder: string,
    options: DeliverableOptions,
  ): Promise<StoredMessage[]> {
    if (options.attach) {
      // Re-inserted so that the map stays in least-recently-attached order.
      this.#holders.delete(agent);
      this.#holders.set(agent, holder);
    } else if (this.#holders.get(agent) !== holder) {
      return Promise.resolve([]);
    }
    return this.pending(agent);
  }

  ack(agent: string, id: string): Promise<boolean> {
    const key = keyOf(agent, id);
    if (!this.#waiting.delete(key)) return Promise.resolve(false);
    this.#acked.add(key);
    return Promise.resolve(true);
  }

  list(): Promise<StoredMessage[]> {
    return this.#select(() => true);
  }

  #select(
    predicate: (message: StoredMessage) => boolean,
  ): Promise<StoredMessage[]> {
    return Promise.resolve(
      [...this.#waiting.values()].filter(predicate).map((message) =>
        structuredClone(message)
      ),
    );
  }
}

function keyOf(agent: string, id: string): string {
  return JSON.stringify([agent, id]);
}
