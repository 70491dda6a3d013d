/**
 * The timeout toxic: no byte passes; after `timeout` milliseconds the link
 * is closed. With 0 the link stays open and bytes are dropped until the
 * toxic is removed. As in Toxiproxy, removing it closes the links it held.
 *
 * @module
 */
import type { ToxicDefinition } from "./toxic.ts";

/** Toxiproxy's `timeout`: drop bytes, close after `timeout` ms (0: never). */
export const timeoutToxic: ToxicDefinition = {
  type: "timeout",
  summary:
    "Drops every byte and closes the link after timeout milliseconds (0: never; removing the toxic closes the link)",
  toxiproxy: true,
  attributes: [
    {
      name: "timeout",
      unit: "ms",
      max: 3_600_000,
      description: "Close after this long; 0 holds the link open",
    },
  ],
  stage({ output, attributes, note }) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let dropped = 0;
    const arm = () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      const ms = attributes().timeout;
      if (ms > 0) {
        timer = setTimeout(() => {
          timer = undefined;
          note("toxic_timeout", { ms, dropped });
          output.close("fin", "toxic:timeout");
        }, ms);
      }
    };
    arm();
    return {
      write(chunk) {
        dropped += chunk.length;
        note("toxic_dropped", { bytes: chunk.length });
      },
      end: () => output.end(),
      held: 0,
      flush() {
        note("toxic_timeout", { removed: true, dropped });
        output.close("fin", "toxic:timeout removed");
      },
      dispose() {
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
      },
      updated: arm,
    };
  },
};
