/**
 * The message-store server's admin app: each front's shared routes under
 * `/fronts/<name>`, the shared store's routes (`POST /messages`, `GET
 * /store`, `POST /store/down|up`) and the whole server's `/health`,
 * `/state`, `/connections`, `/journal`, `/events`, `/openapi.json`.
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import {
  createApiApp,
  ERROR_RESPONSES,
  ErrorSchema,
  jsonResponse,
} from "../core/admin/admin_app.ts";
import type { ConnectionInfo } from "../core/server/connection.ts";
import { addMultiListenerRoutes } from "../core/admin/multi_listener_routes.ts";
import type { MultiListenerServer } from "../core/server/multi_listener_server.ts";
import type { TcpServer } from "../core/server/tcp_server.ts";
import type { Journal } from "../core/journal/journal.ts";
import {
  type StoredMessage,
  StoreUnavailableError,
} from "./message_store_interface.ts";

/** What the admin app needs of the message-store server. */
export interface MessageStoreAdminTarget {
  /** The server's name. */
  readonly name: string;
  /** Its kind. */
  readonly kind: string;
  /** The shared journal. */
  readonly journal: Journal;
  /** Aborted once the server closes. */
  readonly signal: AbortSignal;
  /** Whether the store can be used now. */
  readonly storeAvailable: boolean;
  /** The fronts, as one multi-listener server. */
  readonly listeners: MultiListenerServer<
    TcpServer & { adminApp(options: { openapi?: boolean }): OpenAPIHono }
  >;
  /** The state of the whole server. */
  state(): object;
  /** Every open connection. */
  connectionInfos(): ConnectionInfo[];
  /** Puts a message into the store. */
  inject(message: {
    to: string;
    from?: string;
    body?: unknown;
    id?: string;
  }): Promise<{ stored: boolean; message: StoredMessage }>;
  /** Every waiting message. */
  messages(): Promise<StoredMessage[]>;
  /** Takes the store down (simulated). */
  storeDown(): void;
  /** Brings it back. */
  storeUp(): Promise<void>;
}

const StoredMessageSchema = z.object({
  id: z.string(),
  to: z.string(),
  from: z.string(),
  body: z.unknown().optional(),
  storedAt: z.number(),
}).openapi("StoredMessage");

const InjectBody = z.object({
  to: z.string().min(1).max(256).describe("The agent it is for"),
  from: z.string().min(1).max(256).optional().describe(
    "Who it is from (default admin)",
  ),
  body: z.unknown().optional().describe("Its body"),
  id: z.string().min(1).max(256).optional().describe(
    "Its id (default admin-1, admin-2, ...)",
  ),
}).strict();

const StoreBody = z.object({
  available: z.boolean(),
  messages: z.array(StoredMessageSchema),
});

const unavailable = {
  503: jsonResponse(ErrorSchema, "The store is down"),
};

function storeUnavailable(error: unknown): {
  error: string;
  message: string;
} {
  if (!(error instanceof StoreUnavailableError)) throw error;
  return { error: "store_unavailable", message: error.message };
}

/** Makes the admin app of a message-store server. */
export function messageStoreAdminApp(
  server: MessageStoreAdminTarget,
): OpenAPIHono {
  const app = createApiApp();
  addMultiListenerRoutes(app, server.listeners, {
    listenerApp: (front) => front.adminApp({ openapi: false }),
    state: () => server.state(),
  });

  app.openapi(
    createRoute({
      method: "post",
      path: "/messages",
      description:
        "Put a message into the shared store for an agent, as if another agent had sent it; pushes to the agent on its primary",
      request: {
        body: {
          required: true,
          content: { "application/json": { schema: InjectBody } },
        },
      },
      responses: {
        201: jsonResponse(
          z.object({ stored: z.boolean(), message: StoredMessageSchema }),
          "Stored (stored is false when that id already waited for the agent)",
        ),
        ...ERROR_RESPONSES,
        ...unavailable,
      },
    }),
    async (c) => {
      try {
        const result = await server.inject(c.req.valid("json"));
        return c.json(result, 201);
      } catch (error) {
        return c.json(storeUnavailable(error), 503);
      }
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/store",
      responses: {
        200: jsonResponse(
          StoreBody,
          "Every message waiting in the shared store",
        ),
        ...unavailable,
      },
    }),
    async (c) => {
      try {
        const messages = await server.messages();
        return c.json({ available: true, messages }, 200);
      } catch (error) {
        return c.json(storeUnavailable(error), 503);
      }
    },
  );
  for (const [path, change] of [["down", false], ["up", true]] as const) {
    app.openapi(
      createRoute({
        method: "post",
        path: `/store/${path}`,
        description: change
          ? "Bring the shared store back; agents on their primary with messages waiting get a push"
          : "Take the shared store down: every front answers store_unavailable (QA-7)",
        responses: {
          200: jsonResponse(
            z.object({ available: z.boolean() }),
            "The store's availability after the change",
          ),
        },
      }),
      async (c) => {
        if (change) await server.storeUp();
        else server.storeDown();
        return c.json({ available: server.storeAvailable }, 200);
      },
    );
  }

  app.doc("/openapi.json", {
    openapi: "3.0.0",
    info: {
      title: "message-store admin API",
      version: "1",
      description:
        "Fronts, shared message store, faults, connections and journal of a failover-toolkit message-store server",
    },
  });
  return app;
}
