import assert from "node:assert/strict";
import type {
  ByteSink,
  CloseHow,
  FaultConnection,
  FaultDefinition,
} from "../core/faults/mod.ts";
import { FaultEngine, type FaultInstance } from "../core/faults/engine.ts";
import { defineToxic } from "../core/faults/toxic.ts";
import { Journal } from "../core/journal/journal.ts";
import { SeededRandom } from "../core/faults/random.ts";

/** One connection as a byte fault sees it: records how it was closed. */
function subject(conn: number): FaultConnection & { closed?: string } {
  return {
    conn,
    peer: `127.0.0.1:${40000 + conn}`,
    peerHost: "127.0.0.1",
    closing: false,
    framesIn: 0,
    forwards: true,
    faultState: new Map(),
    close(how: CloseHow, reason: string) {
      this.closed = `${how} ${reason}`;
    },
    pauseReading() {},
    resumeReading() {},
    writeBytes: () => false,
    every() {},
    after() {},
  };
}

/** Where a pipe ends: what arrived, in order (`|` is the FIN). */
function recorder(): ByteSink & { got: string[] } {
  const got: string[] = [];
  return {
    got,
    write: (chunk) => got.push(new TextDecoder().decode(chunk)),
    end: () => got.push("|"),
  };
}

/**
 * A toxic that holds every chunk and the FIN until it is removed, tags what
 * it passes with its `tag` attribute, and counts its `updated()` calls.
 */
const updates: string[] = [];
const hold: FaultDefinition<string, Record<string, number>> = defineToxic({
  kind: "hold",
  summary: "Holds everything until removed",
  toxiproxy: false,
  attributes: [{ name: "tag", unit: "", max: 9, description: "A tag" }],
  step(rule, tools, { conn, next }) {
    const items: (Uint8Array | null)[] = [];
    let held = 0;
    return {
      write(chunk) {
        held += chunk.length;
        items.push(chunk);
      },
      end: () => items.push(null),
      get held() {
        return held;
      },
      stop() {
        tools.note(conn, "hold_released", { items: items.length });
        for (const item of items.splice(0)) {
          if (item === null) next.end();
          else {next.write(
              new TextEncoder().encode(`${rule.tag}${decode(item)}`),
            );}
        }
        held = 0;
      },
      updated: () => updates.push(`${rule.tag}`),
    };
  },
});

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const text = (value: string) => new TextEncoder().encode(value);

/** Adds a `hold` instance named `name`, tagged `tag`, on `direction`. */
function add(
  faults: FaultEngine,
  name: string,
  tag: number,
  more: Partial<FaultInstance> = {},
): void {
  faults.addInstance({
    name,
    definition: hold,
    direction: "out",
    toxicity: 1,
    rule: { tag },
    ...more,
  });
}

function engine(seed = 7): { faults: FaultEngine; journal: Journal } {
  const journal = new Journal();
  return {
    faults: new FaultEngine({ random: new SeededRandom(seed), journal }),
    journal,
  };
}

Deno.test("a FIN passes through a byte step in order, after what it holds; held is counted", () => {
  const { faults } = engine();
  add(faults, "h", 1);
  const sink = recorder();
  const pipe = faults.pipe(subject(1), "out", sink);
  pipe.write(text("a"));
  pipe.write(text("bc"));
  pipe.end();
  assert.deepEqual(sink.got, []);
  assert.equal(pipe.held, 3);
  assert.deepEqual(pipe.names(), ["h"]);
  faults.removeInstance("h");
  assert.deepEqual(sink.got, ["1a", "1bc", "|"]);
  assert.equal(pipe.held, 0);
  assert.deepEqual(pipe.names(), []);
  pipe.stop();
});

Deno.test("named instances of one kind chain in the order added, each on its own direction", () => {
  const { faults } = engine();
  add(faults, "x", 1);
  add(faults, "y", 2);
  add(faults, "z", 3, { direction: "in" });
  const out = recorder();
  const into = recorder();
  const conn = subject(1);
  const down = faults.pipe(conn, "out", out);
  const up = faults.pipe(conn, "in", into);
  assert.deepEqual(down.names(), ["x", "y"]);
  assert.deepEqual(up.names(), ["z"]);
  down.write(text("a"));
  down.end();
  faults.removeInstance("x");
  // x passed on into y, which still holds.
  assert.deepEqual(out.got, []);
  faults.removeInstance("y");
  assert.deepEqual(out.got, ["21a", "|"]);
  down.stop();
  up.stop();
});

Deno.test("an instance added later acts on an open pipe; removing one leaves the other's state", () => {
  const { faults } = engine();
  const sink = recorder();
  const pipe = faults.pipe(subject(1), "out", sink);
  pipe.write(text("a"));
  assert.deepEqual(sink.got, ["a"]);
  add(faults, "x", 1);
  add(faults, "y", 2);
  pipe.write(text("b"));
  faults.removeInstance("y");
  // y held nothing: x, first, still holds "b".
  assert.deepEqual(sink.got, ["a"]);
  assert.equal(pipe.held, 1);
  faults.removeInstance("x");
  assert.deepEqual(sink.got, ["a", "1b"]);
  pipe.stop();
});

Deno.test("an update copies the rule in place and calls updated(); a new toxicity is drawn again", () => {
  const { faults, journal } = engine();
  updates.length = 0;
  add(faults, "x", 1);
  const sink = recorder();
  const pipe = faults.pipe(subject(1), "out", sink);
  pipe.write(text("a"));
  faults.updateInstance("x", { rule: { tag: 5 } });
  assert.deepEqual(updates, ["5"]);
  faults.updateInstance("x", { toxicity: 0 });
  // Redrawn: the old step was removed (passing on what it held), none fired.
  assert.deepEqual(sink.got, ["5a"]);
  assert.deepEqual(pipe.names(), []);
  const drawn = journal.query({ type: "fault" }).map((e) => e.fired);
  assert.deepEqual(drawn, [true, false]);
  pipe.stop();
});

Deno.test("toxicity is drawn once per connection from the seeded stream: same seed, same connections", () => {
  const run = () => {
    const { faults } = engine(42);
    add(faults, "x", 1, { toxicity: 0.5 });
    const hit: number[] = [];
    for (let conn = 1; conn <= 40; conn++) {
      const pipe = faults.pipe(subject(conn), "out", recorder());
      if (pipe.names().length > 0) hit.push(conn);
      pipe.stop();
    }
    return hit;
  };
  const first = run();
  assert.deepEqual(run(), first);
  assert.ok(first.length > 5 && first.length < 35, `hit ${first.length} of 40`);
});

Deno.test("an instance's window: after skips connections, first bounds them", () => {
  const { faults, journal } = engine();
  add(faults, "x", 1, {
    window: { after: 1, first: 2 },
    fields: { toxic: "x" },
  });
  const fired = [];
  for (let conn = 1; conn <= 4; conn++) {
    const pipe = faults.pipe(subject(conn), "out", recorder());
    fired.push(pipe.names().length === 1);
    pipe.stop();
  }
  assert.deepEqual(fired, [false, true, true, false]);
  const events = journal.query({ type: "fault" });
  assert.equal(events[0].outside, "window");
  assert.equal(events[0].toxic, "x");
});

Deno.test("with no byte fault, the pipe is its sink: a chunk and the FIN go straight through", () => {
  const { faults } = engine();
  const sink = recorder();
  const pipe = faults.pipe(subject(1), "out", sink);
  pipe.write(text("a"));
  pipe.end();
  assert.deepEqual(sink.got, ["a", "|"]);
  assert.equal(pipe.held, 0);
  pipe.stop();
});
