/**
 * The slow_close toxic: the FIN of its direction is held for `delay`
 * milliseconds; bytes pass at once.
 *
 * @module
 */
import { defineToxic, type ToxicDefinition } from "./toxic.ts";

/** Toxiproxy's `slow_close`: hold the close for `delay` ms. */
export const slowCloseToxic: ToxicDefinition = defineToxic({
  kind: "slow_close",
  summary: "Holds the close (FIN) for delay milliseconds",
  attributes: [
    { name: "delay", unit: "ms", max: 3_600_000, description: "Delay" },
  ],
  step(rule, tools, { conn, next }) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const dispose = () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    };
    return {
      write: (chunk) => next.write(chunk),
      end() {
        const ms = rule.delay;
        tools.note(conn, "toxic_slow_close", { ms });
        timer = setTimeout(() => {
          timer = undefined;
          next.end();
        }, ms);
      },
      stop() {
        if (timer === undefined) return;
        dispose();
        next.end();
      },
      dispose,
    };
  },
});
