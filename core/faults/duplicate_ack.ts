/**
 * `duplicateAck`: the ACK goes out twice. Reply stage.
 *
 * @module
 */
import { defineFault, type FaultDefinition, rateRule } from "./fault.ts";
import type { FaultRule } from "./rule.ts";

/** Send the ACK twice. */
export const duplicateAck: FaultDefinition<"duplicateAck", FaultRule> =
  defineFault<"duplicateAck", FaultRule>({
    kind: "duplicateAck",
    stage: "reply",
    order: 3,
    summary: "the ACK is sent twice",
    ...rateRule(
      "Send the ACK twice",
      "duplicate-ack",
      "Send this share of ACKs twice",
    ),
    hooks: {
      reply(_rule, tools, call) {
        if (tools.decide(call.conn, call.id)) call.copies = 2;
      },
    },
  });
