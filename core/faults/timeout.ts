/**
 * The timeout toxic: no byte passes; after `timeout` milliseconds the link
 * is closed. With 0 the link stays open and bytes are dropped until the
 * toxic is removed. As in Toxiproxy, removing it closes the links it held.
 *
 * @module
 */
import { defineToxic, type ToxicDefinition } from "./toxic.ts";

/** Toxiproxy's `timeout`: drop bytes, close after `timeout` ms (0: never). */
export const timeoutToxic: ToxicDefinition = defineToxic({
  kind: "timeout",
  summary:
    "Drops every byte and closes the link after timeout milliseconds (0: never; removing the toxic closes the link)",
  attributes: [
    {
      name: "timeout",
      unit: "ms",
      max: 3_600_000,
      description: "Close after this long; 0 holds the link open",
    },
  ],
  step(rule, tools, { conn, next }) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let dropped = 0;
    const dispose = () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    };
    const arm = () => {
      dispose();
      const ms = rule.timeout;
      if (ms > 0) {
        timer = setTimeout(() => {
          timer = undefined;
          tools.note(conn, "toxic_timeout", { ms, dropped });
          conn.close("fin", "toxic:timeout");
        }, ms);
      }
    };
    arm();
    return {
      write(chunk) {
        dropped += chunk.length;
        tools.note(conn, "toxic_dropped", { bytes: chunk.length });
      },
      end: () => next.end(),
      stop() {
        dispose();
        tools.note(conn, "toxic_timeout", { removed: true, dropped });
        conn.close("fin", "toxic:timeout removed");
      },
      dispose,
      updated: arm,
    };
  },
});
