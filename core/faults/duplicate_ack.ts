/**
 * `duplicateAck`: the ACK goes out twice. Reply stage.
 *
 * @module
 */
import { z } from "zod";
import { defineFault, type FaultDefinition, rateFlag } from "./fault.ts";
import { type FaultRule, RULE_SHAPE } from "./rule.ts";

/** Send the ACK twice. */
export const duplicateAck: FaultDefinition<"duplicateAck", FaultRule> =
  defineFault<"duplicateAck", FaultRule>({
    kind: "duplicateAck",
    stage: "reply",
    order: 3,
    summary: "the ACK is sent twice",
    schema: z.object(RULE_SHAPE).strict().describe("Send the ACK twice"),
    ...rateFlag("duplicate-ack", "Send this share of ACKs twice"),
    hooks: {
      reply(_rule, tools, call) {
        if (tools.decide(call.conn, call.id)) call.copies = 2;
      },
    },
  });
