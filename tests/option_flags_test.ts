import assert from "node:assert/strict";
import { z } from "zod";
import { CliError, type FlagValues } from "../core/cli/cli.ts";
import {
  optionFlags,
  optionsFromFlags,
  type OptionsSchema,
  withFlag,
} from "../core/cli/option_flags.ts";
import { PrimaryOptionsSchema } from "../servers/primary.ts";
import { SecondaryOptionsSchema } from "../servers/secondary.ts";
import { FlappingOptionsSchema } from "../servers/flapping.ts";
import { SilentOptionsSchema } from "../servers/silent.ts";
import { WatchdogEchoOptionsSchema } from "../servers/watchdog_echo.ts";
import { MessageStoreOptionsSchema } from "../servers/message_store.ts";
import { ProxyOptionsSchema } from "../servers/proxy.ts";
import { SERVER_KINDS } from "../lab/_server_kinds.ts";
import { parseTopology, TopologyError } from "../lab/topology.ts";

Deno.test("optionFlags derives a server's flags and help text from its options schema", () => {
  assert.deepEqual(optionFlags(PrimaryOptionsSchema), {
    "no-packet-ack": {
      type: "boolean",
      description: "ACK records only, not packets of other kinds",
    },
  });
  assert.deepEqual(Object.keys(optionFlags(SecondaryOptionsSchema)), ["ack"]);
});

Deno.test("optionsFromFlags reads flags into options, negating and validating", () => {
  assert.deepEqual(
    optionsFromFlags(PrimaryOptionsSchema, { "no-packet-ack": true }),
    { ackPackets: false },
  );
  assert.deepEqual(optionsFromFlags(PrimaryOptionsSchema, {}), {});
  assert.deepEqual(optionsFromFlags(SecondaryOptionsSchema, { ack: true }), {
    ack: true,
  });
  const schema = z.object({
    count: withFlag(z.number().int().min(1).optional().describe("How many"), {
      name: "count",
      value: "N",
    }),
  });
  assert.deepEqual(optionFlags(schema).count, {
    type: "string",
    description: "How many",
    value: "N",
  });
  assert.deepEqual(optionsFromFlags(schema, { count: "3" }), { count: 3 });
  assert.throws(
    () => optionsFromFlags(schema, { count: "0" }),
    (error) =>
      error instanceof CliError && /Invalid --count "0"/.test(error.message),
  );
});

