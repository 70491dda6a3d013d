/**
 * `corruptAck`: an ACK with a wrong id goes out instead. Reply stage.
 *
 * @module
 */
import { CORRUPT_ID_PREFIX } from "../codecs/frame.ts";
import {
  decidedReply,
  defineFault,
  type FaultDefinition,
  rateRule,
} from "./fault.ts";
import type { FaultRule } from "./rule.ts";

/**
 * Send the ACK with a wrong id (`corrupt-<id>`); the device codecs turn that
 * into a wrong CRC (Ruptela) or a wrong record count (Teltonika). A corrupt
 * ACK is an ACK: it replaces a NACK decided before it.
 */
export const corruptAck: FaultDefinition<"corruptAck", FaultRule> = defineFault(
  {
    kind: "corruptAck",
    stage: "reply",
    order: 2,
    summary: "an ACK with a wrong id (`corrupt-<id>`) is sent instead",
    ...rateRule(
      "Send an ACK with a wrong id instead of the right one (device protocols: a wrong CRC, Ruptela; a wrong record count, Teltonika)",
      "corrupt-ack",
      "Send this share of ACKs with a wrong id (ruptela: wrong CRC; teltonika: wrong count)",
    ),
    hooks: decidedReply((call) => {
      call.frame = { ...call.given, id: `${CORRUPT_ID_PREFIX}${call.id}` };
    }),
  },
);
