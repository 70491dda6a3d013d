/**
 * `dropAck`: the ACK (or echo) is not sent. Reply stage.
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

/** Do not send the ACK; the connection journals `ack_dropped`. */
export const dropAck: FaultDefinition<"dropAck", FaultRule> = defineFault({
  kind: "dropAck",
  stage: "reply",
  order: 0,
  summary: "the ACK (or echo) is not sent; journal `ack_dropped`",
  ...rateRule(
    "Do not send the ACK",
    "drop-ack",
    "Drop this share of ACKs (30% or 0.3), seeded",
  ),
  hooks: decidedReply((call) => {
    call.drop = true;
  }),
});
