/**
 * The lab's admin app: the dashboard, every server's summary and own routes,
 * the topology and traffic, the merged journals, the live chart and the
 * failover figures.
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import {
  addJournalRoutes,
  createApiApp,
  ErrorSchema,
  jsonResponse,
} from "../core/admin/admin_app.ts";
import type { Journal } from "../core/journal/journal.ts";
import { chartSvg } from "./chart.ts";
import type {
  ClientTotals,
  FailoverAnalysis,
  FailoverOptions,
} from "./figures.ts";
import type { Topology } from "./topology.ts";
import type { LabServer, LabServerSummary, LabTraffic } from "./types.ts";

/** What the admin app needs of a lab (a {@linkcode Lab} is one). */
export interface LabAppHost {
  /** The topology it runs. */
  readonly topology: Topology;
  /** The run seed. */
  readonly seed: number;
  /** Where the topology came from. */
  readonly source?: string;
  /** Aborted once the lab closes: event streams end on it. */
  readonly signal: AbortSignal;
  /** The running servers, by name. */
  readonly servers: ReadonlyMap<string, LabServer>;
  /** Every journal of the lab. */
  journals(): Journal[];
  /** What a server's card shows. */
  summary(name: string): LabServerSummary | undefined;
  /** What every server's card shows. */
  summaries(): LabServerSummary[];
  /** The traffic clients' state. */
  traffic(): LabTraffic;
  /** Starts the traffic clients. */
  startTraffic(): Promise<void>;
  /** Stops the traffic clients. */
  stopTraffic(): Promise<void>;
  /** The failover figures so far. */
  figures(options?: FailoverOptions): FailoverAnalysis;
}

/** The live window the dashboard charts by default, in seconds. */
const LIVE_WINDOW_S = 60;

/**
 * Servers (or their listeners) that see no traffic because their clients
 * moved away (after a failover, FO-3): source -> one line saying who went
 * where and when.
 */
function idleSources(
  figures: FailoverAnalysis,
): Record<string, string> {
  const idle: Record<string, string> = {};
  const open = new Set(
    figures.connections.filter((c) => c.closedMs === undefined).map((c) =>
      c.source
    ),
  );
  for (const series of figures.sources) {
    if (open.has(series.source)) continue;
    const gone = figures.clients.filter((client: ClientTotals) =>
      client.on !== undefined && client.on !== series.source &&
      figures.switches.findLast((s) =>
          s.client === client.client &&
          (s.from === series.source || s.to === series.source)
        )?.from === series.source
    );
    if (gone.length === 0) continue;
    idle[series.source] = `No traffic: ${
      gone.map((client) => {
        const moved = figures.switches.findLast((s) =>
          s.client === client.client && s.from === series.source
        )!;
        const ago = Math.max(
          0,
          Math.round((figures.endMs - moved.atMs) / 1000),
        );
        return `${client.client} moved to ${client.on} ${ago}s ago`;
      }).join(", ")
    } (clients stay where they failed over, FO-3)`;
  }
  return idle;
}

const DASHBOARD_FILES: Record<string, string> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
};

async function dashboardFile(name: string): Promise<Response> {
  const response = await fetch(new URL(`./dashboard/${name}`, import.meta.url));
  return new Response(response.body, {
    status: response.status,
    headers: {
      "content-type": DASHBOARD_FILES[name],
      "cache-control": "no-store",
    },
  });
}

const AnyObject = z.record(z.string(), z.unknown());
const NameParam = z.object({
  name: z.string().openapi({
    param: { name: "name", in: "path" },
    description: "The server's name in the topology",
  }),
});

/**
 * Makes the lab's admin app (a Hono `OpenAPIHono`): the dashboard at `/`,
 * `GET /servers`, `GET /servers/<name>` and each server's own routes under
 * it, `GET /lab`, `POST /lab/traffic/start|stop`, `GET|DELETE /journal`
 * and `GET /events` (every journal, merged; `?server=a,b` picks some),
 * `GET /openapi.json`.
 *
 * @ignore
 */
