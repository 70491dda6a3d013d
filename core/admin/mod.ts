/**
 * The HTTP admin API: the shared routes every server has (faults,
 * connections, journal, events), the routes of a multi-listener server, the
 * server-sent event stream, and serving an app over HTTP.
 *
 * @module
 */
export * from "./admin_app.ts";
export * from "./admin_guard.ts";
export * from "./admin_server.ts";
export * from "./event_stream.ts";
export * from "./metrics.ts";
export * from "./multi_listener_routes.ts";
