/**
 * `duplicateAck`: the ACK goes out twice. Reply stage.
 *
 * @module
 */
import { z } from "zod";
import { defineFault, type FaultDefinition } from "./fault.ts";
import { type FaultRule, rateFlag, RULE_SHAPE } from "./rule.ts";

/** Send the ACK twice. */
export const duplicateAck: FaultDefinition<"duplicateAck", FaultRule> =
  defineFault<"duplicateAck", FaultRule>({
    kind: "duplicateAck",
    stage: "reply",
    order: 3,
    summary: "the ACK is sent twice",
    schema: z.object(RULE_SHAPE).strict().describe("Send the ACK twice"),
    flags: [{
      name: "duplicate-ack",
      type: "string",
      value: "RATE",
      description: "Send this share of ACKs twice",
    }],
    fromFlags: (flags) => rateFlag(flags, "duplicate-ack"),
    hooks: {
      reply(_rule, tools, call) {
        if (tools.decide(call.conn, call.id)) call.copies = 2;
      },
    },
  });
