/**
 * The wire: frames, the line-JSON protocol's schemas, and the codecs that
 * turn bytes into frames and back (line JSON, length-prefixed, raw, Teltonika,
 * Ruptela), with the CRCs and the line splitter they use.
 *
 * @module
 */
export * from "./codec.ts";
export * from "./crc16.ts";
export * from "./device_record.ts";
export * from "./create_codec.ts";
export * from "./frame.ts";
export * from "./length_prefixed_codec.ts";
export * from "./line_json_codec.ts";
export * from "./protocol.ts";
export * from "./raw_codec.ts";
export * from "./ruptela_codec.ts";
export * from "./teltonika_codec.ts";
export * from "./text_line_stream.ts";
export * from "./utf8.ts";
