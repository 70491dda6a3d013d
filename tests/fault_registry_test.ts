import assert from "node:assert/strict";
import { FAULT_DEFINITIONS, STAGES } from "../core/faults/mod.ts";
import { startPrimaryServer } from "../servers/primary.ts";

const DOCS = new URL("../docs/faults.md", import.meta.url);

Deno.test("every registered fault has a row in docs/faults.md with its stage", async () => {
  const docs = await Deno.readTextFile(DOCS);
  const rows = new Map(
    [...docs.matchAll(/^\| `(\w+)` +\| `(\w+)` +\|/gm)].map((
      m,
    ) => [m[1], m[2]]),
  );
  for (const definition of FAULT_DEFINITIONS) {
    assert.ok(
      rows.has(definition.kind),
      `docs/faults.md has no row for ${definition.kind}`,
    );
    assert.equal(
      rows.get(definition.kind),
      definition.stage,
      `docs/faults.md gives ${definition.kind} the wrong stage`,
    );
    assert.ok(STAGES.includes(definition.stage));
  }
});

Deno.test("every registered fault is in --help: its flags, and its kind under --faults", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../servers/primary.ts", import.meta.url).pathname,
      "--help",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0);
  const help = new TextDecoder().decode(output.stdout);
  const faultsLine = help.split("\n").find((line) =>
    line.trimStart().startsWith("--faults")
  );
  assert.ok(faultsLine, "--help lists --faults");
  for (const definition of FAULT_DEFINITIONS) {
    assert.match(
      faultsLine,
      new RegExp(`\\b${definition.kind}\\b`),
      `--help does not name ${definition.kind}`,
    );
    for (const flag of definition.flags ?? []) {
      assert.match(help, new RegExp(`--${flag.name}\\b`));
    }
  }
});

Deno.test("the OpenAPI document's fault schema lists every registered fault, described", async () => {
  await using primary = await startPrimaryServer({ port: 0 });
  const doc = await (await primary.adminApp().request("/openapi.json")).json();
  const faults = doc.components.schemas.Faults.properties;
  assert.deepEqual(
    Object.keys(faults).sort(),
    FAULT_DEFINITIONS.map((definition) => definition.kind).sort(),
  );
  for (const [kind, schema] of Object.entries(faults)) {
    assert.ok(
      (schema as { description?: string }).description,
      `${kind} has no description in the OpenAPI document`,
    );
  }
});
