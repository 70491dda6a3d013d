/**
 * The ground floor: frames and codecs, seeded randomness, the journal, the
 * fault engine, the TCP server base, the admin app and the CLI flags.
 *
 * @module
 */
export * from "./admin_app.ts";
export * from "./admin_server.ts";
export * from "./cli.ts";
export * from "./codec.ts";
export * from "./codecs.ts";
export * from "./connection.ts";
export * from "./crc16.ts";
export * from "./event_stream.ts";
export * from "./faults.ts";
export * from "./frame.ts";
export * from "./journal.ts";
export * from "./length_prefixed_codec.ts";
export * from "./line_json_codec.ts";
export * from "./metrics.ts";
export * from "./protocol.ts";
export * from "./random.ts";
export * from "./raw_codec.ts";
export * from "./ruptela_codec.ts";
export * from "./server_cli.ts";
export * from "./tcp_server.ts";
export * from "./teltonika_codec.ts";
export * from "./units.ts";
export * from "./text_line_stream.ts";
