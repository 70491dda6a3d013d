/**
 * The admin routes every server of several listeners has: each listener's
 * own admin app under `/<scope>s/<name>` (`/channels/A`, `/fronts/ml1`),
 * and `/health`, `/state`, `/connections`, `/journal`, `/events` for the
 * whole server, the journal routes scoped by `?<scope>=<name>`.
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { addJournalRoutes, jsonResponse } from "./admin_app.ts";
import type { MultiListenerServer } from "./multi_listener_server.ts";
import type { TcpServer } from "./tcp_server.ts";

/** Options for {@linkcode addMultiListenerRoutes}. */
export interface MultiListenerRoutesOptions<L extends TcpServer> {
  /** A listener's own admin app (faults, connections, down/up). */
  listenerApp(listener: L): OpenAPIHono;
  /** The whole server's state, for `GET /state`. */
  state(): Record<string, unknown>;
  /** What `GET /state` answers, for the OpenAPI document. */
  stateDescription: string;
}

const AnyObject = z.record(z.string(), z.unknown());

/**
 * Adds the routes every server of several listeners has to `app`.
 *
 * @example Usage
 * ```ts ignore
 * const app = createApiApp();
 * addMultiListenerRoutes(app, server, {
 *   listenerApp: (listener) => createAdminApp(listener, { openapi: false }),
 *   state: () => server.state(),
 *   stateDescription: "Both channels' state",
 * });
 * ```
 */
export function addMultiListenerRoutes<L extends TcpServer>(
  app: OpenAPIHono,
  server: MultiListenerServer<L>,
  options: MultiListenerRoutesOptions<L>,
): void {
  for (const name of server.names) {
    app.route(
      `/${server.scope}s/${name}`,
      options.listenerApp(server.listener(name)),
    );
  }
  app.openapi(
    createRoute({
      method: "get",
      path: "/health",
      responses: {
        200: jsonResponse(
          z.object({ ok: z.boolean(), name: z.string(), kind: z.string() }),
          "The server is up",
        ),
      },
    }),
    (c) => c.json({ ok: true, name: server.name, kind: server.kind }, 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/state",
      responses: { 200: jsonResponse(AnyObject, options.stateDescription) },
    }),
    (c) => c.json(options.state(), 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/connections",
      responses: {
        200: jsonResponse(
          z.object({ connections: z.array(AnyObject) }),
          `The open connections of every ${server.scope} (\`listener\` is the ${server.scope})`,
        ),
      },
    }),
    (c) =>
      c.json(
        {
          connections: server.connectionInfos() as unknown as Record<
            string,
            unknown
          >[],
        },
        200,
      ),
  );
  addJournalRoutes(app, {
    journals: (name?: string) =>
      name === undefined
        ? [server.journal]
        : server.has(name)
        ? [server.listener(name).journal]
        : undefined,
    scope: { name: server.scope, values: () => server.names },
    signal: server.signal,
  });
}
