/**
 * The message-store fronts of an agent (QA) scenario, as the scenario drives
 * and watches them, wherever they run: in the runner's process (one
 * {@linkcode MessageStoreServer}, {@linkcode inProcessFronts}), or each in a
 * process of its own over one PostgreSQL database (`front_processes.ts`).
 *
 * @module
 */
import type {
  InjectedMessage,
  MessageStoreServer,
} from "../servers/message_store.ts";
import type { HostPort } from "../core/net/host_port.ts";
import type { ObservedJournal } from "./scenario.ts";

/** Named fronts over one shared store, driven by a scenario. */
export interface MessageFronts {
  /** Every front's events, in time order; each front event has `front`. */
  readonly journal: ObservedJournal;
  /** Where a front listens. */
  addr(front: string): HostPort;
  /**
   * Puts a message into the shared store as if another agent had sent it
   * (the recipient's primary pushes). Throws while the store is down.
   */
  inject(message: InjectedMessage): Promise<void>;
  /** Takes a front down (it stops listening and closes its connections). */
  down(front: string): Promise<void>;
  /** Brings a front back up. */
  up(front: string): Promise<void>;
  /** Takes the shared store down at every front (QA-7). */
  storeDown(): Promise<void>;
  /** Brings the shared store back at every front. */
  storeUp(): Promise<void>;
  /** Closes an agent's connections at a front, from the server side; how many. */
  closeAgent(front: string, agent: string): Promise<number>;
  /** Stops every front and lets go of the store. */
  close(): Promise<void>;
}

/** The fronts of a message-store server in this process. */
export function inProcessFronts(server: MessageStoreServer): MessageFronts {
  return {
    journal: server.journal,
    addr: (front) => server.front(front).addr,
    async inject(message) {
      await server.inject(message);
    },
    async down(front) {
      server.front(front).down();
      await server.settled();
    },
    async up(front) {
      server.front(front).up();
      await server.settled();
    },
    storeDown() {
      server.storeDown();
      return Promise.resolve();
    },
    storeUp: () => server.storeUp(),
    closeAgent(front, agent) {
      const open = server.front(front).connections().filter((c) =>
        c.tags.agent === agent
      );
      for (const connection of open) connection.close("fin", "scenario");
      return Promise.resolve(open.length);
    },
    close: () => server.close(),
  };
}
