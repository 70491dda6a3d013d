/**
 * The admin routes every server of several listeners has: each listener's
 * own admin app under `/<scope>s/<name>` (`/channels/A`, `/fronts/ml1`),
 * and `/health`, `/state`, `/connections`, `/metrics`, `/journal`, `/events` for the
 * whole server, the journal routes scoped by `?<scope>=<name>`.
 *
 * @module
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import {
  addConnectionsRoute,
  addJournalRoutes,
  addStatusRoutes,
} from "./admin_app.ts";
import { addMetricsRoute } from "./metrics.ts";
import type { MultiListenerServer } from "../server/multi_listener_server.ts";
import type { TcpServer } from "../server/tcp_server.ts";

/** Options for {@linkcode addMultiListenerRoutes}. */
export interface MultiListenerRoutesOptions<L extends TcpServer> {
  /** A listener's own admin app (faults, connections, down/up). */
  listenerApp(listener: L): OpenAPIHono;
  /** The whole server's state, for `GET /state`. */
  state(): unknown;
}

/**
 * Adds the routes every server of several listeners has to `app`.
 *
 * @example Usage
 * ```ts ignore
 * const app = createApiApp();
 * addMultiListenerRoutes(app, server, {
 *   listenerApp: (listener) => createAdminApp(listener, { openapi: false }),
 *   state: () => server.state(),
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
  addStatusRoutes(app, {
    name: server.name,
    kind: server.kind,
    state: options.state,
  });
  addConnectionsRoute(
    app,
    server,
    `The open connections of every ${server.scope} (\`listener\` is the ${server.scope})`,
  );
  addMetricsRoute(app, {
    name: server.name,
    kind: server.kind,
    journal: server.journal,
    connectionInfos: () => server.connectionInfos(),
  });
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
