/**
 * Runs a resolved chaos plan on a running lab: at each step's time it sets
 * the step's faults through the server's own admin API (`PATCH /faults`, or
 * the listener's path) or adds its toxics to the proxy, and undoes them when
 * the step's `for` runs out. Toxics go through the proxy's Toxiproxy API
 * (`POST /proxies/<name>/toxics`). Each step is journalled in the lab's journal as
 * `plan_step` (`phase`: `set` or `cleared`) just before it is applied, so
 * the figures name their cause. Private to `lab/`.
 *
 * @module
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Journal } from "../core/journal/journal.ts";
import type { ResolvedStep } from "./plan.ts";
import type { LabServer } from "./types.ts";

/** What the plan needs of a lab. */
export interface PlanHost {
  /** The lab's own journal. */
  readonly journal: Journal;
  /** A running server (or proxy) by name. */
  server(name: string): LabServer | undefined;
}

/** A plan under way. */
export interface PlanRun {
  /** When it started (`performance.now()`). */
  readonly startedAt: number;
  /** Resolves once every step is applied and undone (or the plan is stopped). */
  readonly done: Promise<void>;
  /** Cancels the steps still to come (faults in force stay). */
  stop(): void;
}

async function request(
  app: OpenAPIHono,
  method: string,
  path: string,
  body?: unknown,
): Promise<void> {
  const response = await app.request(path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) {
    throw new Error(
      `${method} ${path} answered ${response.status}: ${await response
        .text()}`,
    );
  }
  await response.body?.cancel();
}

function toxicName(toxic: NonNullable<ResolvedStep["toxics"]>[number]) {
  return toxic.name ?? `${toxic.type}_${toxic.stream ?? "downstream"}`;
}

/**
 * Starts a plan: each step at its `atMs` from now. A step that cannot be
 * applied is journalled as an `error` in the lab's journal and the plan goes
 * on.
 */
export function startPlan(
  host: PlanHost,
  steps: readonly ResolvedStep[],
): PlanRun {
  const startedAt = performance.now();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const pending = new Set<Promise<void>>();
  const apps = new Map<string, OpenAPIHono>();
  let stopped = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => resolveDone = resolve);

  const serverApp = (name: string) => {
    let app = apps.get(name);
    if (!app) {
      const server = host.server(name);
      if (!server) throw new Error(`No server named "${name}" is running`);
      apps.set(name, app = server.adminApp());
    }
    return app;
  };
  const faultPath = (step: ResolvedStep) => {
    if (step.listener === undefined) {
      return host.server(step.server!)?.faultTargets()[0]?.path ?? "/faults";
    }
    const target = host.server(step.server!)?.faultTargets().find((t) =>
      t.label === step.listener
    );
    if (!target) {
      throw new Error(
        `Server "${step.server}" has no listener "${step.listener}"`,
      );
    }
    return target.path;
  };

  const apply = async (step: ResolvedStep, phase: "set" | "cleared") => {
    const target = step.server ?? step.proxy!;
    host.journal.append("plan_step", {
      step: step.index,
      phase,
      target,
      ...(step.listener ? { listener: step.listener } : {}),
      ...(step.faults ? { faults: Object.keys(step.faults) } : {}),
      ...(step.toxics
        ? {
          toxics: step.toxics.map((toxic) => ({
            name: toxicName(toxic),
            type: toxic.type,
          })),
        }
        : {}),
    });
    if (step.server !== undefined) {
      const body = phase === "set" ? step.faults : Object.fromEntries(
        Object.keys(step.faults ?? {}).map((kind) => [kind, null]),
      );
      await request(serverApp(step.server), "PATCH", faultPath(step), body);
      return;
    }
    const app = serverApp(step.proxy!);
    for (const toxic of step.toxics ?? []) {
      if (phase === "set") {
        await request(app, "POST", `/proxies/${step.proxy}/toxics`, {
          ...toxic,
          name: toxicName(toxic),
          attributes: toxic.attributes ?? {},
        });
      } else {
        await request(
          app,
          "DELETE",
          `/proxies/${step.proxy}/toxics/${toxicName(toxic)}`,
        );
      }
    }
  };

  const at = (ms: number, run: () => Promise<void>) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (stopped) return;
      const task = run().catch((error) => {
        host.journal.append("error", {
          message: `Cannot run the plan: ${(error as Error).message}`,
        });
      }).finally(() => {
        pending.delete(task);
        settle();
      });
      pending.add(task);
    }, Math.max(0, startedAt + ms - performance.now()));
    timers.add(timer);
  };
  const settle = () => {
    if (timers.size === 0 && pending.size === 0) resolveDone();
  };

  for (const step of steps) {
    at(step.atMs, () => apply(step, "set"));
    if (step.untilMs !== null) {
      at(step.untilMs, () => apply(step, "cleared"));
    }
  }
  host.journal.append("plan_started", { steps: steps.length });
  settle();
  return {
    startedAt,
    done,
    stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      settle();
    },
  };
}