/** What a topology with one server entry says is wrong with it (none: []). */
function labProblems(entry: Record<string, unknown>): string[] {
  try {
    parseTopology({ servers: { s: entry } });
    return [];
  } catch (error) {
    assert.ok(error instanceof TopologyError, String(error));
    return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
}

/** The CLI error for flag values, or "" when they are accepted. */
function flagError(schema: z.ZodObject, values: FlagValues): string {
  try {
    optionsFromFlags(schema, values);
    return "";
  } catch (error) {
    assert.ok(error instanceof CliError, String(error));
    return error.message;
  }
}

/**
 * Each server's options schema against its flags and its lab entry: a field
 * (its flag, with the field's description as help text unless the flag has
 * its own), a good value both ways, and a bad one refused by both.
 */
const SERVERS: {
  kind: string;
  schema: z.ZodObject;
  field: string;
  flag: string;
  help: string;
  good: [string | boolean, unknown];
  bad: [string, unknown, RegExp];
  /** Other fields the entry needs. */
  entry?: Record<string, unknown>;
  /** Other flags the flag needs. */
  flags?: FlagValues;
}[] = [
  {
    kind: "flapping",
    schema: FlappingOptionsSchema,
    field: "up",
    flag: "up",
    help: "Length of each up period",
    good: ["2s..8s", "2s..8s"],
    bad: ["2s..1s", "2s..1s", /the maximum is less than the minimum/],
  },
  {
    kind: "silent",
    schema: SilentOptionsSchema,
    field: "backlog",
    flag: "backlog",
    help: "listen backlog",
    good: ["2", 2],
    bad: ["70000", 70000, /65535/],
    entry: { mode: "no-accept" },
    flags: { mode: "no-accept" },
  },
  {
    kind: "watchdog-echo",
    schema: WatchdogEchoOptionsSchema,
    field: "channels",
    flag: "port-b",
    help: "TCP port of channel B",
    good: ["0", { B: { port: 0 } }],
    bad: ["70000", { B: { port: 70000 } }, /65535/],
  },
  {
    kind: "message-store",
    schema: MessageStoreOptionsSchema,
    field: "fronts",
    flag: "front",
    help: "A front server",
    good: ["ml9=127.0.0.1:0", { ml9: { hostname: "127.0.0.1", port: 0 } }],
    bad: ["bad/name=127.0.0.1:0", { "bad/name": {} }, /name/],
  },
  {
    kind: "proxy",
    schema: ProxyOptionsSchema,
    field: "upstream",
    flag: "upstream",
    help: "where it connects",
    good: ["127.0.0.1:7000", "127.0.0.1:7000"],
    bad: ["", "", /Too small/],
    entry: { upstream: "127.0.0.1:7000" },
    flags: { name: "p" },
  },
];

for (const server of SERVERS) {
  Deno.test(`${server.kind}: its flags, help text and lab entry come from its options schema`, () => {
    const flags = optionFlags(server.schema);
    assert.ok(flags[server.flag], `--${server.flag} in ${Object.keys(flags)}`);
    assert.match(flags[server.flag].description, new RegExp(server.help));
    const kind = SERVER_KINDS[server.kind];
    assert.ok(
      server.field in kind.schema.shape,
      `${server.field} in the lab's ${server.kind} entry`,
    );
    // Every field of the schema is a field of the lab entry.
    for (const key of Object.keys(server.schema.shape)) {
      if (server.kind === "proxy" && (key === "name" || key === "listen")) {
        continue; // The entry's name and hostname/port give them.
      }
      assert.ok(key in kind.schema.shape, `${key} in ${server.kind}`);
    }
    const base = { kind: server.kind, ...server.entry };
    const [goodText, goodValue] = server.good;
    assert.equal(
      flagError(server.schema, { ...server.flags, [server.flag]: goodText }),
      "",
    );
    assert.deepEqual(
      labProblems({ ...base, [server.field]: goodValue }),
      [],
    );
    const [badText, badValue, why] = server.bad;
    const cli = flagError(server.schema, {
      ...server.flags,
      [server.flag]: badText,
    });
    assert.match(cli, new RegExp(`^Invalid --${server.flag} `));
    assert.match(cli, why);
    const lab = labProblems({ ...base, [server.field]: badValue });
    assert.ok(lab.length >= 1, "the lab refuses it too");
    assert.match(lab[0], new RegExp(`^servers\\.s\\.${server.field}`));
  });
}

Deno.test("optionsFromFlags: a flag that needs another option says which", () => {
  assert.equal(
    flagError(SilentOptionsSchema, { "trickle-every": "1s" }),
    "Invalid --trickle-every: it needs --mode trickle",
  );
  assert.equal(
    flagError(SilentOptionsSchema, { mode: "trickle", "trickle-every": "1s" }),
    "",
  );
  assert.deepEqual(
    optionsFromFlags(SilentOptionsSchema, {
      mode: "no-accept",
      "no-fill": true,
    }),
    { mode: "no-accept", fillQueue: false },
  );
});

Deno.test("optionsFromFlags: nested, JSON, multiple and alias flags", () => {
  assert.deepEqual(
    optionsFromFlags(WatchdogEchoOptionsSchema, {
      "host-a": "127.0.0.5",
      "faults-b": '{"blackHole":{}}',
    }),
    {
      channels: {
        A: { hostname: "127.0.0.5" },
        B: { faults: { blackHole: {} } },
      },
    },
  );
  assert.deepEqual(optionsFromFlags(WatchdogEchoOptionsSchema, {}), {});
  assert.equal(
    flagError(WatchdogEchoOptionsSchema, { "faults-a": "{" }).split(":")[0],
    "Invalid --faults-a",
  );
  assert.deepEqual(
    Object.keys(
      optionsFromFlags(MessageStoreOptionsSchema, {
        front: ["b=127.0.0.1:0", "a=127.0.0.1:0"],
        fronts: "c=127.0.0.1:0",
      }).fronts!,
    ),
    ["b", "a", "c"],
  );
});

Deno.test("OptionsSchema types a schema by the options it gives, and refuses one that disagrees", () => {
  interface Options {
    name: string;
    count?: number;
    loud?: boolean;
  }
  const schema: OptionsSchema<Pick<Options, "name" | "count">> = z.object({
    name: z.string(),
    count: z.number().int().optional(),
  });
  // @ts-expect-error: a schema that leaves an option out does not type-check
  const missing: OptionsSchema<Pick<Options, "name" | "count">> = z.object({
    name: z.string(),
  });
  // @ts-expect-error: a schema giving a value the option does not take neither
  const wrong: OptionsSchema<Pick<Options, "loud">> = z.object({
    loud: z.string().optional(),
  });
  // @ts-expect-error: nor one that makes a required option optional
  const optional: OptionsSchema<Pick<Options, "name">> = z.object({
    name: z.string().optional(),
  });
  assert.deepEqual(schema.parse({ name: "a", count: 2 }), {
    name: "a",
    count: 2,
  });
  assert.ok(missing && wrong && optional);
});
