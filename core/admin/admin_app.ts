/**
 * The admin app every server shares (Hono, zod, OpenAPI): health, state,
 * connections, faults, journal, live events, and the OpenAPI document. A
 * server adds its own routes to the app this returns.
 *
 * @module
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { ZodError } from "zod";
import type { ConnectionInfo } from "../server/connection.ts";
import type { ServerListener } from "../server/toolkit_server.ts";
import { DEFAULT_MAX_DEPTH, jsonTooDeep } from "../codecs/codec.ts";
import { journalEventStream } from "./event_stream.ts";
import {
  FAULT_KINDS,
  type FaultKind,
  FaultsPatchSchema,
  FaultsSchema,
} from "../faults/mod.ts";
import {
  type Journal,
  type JournalQuery,
  serializableEvent,
} from "../journal/journal.ts";
import { addMetricsRoute } from "./metrics.ts";

/**
 * What the shared admin routes need of a server.
 *
 * @deprecated Use {@linkcode ServerListener}, declared beside `ToolkitServer`.
 */
export type AdminTarget = ServerListener;

/** The body of every error the admin API answers. */
export interface AdminError {
  /** A stable code: `invalid_request`, `not_found`, ... */
  error: string;
  /** What was wrong, naming the field. */
  message: string;
  /** Each problem found, with its path in the body. */
  issues?: { path: string; message: string }[];
}

function issuesOf(error: ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({
    path: issue.path.join(".") || "(body)",
    message: issue.message,
  }));
}

function invalid(c: Context, error: ZodError, where: string): Response {
  const issues = issuesOf(error);
  const body: AdminError = {
    error: "invalid_request",
    message: `Invalid ${where}: ${
      issues.map((i) => `${i.path}: ${i.message}`).join("; ")
    }`,
    issues,
  };
  return c.json(body, 400);
}

/** The default largest admin request body: 1 MiB. */
export const DEFAULT_ADMIN_MAX_BODY_BYTES = 1024 * 1024;

/** Options for {@linkcode createApiApp}. */
export interface ApiAppOptions {
  /**
   * The largest request body accepted, in bytes (default 1 MiB); a larger
   * one is answered 413 before it is read whole.
   */
  maxBodyBytes?: number;
}

/**
 * Makes an OpenAPIHono app with this project's error handling, a limit on
 * request bodies (413) and on the nesting of JSON bodies (64, a 400).
 */
export function createApiApp(options: ApiAppOptions = {}): OpenAPIHono {
  const app = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) {
        return invalid(c, result.error as ZodError, result.target);
      }
    },
  });
  const maxSize = options.maxBodyBytes ?? DEFAULT_ADMIN_MAX_BODY_BYTES;
  app.use(bodyLimit({
    maxSize,
    onError: (c) =>
      c.json(
        {
          error: "payload_too_large",
          message:
            `Cannot accept request body: larger than the limit of ${maxSize} bytes`,
        } satisfies AdminError,
        413,
      ),
  }));
  app.use(async (c, next) => {
    // JSON nested too deep for the handlers (a stack overflow is no 500,
    // nor a store outage): refused before any of them parses it.
    if (c.req.header("content-type")?.includes("json") && c.req.raw.body) {
      const text = await c.req.raw.text();
      // Whoever reads the request next (a validator, a mounted app's fetch)
      // reads it whole again.
      c.req.raw = new Request(c.req.raw, { body: text });
      if (jsonTooDeep(text, DEFAULT_MAX_DEPTH)) {
        return c.json(
          {
            error: "invalid_request",
            message:
              `Invalid body: it nests deeper than the limit of ${DEFAULT_MAX_DEPTH}`,
          } satisfies AdminError,
          400,
        );
      }
    }
    await next();
  });
  app.onError((error, c) => {
    if (error instanceof ZodError) return invalid(c, error, "value");
    if (error instanceof HTTPException) {
      const status = error.status;
      const message = error.message === "Malformed JSON in request body"
        ? "Invalid JSON in request body: cannot parse it"
        : error.message || "Request failed";
      return c.json(
        {
          error: status === 415 ? "unsupported_media_type" : "invalid_request",
          message: status === 415
            ? "Send the body as JSON with Content-Type: application/json"
            : message,
        } satisfies AdminError,
        status,
      );
    }
    return c.json(
      { error: "internal", message: String(error?.message ?? error) },
      500,
    );
  });
  app.notFound((c) =>
    c.json(
      {
        error: "not_found",
        message: `No route ${c.req.method} ${c.req.path}`,
      } satisfies AdminError,
      404,
    )
  );
  return app;
}

