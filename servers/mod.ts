/**
 * The test servers, each a library (`startXServer`) and a CLI
 * (`deno run -A servers/x.ts --help`).
 *
 * @module
 */
export {
  PRIMARY_ADMIN_PORT,
  PRIMARY_PORT,
  PrimaryServer,
  type PrimaryServerOptions,
  startPrimaryServer,
} from "./primary.ts";
export {
  type ReceivedQuery,
  type ReceivedRecord,
  type RecordCounts,
  SECONDARY_ADMIN_PORT,
  SECONDARY_PORT,
  SecondaryServer,
  type SecondaryServerOptions,
  startSecondaryServer,
} from "./secondary.ts";
export {
  SILENT_ADMIN_PORT,
  SILENT_MODES,
  SILENT_PORT,
  type SilentMode,
  SilentServer,
  type SilentServerOptions,
  type SilentServerState,
  type SilentWait,
  type SilentWaitEnd,
  startSilentServer,
} from "./silent.ts";
export {
  type FrontFrameHandler,
  type FrontOptions,
  type InjectedMessage,
  type InjectResult,
  MESSAGE_STORE_ADMIN_PORT,
  MESSAGE_STORE_FRONTS,
  MessageFront,
  type MessageFrontOptions,
  type MessageStore,
  MessageStoreServer,
  type MessageStoreServerOptions,
  type MessageStoreState,
  startMessageStoreServer,
  startMessageStoreServerAt,
  type StoredMessage,
  StoreUnavailableError,
} from "./message_store.ts";
export { MemoryMessageStore } from "./message_store_memory.ts";
export type {
  DeliverableOptions,
  MessageStoreWatcher,
} from "./message_store_interface.ts";
export { MESSAGE_STORE_SPECS, openMessageStore } from "./message_store_open.ts";
export {
  MESSAGE_STORED_CHANNEL,
  PostgresMessageStore,
  type PostgresMessageStoreOptions,
  redactDatabaseUrl,
} from "./message_store_postgres.ts";
export {
  createScratchDatabase,
  type ScratchDatabase,
} from "./postgres_scratch_database.ts";
export {
  type Channel,
  type ChannelOptions,
  CHANNELS,
  EchoChannel,
  type ReplyKind,
  startWatchdogEchoServer,
  WATCHDOG_ECHO_ADMIN_PORT,
  WATCHDOG_ECHO_HOSTS,
  WATCHDOG_ECHO_PORT,
  WatchdogEchoServer,
  type WatchdogEchoServerOptions,
  type WatchdogEchoState,
} from "./watchdog_echo.ts";
export {
  DOWN_MODES,
  type DownMode,
  FLAPPING_ADMIN_PORT,
  FLAPPING_PORT,
  FlappingServer,
  type FlappingServerOptions,
  type FlappingServerState,
  type FlapSchedule,
  type FlapState,
  type FlapStatus,
  startFlappingServer,
} from "./flapping.ts";
