/**
 * The Toxiproxy 2.x HTTP API, route for route as Toxiproxy's `api.go` answers:
 * the same JSON shapes, status codes and error bodies (`{"error": "...",
 * "status": N}` sent as `text/plain`, as Go's `http.Error` sends it), and its
 * quirks (a created toxic answers 200, not 201; `/populate` with nothing
 * answers `"proxies": null`).
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { ProxyApiError } from "./_named_proxy.ts";

/** The Toxiproxy version whose API this one follows. */
export const TOXIPROXY_VERSION = "2.12.0";

/** What the Toxiproxy routes drive: the proxy server. */
export interface ToxiproxyTarget {
  /** Every proxy as JSON, by name. */
  proxiesJson(): Record<string, unknown>;
  /** One proxy as JSON; throws a 404 when there is none. */
  proxyJson(name: string): unknown;
  /** Creates a proxy from a POST /proxies body. */
  createProxyJson(body: unknown): Promise<unknown>;
  /** Creates or replaces proxies from a POST /populate body. */
  populateJson(
    body: unknown,
  ): Promise<{ proxies: unknown[]; error?: ProxyApiError }>;
  /** Updates a proxy from a POST/PATCH body. */
  updateProxyJson(name: string, body: unknown): Promise<unknown>;
  /** Deletes a proxy. */
  removeProxy(name: string): Promise<void>;
  /** A proxy's toxics. */
  toxicsJson(proxy: string): unknown[];
  /** One toxic; throws a 404 when there is none. */
  toxicJson(proxy: string, toxic: string): unknown;
  /** Adds a toxic from a POST body. */
  addToxicJson(proxy: string, body: unknown): Promise<unknown>;
  /** Updates a toxic from a POST/PATCH body. */
  updateToxicJson(
    proxy: string,
    toxic: string,
    body: unknown,
  ): Promise<unknown>;
  /** Removes a toxic. */
  removeToxic(proxy: string, toxic: string): Promise<void>;
  /** Enables every proxy and removes every toxic. */
  reset(): Promise<void>;
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/** Toxiproxy's error answer, as Go's `http.Error` writes it. */
export function apiErrorResponse(error: ProxyApiError): Response {
  return new Response(
    JSON.stringify({ error: error.message, status: error.status }) + "\n",
    {
      status: error.status,
      headers: {
        "content-type": "text/plain; charset=utf-8",
        "x-content-type-options": "nosniff",
      },
    },
  );
}

/** Reads a body as Go's JSON decoder does: any content type; empty is `EOF`. */
async function body(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") throw new ProxyApiError("bad request body: EOF", 400);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ProxyApiError(
      `bad request body: ${(error as Error).message}`,
      400,
    );
  }
}

async function answer(
  work: () => Promise<Response> | Response,
): Promise<Response> {
  try {
    return await work();
  } catch (error) {
    return apiErrorResponse(ProxyApiError.from(error));
  }
}

/**
 * The Toxiproxy routes as a Hono app: `/version`, `/proxies`, `/populate`,
 * `/proxies/{proxy}`, `/proxies/{proxy}/toxics`,
 * `/proxies/{proxy}/toxics/{toxic}` and `/reset`.
 */
export function toxiproxyRoutes(target: ToxiproxyTarget): Hono {
  const app = new Hono();
  // Toxiproxy refuses browsers (a page must not drive it behind your back).
  app.use("*", async (c, next) => {
    c.header("X-Toxiproxy-Request-Id", crypto.randomUUID());
    if ((c.req.header("user-agent") ?? "").startsWith("Mozilla/")) {
      return c.body("User agent not allowed\n", 403, {
        "content-type": "text/plain; charset=utf-8",
        "x-content-type-options": "nosniff",
      });
    }
    await next();
  });
  app.get(
    "/version",
    () =>
      new Response(`{"version": "${TOXIPROXY_VERSION}"}\n`, {
        headers: { "content-type": "application/json;charset=utf-8" },
      }),
  );
  app.post(
    "/reset",
    () =>
      answer(async () => {
        await target.reset();
        return new Response(null, { status: 204 });
      }),
  );
  app.get("/proxies", () => answer(() => json(target.proxiesJson())));
  app.post(
    "/proxies",
    (c) =>
      answer(async () =>
        json(await target.createProxyJson(await body(c)), 201)
      ),
  );
  app.post("/populate", (c) =>
    answer(async () => {
      const result = await target.populateJson(await body(c));
      const proxies = result.proxies.length > 0 ? result.proxies : null;
      if (!result.error) return json({ proxies }, 201);
      return json(
        { error: result.error.message, status: result.error.status, proxies },
        result.error.status,
      );
    }));
  app.get(
    "/proxies/:proxy",
    (c) => answer(() => json(target.proxyJson(c.req.param("proxy")))),
  );
  const updateProxy = (c: Context) =>
    answer(async () => {
      const proxy = c.req.param("proxy")!;
      target.proxyJson(proxy); // 404 before the body is read
      return json(await target.updateProxyJson(proxy, await body(c)));
    });
  app.post("/proxies/:proxy", updateProxy);
  app.patch("/proxies/:proxy", updateProxy);
  app.delete("/proxies/:proxy", (c) =>
    answer(async () => {
      await target.removeProxy(c.req.param("proxy"));
      return new Response(null, { status: 204 });
    }));
  app.get(
    "/proxies/:proxy/toxics",
    (c) => answer(() => json(target.toxicsJson(c.req.param("proxy")))),
  );
  // Toxiproxy answers a created toxic with 200, not 201.
  app.post("/proxies/:proxy/toxics", (c) =>
    answer(async () => {
      const proxy = c.req.param("proxy");
      target.proxyJson(proxy); // 404 before the body is read
      return json(await target.addToxicJson(proxy, await body(c)));
    }));
  app.get(
    "/proxies/:proxy/toxics/:toxic",
    (c) =>
      answer(() =>
        json(target.toxicJson(c.req.param("proxy"), c.req.param("toxic")))
      ),
  );
  const updateToxic = (c: Context) =>
    answer(async () => {
      const proxy = c.req.param("proxy")!;
      const toxic = c.req.param("toxic")!;
      target.toxicJson(proxy, toxic); // 404s before the body is read
      return json(await target.updateToxicJson(proxy, toxic, await body(c)));
    });
  app.post("/proxies/:proxy/toxics/:toxic", updateToxic);
  app.patch("/proxies/:proxy/toxics/:toxic", updateToxic);
  app.delete("/proxies/:proxy/toxics/:toxic", (c) =>
    answer(async () => {
      await target.removeToxic(c.req.param("proxy"), c.req.param("toxic"));
      return new Response(null, { status: 204 });
    }));
  return app;
}
