/**
 * `reset`: new connections are accepted, then reset (RST). Accept stage.
 *
 * @module
 */
import { defineFault, type FaultDefinition, rateRule } from "./fault.ts";
import type { FaultRule } from "./rule.ts";

/** Accept new connections, then reset them. */
export const reset: FaultDefinition<"reset", FaultRule> = defineFault({
  kind: "reset",
  stage: "accept",
  summary: "new connections are accepted, then reset (RST)",
  ...rateRule(
    "Accept new connections, then reset them (RST)",
    "reset",
    "Reset (RST) this share of new connections",
  ),
  hooks: {
    accept(_rule, tools, conn) {
      if (tools.decide(conn)) conn.close("rst", "fault:reset");
    },
  },
});
