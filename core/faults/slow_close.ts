/**
 * The slow_close toxic: the FIN of its direction is held for `delay`
 * milliseconds; bytes pass at once.
 *
 * @module
 */
import type { ToxicDefinition } from "./toxic.ts";

/** Toxiproxy's `slow_close`: hold the close for `delay` ms. */
export const slowCloseToxic: ToxicDefinition = {
  type: "slow_close",
  summary: "Holds the close (FIN) for delay milliseconds",
  toxiproxy: true,
  attributes: [
    { name: "delay", unit: "ms", max: 3_600_000, description: "Delay" },
  ],
  stage({ output, attributes, note }) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let ending = false;
    return {
      write: (chunk) => output.write(chunk),
      end() {
        ending = true;
        const ms = attributes().delay;
        note("toxic_slow_close", { ms });
        timer = setTimeout(() => {
          timer = undefined;
          output.end();
        }, ms);
      },
      held: 0,
      flush() {
        if (timer === undefined || !ending) return;
        clearTimeout(timer);
        timer = undefined;
        output.end();
      },
      dispose() {
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
      },
    };
  },
};
