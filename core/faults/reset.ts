/**
 * `reset`: new connections are accepted, then reset (RST). Accept stage.
 *
 * @module
 */
import { z } from "zod";
import { defineFault, type FaultDefinition } from "./fault.ts";
import { type FaultRule, rateFlag, RULE_SHAPE } from "./rule.ts";

/** Accept new connections, then reset them. */
export const reset: FaultDefinition<"reset", FaultRule> = defineFault<
  "reset",
  FaultRule
>({
  kind: "reset",
  stage: "accept",
  summary: "new connections are accepted, then reset (RST)",
  schema: z.object(RULE_SHAPE).strict().describe(
    "Accept new connections, then reset them (RST)",
  ),
  flags: [{
    name: "reset",
    type: "string",
    value: "RATE",
    description: "Reset (RST) this share of new connections",
  }],
  fromFlags: (flags) => rateFlag(flags, "reset"),
  hooks: {
    accept(_rule, tools, conn) {
      if (tools.decide(conn)) conn.close("rst", "fault:reset");
    },
  },
});