/** The body of every admin error, as a schema (see {@linkcode AdminError}). */
export const ErrorSchema = z.object({
  error: z.string(),
  message: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() }))
    .optional(),
}).openapi("Error");

/** An OpenAPI response with a JSON body of this schema. */
export function jsonResponse<T extends z.ZodType>(
  schema: T,
  description: string,
): { content: { "application/json": { schema: T } }; description: string } {
  return { content: { "application/json": { schema } }, description };
}

/** The 400 and 415 responses of a route that validates its input. */
export const ERROR_RESPONSES = {
  400: jsonResponse(ErrorSchema, "The request was invalid; nothing changed"),
  415: jsonResponse(ErrorSchema, "The body was not sent as application/json"),
};

// clone(): the schemas may have been built before @hono/zod-openapi added
// `.openapi` to zod (it depends on import order); a clone made now has it.
const FaultsBody = FaultsSchema.clone().openapi("Faults");
const FaultsPatchBody = FaultsPatchSchema.clone().openapi("FaultsPatch");
const faultsResponses = {
  200: jsonResponse(FaultsBody, "The faults in force"),
  ...ERROR_RESPONSES,
};
const HowSchema = z.enum(["fin", "rst", "half-close"]);

/** The query parameters of `GET /journal` and `GET /events`. */
const JournalQuerySchema = z.object({
  type: z.string().optional().openapi({
    description: "Event types, comma-separated",
  }),
  conn: z.coerce.number().int().min(1).optional(),
  id: z.string().optional(),
  since: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(100_000).optional(),
});

/** Turns admin query parameters into a journal query. */
function journalQuery(
  params: z.infer<typeof JournalQuerySchema>,
): JournalQuery {
  return {
    ...(params.type ? { type: params.type.split(",") } : {}),
    ...(params.conn !== undefined ? { conn: params.conn } : {}),
    ...(params.id !== undefined ? { id: params.id } : {}),
    ...(params.since !== undefined ? { since: params.since } : {}),
    limit: params.limit ?? 1000,
  };
}

/** Options for {@linkcode addJournalRoutes}. */
export interface JournalRoutesOptions {
  /**
   * The journals a request reads: all of them, or, with a scope value, those
   * of that part; `undefined` for a scope value that does not exist.
   */
  journals(scope?: string): Journal[] | undefined;
  /** A query parameter that picks a part (`front`, `channel`, `server`). */
  scope?: {
    /** The parameter's name. */
    name: string;
    /** The values it takes, for the error on a wrong one. */
    values(): string[];
  };
  /** Ends event streams when aborted. */
  signal: AbortSignal;
}

/**
 * Adds `GET /journal`, `DELETE /journal` and `GET /events` (server-sent
 * events) over one or more journals, optionally scoped by a query parameter
 * such as `?front=ml1`. Several journals are merged in time order.
 */
