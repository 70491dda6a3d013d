/**
 * Every built-in scenario, one per behaviour ID.
 *
 * @module
 */
import type { Scenario } from "../scenario.ts";
import { AGENT_SCENARIOS } from "./agent.ts";
import { DUAL_CHANNEL_SCENARIOS } from "./dual_channel.ts";
import { FAILOVER_SCENARIOS } from "./failover.ts";
import { TWO_SERVERS_SCENARIOS } from "./two_servers.ts";

/** The built-in scenarios. */
export const SCENARIOS: readonly Scenario[] = [
  ...TWO_SERVERS_SCENARIOS,
  ...FAILOVER_SCENARIOS,
  ...DUAL_CHANNEL_SCENARIOS,
  ...AGENT_SCENARIOS,
];
