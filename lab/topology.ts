/**
 * The lab's topology file: which servers to start (kind, addresses, codec,
 * faults in force from the start, schedules), which reference clients make
 * traffic through them, and where the dashboard listens. JSON, checked with
 * zod; faults use the same schema as the admin API (`PUT /faults`), and an
 * error names the path in the file and what is wrong.
 *
 * @example A small topology
 * ```json
 * {
 *   "seed": 7,
 *   "servers": {
 *     "primary": { "kind": "primary", "port": 7000, "faults": { "dropAck": { "probability": 0.3 } } }
 *   }
 * }
 * ```
 *
 * @module
 */
import { z } from "zod";
import {
  CLIENT_KINDS,
  type LabReference,
  NameSchema,
  SERVER_KINDS,
} from "./_kinds.ts";
import { type Expectations, ExpectationsSchema } from "./expectations.ts";
import { planOverlaps, PlanSchema, type PlanStep } from "./plan.ts";

/** The lab's default dashboard and admin port. */
export const LAB_PORT = 7100;

function kindUnion(
  kinds: Readonly<Record<string, { schema: z.ZodObject }>>,
  what: string,
): z.ZodType<Record<string, unknown> & { kind: string }> {
  const names = Object.keys(kinds);
  const schemas = Object.values(kinds).map((kind) => kind.schema);
  return z.custom<Record<string, unknown> & { kind: string }>().superRefine(
    (value, ctx) => {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        ctx.addIssue({
          code: "custom",
          message: `Invalid ${what}: expected an object with a "kind"`,
        });
        return;
      }
      const kind = (value as { kind?: unknown }).kind;
      const at = names.indexOf(kind as string);
      if (typeof kind !== "string" || at < 0) {
        ctx.addIssue({
          code: "custom",
          path: ["kind"],
          message: `Invalid ${what} kind ${
            JSON.stringify(kind)
          }: expected one of ${names.map((n) => `"${n}"`).join(", ")}`,
        });
        return;
      }
      const result = schemas[at].safeParse(value);
      if (!result.success) {
        for (const issue of result.error.issues) {
          ctx.addIssue({ ...issue, path: issue.path } as never);
        }
      }
    },
  ).transform((value) => {
    const kind = (value as { kind: string }).kind;
    const result = schemas[names.indexOf(kind)]?.safeParse(value);
    // A failed parse was reported by the refinement above.
    return (result?.success ? result.data : value) as
      & Record<string, unknown>
      & { kind: string };
  });
}

const ServerEntrySchema = kindUnion(SERVER_KINDS, "server");
const ClientEntrySchema = kindUnion(CLIENT_KINDS, "client");

/** One server or traffic client of a topology: its `kind` and that kind's options. */
export interface TopologyEntry {
  /** The kind (`primary`, `watchdog-echo`, `two-servers`, ...). */
  kind: string;
  /** The kind's options (see `docs/lab.md`). */
  [option: string]: unknown;
}

/** A checked topology file. */
export interface Topology {
  /** A JSON schema reference, ignored. */
  $schema?: string;
  /** A title for the dashboard. */
  name?: string;
  /** What the topology shows. */
  description?: string;
  /** The run seed (default: random, printed). */
  seed?: number;
  /** Where the dashboard and admin API listen (default 127.0.0.1:7100). */
  admin?: { hostname?: string; port?: number };
  /** The servers by name; each name is also its admin path. */
  servers: Record<string, TopologyEntry>;
  /** The reference clients that make traffic, by name. */
  clients?: Record<string, TopologyEntry>;
  /** Whether the clients start with the lab, and how often they send. */
  traffic?: { autostart?: boolean; everyMs?: number };
  /** The chaos plan: faults set at fixed or seeded times (see `lab/plan.ts`). */
  plan?: PlanStep[];
  /** Limits on the failover figures that gate a run (see `lab/expectations.ts`). */
  expect?: Expectations;
}

