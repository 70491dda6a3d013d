import assert from "node:assert/strict";
import { z } from "zod";
import { CliError } from "../core/cli/cli.ts";
import {
  optionFlags,
  optionsFromFlags,
  withFlag,
} from "../core/cli/option_flags.ts";
import { PrimaryOptionsSchema } from "../servers/primary.ts";
import { SecondaryOptionsSchema } from "../servers/secondary.ts";

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
