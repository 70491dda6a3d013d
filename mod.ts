/**
 * Failover toolkit: TCP test servers with fault injection, reference failover
 * clients, and a conformance runner for clients that must survive a server
 * going away.
 *
 * @example Start a primary that drops 30% of ACKs
 * ```ts ignore
 * import { startPrimaryServer } from "./mod.ts";
 * await using primary = await startPrimaryServer({ port: 0, dropAck: 0.3, seed: 7 });
 * ```
 *
 * @module
 */
export type { AdminError, AdminTarget } from "./core/admin/admin_app.ts";
export {
  METRICS_CONTENT_TYPE,
  type MetricsTarget,
  renderMetrics,
  watchFaults,
} from "./core/admin/metrics.ts";
export {
  type AdminServer,
  serveAdmin,
  type ServeAdminOptions,
} from "./core/admin/admin_server.ts";
export type {
  Codec,
  CodecOptions,
  CodecRole,
  Decoded,
  Decoder,
} from "./core/codecs/codec.ts";
export { CODEC_NAMES, createCodec } from "./core/codecs/create_codec.ts";
export {
  type CloseHow,
  Connection,
  type ConnectionHost,
  type ConnectionInfo,
} from "./core/server/connection.ts";
export {
  type ByteSink,
  type CloseCall,
  defineFault,
  DelayQueue,
  type DelayQueueOptions,
  type Direction,
  FAULT_DEFINITIONS,
  FAULT_KINDS,
  type FaultCloseHow,
  type FaultConnection,
  type FaultContext,
  type FaultDefinition,
  FaultEngine,
  type FaultEngineOptions,
  type FaultFlag,
  type FaultHooks,
  type FaultInstance,
  type FaultKind,
  FaultPipe,
  type FaultRule,
  type Faults,
  type FaultSchedule,
  type FaultsPatch,
  type FaultSubject,
  type FaultTarget,
  type FaultTools,
  type FaultWindow,
  type FlagReader,
  type FrameInCall,
  type ListenPlan,
  type PipeSetup,
  type RegisteredFault,
  type ReplyCall,
  type RuleSchema,
  type ScheduleSpan,
  type ScheduleStatus,
  type Stage,
  STAGES,
  type TransitionReason,
} from "./core/faults/mod.ts";
export {
  CORRUPT_ID_PREFIX,
  errorFrame,
  type Frame,
  type FrameError,
} from "./core/codecs/frame.ts";
export {
  type EventType,
  Journal,
  type JournalEvent,
  type JournalListener,
  type JournalOptions,
  type JournalQuery,
  type WaitOptions,
} from "./core/journal/journal.ts";
export { JournalView } from "./core/journal/journal_view.ts";
export type {
  ServerListener,
  ToolkitServer,
} from "./core/server/toolkit_server.ts";
export { lengthPrefixedCodec } from "./core/codecs/length_prefixed_codec.ts";
export {
  type ListenerContext,
  MultiListenerServer,
  type MultiListenerServerOptions,
} from "./core/server/multi_listener_server.ts";
export { MultiListenerHost } from "./core/server/multi_listener_host.ts";
export { lineJsonCodec } from "./core/codecs/line_json_codec.ts";
export { PACKET_KINDS, PROTOCOL_VERSION } from "./core/codecs/protocol.ts";
export { randomSeed, SeededRandom } from "./core/faults/random.ts";
export {
  RAW_PREVIEW_BYTES,
  rawCodec,
  type RawFrame,
} from "./core/codecs/raw_codec.ts";
export {
  type Addr,
  type ServerState,
  TcpServer,
  type TcpServerOptions,
} from "./core/server/tcp_server.ts";
export {
  type DurationRange,
  parseDuration,
  parseDurationRange,
  parseRate,
} from "./core/units/units.ts";
export {
  type HostPort,
  ipHex,
  joinHostPort,
  type NamedAddress,
  type NetworkMask,
  onNetwork,
  parseHostPort,
  parseIpv4,
  parseNamedAddress,
  parseNamedAddressList,
  parseNetworkMask,
} from "./core/net/mod.ts";
export { crc16Arc, crc16Kermit } from "./core/codecs/crc16.ts";
export type {
  DeviceIoValue,
  DevicePosition,
} from "./core/codecs/device_record.ts";
export {
  RUPTELA_COMMANDS,
  RUPTELA_RECORDS_REPLY,
  ruptelaCodec,
  type RuptelaDtc,
  type RuptelaIoElement,
  type RuptelaRecord,
  ruptelaRecordsId,
  ruptelaReplyCommand,
} from "./core/codecs/ruptela_codec.ts";
export {
  TELTONIKA_CODEC_8,
  TELTONIKA_CODEC_8E,
  teltonikaCodec,
  type TeltonikaIoElement,
  type TeltonikaRecord,
  teltonikaRecordsId,
} from "./core/codecs/teltonika_codec.ts";
export * from "./servers/mod.ts";
export * from "./clients/mod.ts";
export * from "./conformance/mod.ts";
export * from "./lab/mod.ts";
export {
  type ChunkChain,
  type ChunkSink,
  LINK_HIGH_WATER,
  LINK_STREAMS,
  type LinkBytes,
  type LinkClosed,
  type LinkCloseHow,
  type LinkEvents,
  type LinkStream,
  ProxyLink,
  type ProxyLinkOptions,
} from "./core/net/proxy_link.ts";
export {
  defineToxic,
  parseToxicAttributes,
  type ToxicAttribute,
  ToxicAttributeError,
  type ToxicAttributes,
  type ToxicDefinition,
  type ToxicOptions,
} from "./core/faults/toxic.ts";
export { TOXICS } from "./core/faults/toxics.ts";
export {
  main as proxyMain,
  NamedProxy,
  type NamedProxyOptions,
  PROXY_API_PORT,
  ProxyApiError,
  type ProxyConfig,
  type ProxyCounters,
  type ProxyHost,
  type ProxyJson,
  ProxyServer,
  type ProxyServerOptions,
  startProxyServer,
  type ToxicJson,
  type ToxicWindow,
  TOXIPROXY_VERSION,
} from "./servers/proxy.ts";
