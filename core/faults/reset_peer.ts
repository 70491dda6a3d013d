/**
 * The reset_peer toxic: once the first bytes (or the FIN) reach it, it
 * waits `timeout` milliseconds and resets the link (RST to both sides);
 * bytes meanwhile are dropped.
 *
 * @module
 */
import { defineToxic, type ToxicDefinition } from "./toxic.ts";

/** Toxiproxy's `reset_peer`: reset the link `timeout` ms after data arrives. */
export const resetPeerToxic: ToxicDefinition = defineToxic({
  kind: "reset_peer",
  summary:
    "Resets the link (RST) timeout milliseconds after the first bytes arrive; bytes meanwhile are dropped",
  attributes: [
    {
      name: "timeout",
      unit: "ms",
      max: 3_600_000,
      description: "Reset this long after the first bytes; 0 at once",
    },
  ],
  step(rule, tools, { conn }) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let armed = false;
    const reset = () => {
      timer = undefined;
      tools.note(conn, "toxic_reset_peer", { ms: rule.timeout });
      conn.close("rst", "toxic:reset_peer");
    };
    const trigger = () => {
      if (armed) return;
      armed = true;
      const ms = rule.timeout;
      if (ms === 0) reset();
      else timer = setTimeout(reset, ms);
    };
    const dispose = () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    };
    return { write: trigger, end: trigger, stop: dispose, dispose };
  },
});