export function addJournalRoutes(
  app: OpenAPIHono,
  options: JournalRoutesOptions,
): void {
  const scope = options.scope;
  // The scope parameter is only known at run time: typed as the base query.
  const query = (scope
    ? JournalQuerySchema.extend({
      [scope.name]: z.string().optional().openapi({
        description: `Only events of this ${scope.name}`,
      }),
    })
    : JournalQuerySchema) as typeof JournalQuerySchema;
  // A request's journals (or the 404 for a wrong scope) and its filter.
  const pick = (params: Record<string, unknown>) => {
    const filter = journalQuery(params as z.infer<typeof JournalQuerySchema>);
    const value = scope ? params[scope.name] as string | undefined : undefined;
    const journals = options.journals(value);
    const error = journals ? undefined : {
      error: "not_found",
      message: `No ${scope?.name} "${value}": expected one of ${
        scope?.values().join(", ")
      }`,
    };
    return { journals: journals ?? [], filter, error };
  };
  const notFound = {
    404: jsonResponse(ErrorSchema, `No such ${scope?.name ?? "part"}`),
  };

  app.openapi(
    createRoute({
      method: "get",
      path: "/journal",
      request: { query },
      responses: {
        200: jsonResponse(
          z.object({
            events: z.array(z.record(z.string(), z.unknown())),
            lastSeq: z.number(),
          }),
          "Journal events, oldest first",
        ),
        ...ERROR_RESPONSES,
        ...notFound,
      },
    }),
    (c) => {
      const { journals, filter, error } = pick(c.req.valid("query"));
      if (error) return c.json(error, 404);
      const events = journals.length === 1
        ? journals[0].query(filter)
        : journals.flatMap((j) => j.query(filter))
          .sort((a, b) => a.time - b.time).slice(-(filter.limit ?? 1000));
      const lastSeq = Math.max(0, ...journals.map((j) => j.lastSeq));
      try {
        return c.json({ events, lastSeq }, 200);
      } catch {
        // An event JSON.stringify cannot take (nested too deep) is sent as a
        // stub saying why, not as a 500 for the whole journal.
        return c.json({ events: events.map(serializableEvent), lastSeq }, 200);
      }
    },
  );
  addClearRoute(app, "/journal", "Cleared", () => {
    const { journals } = pick({});
    let cleared = 0;
    for (const journal of journals) {
      cleared += journal.size;
      journal.clear();
    }
    return cleared;
  });
  app.openapi(
    createRoute({
      method: "get",
      path: "/events",
      request: { query: query.omit({ limit: true }) },
      responses: {
        200: {
          content: { "text/event-stream": { schema: z.string() } },
          description: "Live journal events as server-sent events",
        },
        ...ERROR_RESPONSES,
        ...notFound,
      },
    }),
    (c) => {
      const { journals, filter: { limit: _limit, ...filter }, error } = pick(
        c.req.valid("query"),
      );
      if (error) return c.json(error, 404);
      return journalEventStream(c, journals, {
        query: filter,
        signal: options.signal,
      });
    },
  );
}

/** Adds `GET /connections`: the open connections of a server. */
export function addConnectionsRoute(
  app: OpenAPIHono,
  server: { connectionInfos(): ConnectionInfo[] },
  description: string,
): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/connections",
      responses: {
        200: jsonResponse(
          z.object({ connections: z.array(z.record(z.string(), z.unknown())) }),
          description,
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
}

/**
 * Adds `DELETE <path>`: empties what the server keeps there and answers
 * `{cleared: n}`, n being what `clear` returns (how many entries it held).
 *
 * @example Usage
 * ```ts ignore
 * import { addClearRoute, createAdminApp } from "./admin_app.ts";
 * const app = createAdminApp(secondary);
 * addClearRoute(app, "/records", "The record log is empty", () => secondary.clearReceived());
 * ```
 */
export function addClearRoute(
  app: OpenAPIHono,
  path: string,
  description: string,
  clear: () => number,
): void {
  app.openapi(
    createRoute({
      method: "delete",
      path,
      responses: {
        200: jsonResponse(z.object({ cleared: z.number() }), description),
      },
    }),
    (c) => c.json({ cleared: clear() }, 200),
  );
}

/**
 * Adds `GET /health` (`{ok, name, kind}`) and `GET /state` (what `state()`
 * returns) to an app.
 */
export function addStatusRoutes(
  app: OpenAPIHono,
  server: {
    readonly name: string;
    readonly kind: string;
    state(): unknown;
  },
): void {
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
      responses: {
        200: jsonResponse(
          z.record(z.string(), z.unknown()),
          "The server's state",
        ),
      },
    }),
    (c) => c.json(server.state() as Record<string, unknown>, 200),
  );
}

/** Options for {@linkcode createAdminApp}. */
export interface AdminAppOptions {
  /** Adds the OpenAPI document at `/openapi.json` (default true). */
  openapi?: boolean;
}

