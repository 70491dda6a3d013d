/**
 * The reference clients, each a library class and a CLI that speaks the
 * client-under-test contract (`docs/protocol.md`, part 2).
 *
 * @module
 */
export {
  type DeviceItem,
  type ItemKind,
  type MemoryEntry,
  type PacketKind,
  type ServerName,
  startTwoServersClient,
  TwoServersClient,
  type TwoServersClientOptions,
  type TwoServersClientState,
  twoServersContractEvent,
} from "./two_servers.ts";
export {
  FailoverAgent,
  failoverAgentContractEvent,
  FailoverAgentError,
  type FailoverAgentErrorCode,
  type FailoverAgentOptions,
  type FailoverAgentState,
  type OutgoingMessage,
  type ReceivedMessage,
} from "./failover_agent.ts";
export {
  type ActiveWatchdog,
  type ChannelEndpoint,
  type ChannelState,
  DualChannelClient,
  type DualChannelClientOptions,
  type DualChannelClientState,
  dualChannelContractEvent,
  type NetworkMask,
  onNetwork,
  parseNetworkMask,
  type Preference,
  type PreferenceOptions,
  preferredChannel,
  startDualChannelClient,
} from "./dual_channel.ts";
export {
  type ContractCommand,
  type ContractEvent,
  type ContractEventMapper,
  parseCommand,
  type RestartCommand,
  type SendCommand,
  type StopCommand,
} from "./contract.ts";
