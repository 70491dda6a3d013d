/**
 * `nackAck`: a NACK goes out instead of the ACK. Reply stage.
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

/** Send a NACK (`{ type: "nack" }`) instead of the ACK. */
export const nackAck: FaultDefinition<"nackAck", FaultRule> = defineFault({
  kind: "nackAck",
  stage: "reply",
  order: 1,
  summary:
    "a NACK is sent instead of the ACK (device protocols: Ruptela `00 02 64 00 02 35`, Teltonika count 0); line JSON has no NACK: nothing is sent, journal `unencodable`",
  ...rateRule(
    "Send a NACK instead of the ACK (device protocols only; line JSON and length-prefixed cannot express one: nothing is sent, journalled as unencodable)",
    "nack-ack",
    "Send a NACK instead of this share of ACKs (ruptela, teltonika only)",
  ),
  hooks: decidedReply((call) => {
    call.frame = { ...call.frame, type: "nack" };
  }),
});
