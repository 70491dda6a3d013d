/**
 * `closeAfter`: a connection is closed once it has sent N frames. Frame-in
 * stage.
 *
 * @module
 */
import { z } from "zod";
import { parseInteger } from "../units/units.ts";
import { defineFault, type FaultDefinition } from "./fault.ts";
import {
  CloseHowSchema,
  type FaultCloseHow,
  type FaultTarget,
  TargetSchema,
} from "./rule.ts";

/** The rule of {@linkcode closeAfter}. */
export interface CloseAfterRule {
  /** Close a connection once it has sent this many frames. */
  frames: number;
  /** FIN (default) or RST. */
  how?: FaultCloseHow;
  /** Which connections. */
  target?: FaultTarget;
}

/** Close a connection (FIN or RST) once its frame is handled. */
export const closeAfter: FaultDefinition<"closeAfter", CloseAfterRule> =
  defineFault<"closeAfter", CloseAfterRule>({
    kind: "closeAfter",
    stage: "frameIn",
    order: 0,
    summary: "a connection is closed once it has sent that many frames",
    schema: z.object({
      frames: z.number().int().min(1).describe(
        "Close a connection once it has sent this many frames",
      ),
      how: CloseHowSchema.optional(),
      target: TargetSchema.optional(),
    }).strict().describe("Close connections after N frames"),
    flags: [{
      name: "close-after",
      type: "string",
      value: "N",
      description: "Close each connection after it sent N frames",
    }],
    fromFlags(flags) {
      const frames = flags.value("close-after", parseInteger(1, 1e9));
      return frames === undefined ? undefined : { frames };
    },
    hooks: {
      frameIn(rule, tools, call) {
        if (call.conn.framesIn < rule.frames) return;
        tools.fired(call.conn);
        call.close = { how: rule.how ?? "fin", reason: "fault:closeAfter" };
      },
    },
  });