/** The schema of a topology file (zod). */
export const TopologySchema: z.ZodType<Topology> = z.object({
  $schema: z.string().optional(),
  name: z.string().min(1).max(100).optional().describe(
    "A title for the dashboard",
  ),
  description: z.string().optional(),
  seed: z.number().int().min(0).max(0xffffffff).optional().describe(
    "Run seed: the same seed gives the same faults (default: random, printed)",
  ),
  admin: z.object({
    hostname: z.string().min(1).optional().describe(
      "Host of the dashboard and admin API (default 127.0.0.1)",
    ),
    port: z.number().int().min(0).max(65535).optional().describe(
      "Port of the dashboard and admin API (default 7100)",
    ),
  }).strict().optional(),
  servers: z.record(NameSchema, ServerEntrySchema).refine(
    (servers) => Object.keys(servers).length > 0,
    "Invalid servers: name at least one server",
  ).describe("Servers by name; each name is also its admin path"),
  clients: z.record(NameSchema, ClientEntrySchema).optional().describe(
    "Reference clients that make traffic, by name",
  ),
  traffic: z.object({
    autostart: z.boolean().optional().describe(
      "Start the clients with the lab (default true)",
    ),
    everyMs: z.number().min(10).max(3_600_000).optional().describe(
      "How often each client sends a record or message (default 1000)",
    ),
  }).strict().optional(),
  plan: PlanSchema.optional().describe(
    "Faults set at fixed or seeded times while the lab runs",
  ),
  expect: ExpectationsSchema.optional().describe(
    "Limits on the failover figures: a run exits 1 when one fails",
  ),
}).strict().superRefine((topology, ctx) => {
  const servers = topology.servers ?? {};
  const check = (at: (string | number)[], reference: LabReference) => {
    reference.names.forEach((name, i) => {
      const path = [...at, ...reference.path, ...(reference.list ? [i] : [])];
      const server = servers[name];
      if (!server) {
        ctx.addIssue({
          code: "custom",
          path,
          message: `No server named "${name}" in servers: expected one of ${
            Object.keys(servers).map((n) => `"${n}"`).join(", ")
          }`,
        });
      } else if (reference.kinds && !reference.kinds.includes(server.kind)) {
        ctx.addIssue({
          code: "custom",
          path,
          message: `Server "${name}" is a ${server.kind} server: expected ${
            reference.kinds.map((k) => `a ${k}`).join(" or ")
          } server`,
        });
      }
    });
  };
  const names = [
    ...Object.keys(servers).map((name) => ["servers", name]),
    ...Object.keys(topology.clients ?? {}).map((name) => ["clients", name]),
  ];
  for (const [section, name] of names) {
    const clash = name === "lab"
      ? "it is the lab's own journal"
      : section === "clients" && servers[name]
      ? "a server has it too"
      : undefined;
    if (clash) {
      ctx.addIssue({
        code: "custom",
        path: [section, name],
        message:
          `Invalid name "${name}": ${clash}; events are told apart by name`,
      });
    }
  }
  for (const [name, entry] of Object.entries(servers)) {
    for (
      const reference of SERVER_KINDS[entry.kind]?.references?.(entry) ?? []
    ) {
      check(["servers", name], reference);
    }
  }
  (topology.plan ?? []).forEach((step, i) => {
    if (step.server !== undefined) {
      check(["plan", i], { path: ["server"], names: [step.server] });
    }
    if (step.proxy !== undefined) {
      check(["plan", i], {
        path: ["proxy"],
        names: [step.proxy],
        kinds: ["proxy"],
      });
    }
  });
  for (const issue of planOverlaps(topology.plan ?? [])) {
    ctx.addIssue({
      code: "custom",
      path: ["plan", ...issue.path],
      message: issue.message,
    });
  }
  for (const [name, entry] of Object.entries(topology.clients ?? {})) {
    const kind = CLIENT_KINDS[entry.kind];
    for (const reference of kind?.references(entry) ?? []) {
      check(["clients", name], reference);
    }
    for (const issue of kind?.check?.(entry, servers) ?? []) {
      ctx.addIssue({
        code: "custom",
        path: ["clients", name, ...issue.path],
        message: issue.message,
      });
    }
  }
});

/** One problem found in a topology file. */
export interface TopologyIssue {
  /** Where in the file, such as `servers.primary.faults.dropAck.probability`. */
  path: string;
  /** What is wrong there. */
  message: string;
}

/** A topology file that cannot be used: the message names each path and problem. */
export class TopologyError extends Error {
  /** Every problem found. */
  readonly issues: TopologyIssue[];

  /** Makes the error; `issues` lists each problem with its path. */
  constructor(message: string, issues: TopologyIssue[] = []) {
    super(message);
    this.name = "TopologyError";
    this.issues = issues;
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const key of path) {
    if (typeof key === "number") text += `[${key}]`;
    else text += text ? `.${String(key)}` : String(key);
  }
  return text || "(top level)";
}

function flatten(issues: readonly z.core.$ZodIssue[]): TopologyIssue[] {
  return issues.map((issue) => {
    let message = issue.message;
    if (issue.code === "invalid_key") {
      message = issue.issues[0]?.message ?? message;
    }
    return { path: formatPath(issue.path), message };
  });
}

/**
 * Checks a parsed JSON value as a topology. Throws a {@linkcode TopologyError}
 * naming each path in the file and what is wrong there.
 *
 * @example Usage
 * ```ts ignore
 * import { parseTopology } from "./topology.ts";
 * const topology = parseTopology({ servers: { primary: { kind: "primary", port: 0 } } });
 * ```
 */
export function parseTopology(value: unknown, source = "topology"): Topology {
  const result = TopologySchema.safeParse(value);
  if (result.success) return result.data;
  const issues = flatten(result.error.issues);
  throw new TopologyError(
    `Invalid ${source}: ${
      issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ")
    }`,
    issues,
  );
}

/**
 * Reads and checks a topology file. Throws a {@linkcode TopologyError} when
 * the file cannot be read, is not JSON, or does not match the schema.
 *
 * @example Usage
 * ```ts ignore
 * import { loadTopology } from "./topology.ts";
 * const topology = await loadTopology("lab/examples/two-servers.json");
 * ```
 */
export async function loadTopology(path: string | URL): Promise<Topology> {
  const name = path instanceof URL ? path.pathname : path;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new TopologyError(
      `Cannot read topology file ${name}: ${(error as Error).message}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TopologyError(
      `Cannot parse topology file ${name}: ${(error as Error).message}`,
    );
  }
  return parseTopology(value, `topology file ${name}`);
}