/**
 * Makes the admin app of one server: the shared routes. Add a server's own
 * routes to what it returns; mount it under `/servers/<name>` with `.route()`
 * in a process with several servers.
 *
 * @example Usage
 * ```ts ignore
 * import { createAdminApp } from "./admin_app.ts";
 * const app = createAdminApp(primary);
 * await app.request("/faults", {
 *   method: "PUT",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ dropAck: { probability: 0.3 } }),
 * });
 * ```
 */
export function createAdminApp(
  server: ServerListener,
  options: AdminAppOptions = {},
): OpenAPIHono {
  const app = createApiApp();
  /** Makes a change, then waits until the listener matches it. */
  const change = async (how: () => void) => {
    how();
    await server.settled?.();
  };
  /** Makes a change of faults; answers the faults in force after it. */
  const changeFaults = async (c: Context, how: () => void) => {
    await change(how);
    return c.json(server.faults.get(), 200);
  };
  /** Makes a change of the listener; answers the server's state after it. */
  const changeState = async (c: Context, how: () => void) => {
    await change(how);
    return c.json(server.state() as Record<string, unknown>, 200);
  };

  addStatusRoutes(app, server);

  addConnectionsRoute(app, server, "The open connections");

  app.openapi(
    createRoute({
      method: "post",
      path: "/connections/{id}/close",
      request: {
        params: z.object({ id: z.coerce.number().int().min(1) }),
        query: z.object({ how: HowSchema.optional() }),
      },
      responses: {
        200: jsonResponse(
          z.object({ closed: z.number(), how: HowSchema }),
          "Closing",
        ),
        404: jsonResponse(ErrorSchema, "No such connection"),
        ...ERROR_RESPONSES,
      },
    }),
    (c) => {
      const { id } = c.req.valid("param");
      const how = c.req.valid("query").how ?? "fin";
      const connection = server.connection(id);
      if (!connection) {
        return c.json(
          { error: "not_found", message: `No open connection ${id}` },
          404,
        );
      }
      connection.close(how, "admin");
      return c.json({ closed: id, how }, 200);
    },
  );

  const faultsRoute = (method: "get" | "delete") =>
    createRoute({ method, path: "/faults", responses: faultsResponses });
  const withBody = <T extends z.ZodType>(method: "put" | "patch", schema: T) =>
    createRoute({
      method,
      path: "/faults",
      request: {
        body: {
          required: true,
          content: { "application/json": { schema } },
        },
      },
      responses: faultsResponses,
    });

  app.openapi(faultsRoute("get"), (c) => c.json(server.faults.get(), 200));
  app.openapi(
    withBody("put", FaultsBody),
    (c) => changeFaults(c, () => server.faults.set(c.req.valid("json"))),
  );
  app.openapi(
    withBody("patch", FaultsPatchBody),
    (c) =>
      changeFaults(
        c,
        () => server.faults.patch(c.req.valid("json")),
      ),
  );
  app.openapi(
    faultsRoute("delete"),
    (c) => changeFaults(c, () => server.faults.clear()),
  );
  app.openapi(
    createRoute({
      method: "delete",
      path: "/faults/{kind}",
      request: {
        params: z.object({
          kind: z.enum(FAULT_KINDS as [FaultKind, ...FaultKind[]]),
        }),
      },
      responses: faultsResponses,
    }),
    (c) =>
      changeFaults(c, () => server.faults.clear(c.req.valid("param").kind)),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/down",
      request: {
        query: z.object({ how: z.enum(["fin", "rst"]).optional() }),
      },
      responses: {
        200: jsonResponse(z.record(z.string(), z.unknown()), "Down"),
        ...ERROR_RESPONSES,
      },
    }),
    (c) => changeState(c, () => server.down(c.req.valid("query").how ?? "fin")),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/up",
      responses: { 200: jsonResponse(z.record(z.string(), z.unknown()), "Up") },
    }),
    (c) => changeState(c, () => server.up()),
  );

  addJournalRoutes(app, {
    journals: () => [server.journal],
    signal: server.signal,
  });
  addMetricsRoute(app, server);

  if (options.openapi !== false) {
    app.doc("/openapi.json", {
      openapi: "3.0.0",
      info: {
        title: `${server.kind} admin API`,
        version: "1",
        description:
          "Faults, connections and journal of one failover-toolkit test server",
      },
    });
  }
  return app;
}