export function createLabApp(lab: LabAppHost): OpenAPIHono {
  const app = createApiApp();

  app.get("/", () => dashboardFile("index.html"));
  for (const name of Object.keys(DASHBOARD_FILES)) {
    app.get(`/dashboard/${name}`, () => dashboardFile(name));
  }

  app.openapi(
    createRoute({
      method: "get",
      path: "/servers",
      responses: {
        200: jsonResponse(
          z.object({ servers: z.array(AnyObject) }),
          "Every server: kind, addresses, connections, counters, faults",
        ),
      },
    }),
    (c) =>
      c.json(
        {
          servers: lab.summaries() as unknown as Record<string, unknown>[],
        },
        200,
      ),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/servers/{name}",
      request: { params: NameParam },
      responses: {
        200: jsonResponse(AnyObject, "One server"),
        404: jsonResponse(ErrorSchema, "No such server"),
      },
    }),
    (c) => {
      const { name } = c.req.valid("param");
      const summary = lab.summary(name);
      if (!summary) {
        return c.json({
          error: "not_found",
          message: `No server named "${name}"`,
        }, 404);
      }
      return c.json(summary as unknown as Record<string, unknown>, 200);
    },
  );
  for (const [name, server] of lab.servers) {
    app.route(`/servers/${name}`, server.adminApp());
  }

  const labBody = () => ({
    name: lab.topology.name ?? null,
    description: lab.topology.description ?? null,
    seed: lab.seed,
    source: lab.source ?? null,
    topology: lab.topology as unknown as Record<string, unknown>,
    servers: [...lab.servers.keys()],
    traffic: lab.traffic() as unknown as Record<string, unknown>,
  });
  const LabSchema = z.object({
    name: z.string().nullable(),
    description: z.string().nullable(),
    seed: z.number(),
    source: z.string().nullable(),
    topology: AnyObject,
    servers: z.array(z.string()),
    traffic: AnyObject,
  });
  app.openapi(
    createRoute({
      method: "get",
      path: "/lab",
      responses: {
        200: jsonResponse(
          LabSchema,
          "The topology, the seed, the traffic clients",
        ),
      },
    }),
    (c) => c.json(labBody(), 200),
  );
  const trafficSwitches = [
    ["start", "The traffic clients, running", () => lab.startTraffic()],
    ["stop", "The traffic clients, stopped", () => lab.stopTraffic()],
  ] as const;
  for (const [action, description, run] of trafficSwitches) {
    app.openapi(
      createRoute({
        method: "post",
        path: `/lab/traffic/${action}`,
        responses: { 200: jsonResponse(AnyObject, description) },
      }),
      async (c) => {
        await run();
        return c.json(lab.traffic() as unknown as Record<string, unknown>, 200);
      },
    );
  }

  const FiguresQuery = z.object({
    window: z.coerce.number().min(5).max(3600).optional().openapi({
      description: `Seconds of the rolling window (default ${LIVE_WINDOW_S})`,
    }),
  });
  app.openapi(
    createRoute({
      method: "get",
      path: "/lab/figures",
      request: { query: FiguresQuery },
      responses: {
        200: jsonResponse(
          AnyObject,
          "The live failover figures: a chart (SVG) per server over the window, each client's last failover, the newest transitions, servers left idle by a failover",
        ),
      },
    }),
    (c) => {
      const windowMs = (c.req.valid("query").window ?? LIVE_WINDOW_S) * 1000;
      const now = performance.now();
      const figures = lab.figures({
        origin: now - windowMs,
        until: now,
        bucketMs: Math.max(500, Math.round(windowMs / 60)),
      });
      const idle = idleSources(figures);
      return c.json({
        windowMs,
        charts: figures.sources.map((series) => ({
          source: series.source,
          svg: chartSvg(figures, series, {
            width: 560,
            height: 130,
            ago: true,
          }),
          ...(idle[series.source] ? { idle: idle[series.source] } : {}),
        })),
        clients: figures.clients.map(({ last, ...client }) => ({
          ...client,
          ...(last
            ? {
              last: {
                ...last,
                agoMs: Math.round(figures.endMs - last.atMs),
                evidence: undefined,
              },
            }
            : {}),
        })),
        transitions: figures.transitions.slice(-20).map((
          { clients, ...t },
        ) => ({
          ...t,
          agoMs: Math.round(figures.endMs - t.atMs),
          clients: clients.map(({ evidence: _, ...rest }) => rest),
        })),
        idle,
        totals: figures.totals,
      } as Record<string, unknown>, 200);
    },
  );

  // `?server=` takes a comma-separated list; an unknown name matches nothing.
  addJournalRoutes(app, {
    journals: (servers) => {
      if (servers === undefined) return lab.journals();
      const names = servers.split(",");
      return lab.journals().filter((journal) => names.includes(journal.server));
    },
    scope: {
      name: "server",
      values: () => lab.journals().map((journal) => journal.server),
    },
    signal: lab.signal,
  });

  app.doc("/openapi.json", {
    openapi: "3.0.0",
    info: {
      title: "failover-toolkit lab API",
      version: "1",
      description:
        "Every server of a lab (each server's own admin API under /servers/{name}), the traffic clients and the merged live events",
    },
  });
  return app;
}
