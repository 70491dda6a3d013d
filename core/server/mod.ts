/**
 * The TCP server base: the listener lifecycle, one `Connection` per peer
 * (socket, codec, journal, reply stage), and the multi-listener server that
 * servers with several listeners compose.
 *
 * @module
 */
export * from "./connection.ts";
export * from "./multi_listener_host.ts";
export * from "./multi_listener_server.ts";
export * from "./tcp_server.ts";
export * from "./toolkit_server.ts";
