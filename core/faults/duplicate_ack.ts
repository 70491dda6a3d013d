/**
 * `duplicateAck`: the ACK goes out twice. Reply stage.
 *
 * @module
 */
import {
  decidedReply,
  defineFault,
  type FaultDefinition,
  rateRule,
} from "./fault.ts";
import type { FaultRule } from "./rule.ts";

/** Send the ACK twice. */
export const duplicateAck: FaultDefinition<"duplicateAck", FaultRule> =
  defineFault({
    kind: "duplicateAck",
    stage: "reply",
    order: 3,
    summary: "the ACK is sent twice",
    ...rateRule(
      "Send the ACK twice",
      "duplicate-ack",
      "Send this share of ACKs twice",
    ),
    hooks: decidedReply((call) => {
      call.copies = 2;
    }),
  });
