/**
 * Test helper: a headless Chromium driven over the DevTools protocol, with
 * Deno's built-in WebSocket (no dependency). Launches Debian's `chromium`
 * (or `FT_CHROMIUM`) in a fresh profile, opens one page, evaluates, clicks
 * with real mouse events, waits on DOM changes (a MutationObserver in the
 * page, never a sleep), and takes screenshots. Used by the tests only.
 *
 * @module
 */
import { TextLineStream } from "../core/codecs/text_line_stream.ts";

/** The apt command that installs what this helper needs (CI and README). */
export const CHROMIUM_INSTALL = "apt-get update && apt-get install -y chromium";

const CANDIDATES = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
];

/**
 * Whether the browser tests are skipped here: only outside CI, when no
 * Chromium is found (a warning says how to install it). With `CI=true` they
 * run and fail without a browser, so CI cannot pass having skipped them.
 */
export function skipBrowserTests(): boolean {
  if (Deno.env.get("CI") === "true") return false;
  try {
    findChromium();
    return false;
  } catch (error) {
    console.warn(
      `warning: skipping the dashboard's browser test: ${
        (error as Error).message
      } (CI=true makes this a failure)`,
    );
    return true;
  }
}

/** Finds the Chromium executable, or throws saying loudly how to install it. */
export function findChromium(): string {
  const given = Deno.env.get("FT_CHROMIUM");
  const candidates = given ? [given] : CANDIDATES;
  for (const path of candidates) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // Not there; try the next.
    }
  }
  throw new Error(
    `Cannot run the dashboard end-to-end test: no Chromium found (looked for ${
      candidates.join(", ")
    }; set FT_CHROMIUM to use another). Install it with: ${CHROMIUM_INSTALL}`,
  );
}

/** A DevTools event (a message without an id). */
interface CdpEvent {
  method: string;
  params: Record<string, unknown>;
  sessionId?: string;
}

interface Pending {
  resolve(value: Record<string, unknown>): void;
  reject(error: Error): void;
}

/** A page opened in {@linkcode Browser}. */
export interface Page {
  /** Evaluates an expression in the page (awaiting promises) and returns its value. */
  evaluate<T = unknown>(expression: string, signal?: AbortSignal): Promise<T>;
  /**
   * Resolves once `predicate` (a JS expression) is truthy in the page,
   * re-checking on every DOM change. Rejects when `signal` aborts.
   */
  waitFor(predicate: string, signal: AbortSignal): Promise<void>;
  /** Clicks the centre of the element `selector` matches, with real mouse events. */
  click(selector: string, signal?: AbortSignal): Promise<void>;
  /** Takes a PNG screenshot of the viewport and writes it to `path`. */
  screenshot(path: string): Promise<void>;
}

/** A running headless Chromium. */
export interface Browser extends AsyncDisposable {
  /** Opens `url` in a new page of the given size and waits for its load event. */
  open(
    url: string,
    options?: { width?: number; height?: number; signal?: AbortSignal },
  ): Promise<Page>;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/**
 * Launches headless Chromium with a new profile directory and connects to
 * it over the DevTools protocol.
 */
export async function launchChromium(
  options: { signal?: AbortSignal } = {},
): Promise<Browser> {
  const executable = findChromium();
  const profile = await Deno.makeTempDir({ prefix: "ft-chromium-" });
  const child = new Deno.Command(executable, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-extensions",
      "--hide-scrollbars",
      "--mute-audio",
      `--user-data-dir=${profile}`,
      "--remote-debugging-port=0",
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderrLines: string[] = [];
  const remember = (line: string) => {
    stderrLines.push(line);
    if (stderrLines.length > 50) stderrLines.shift();
  };
  const reader = child.stderr
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new TextLineStream())
    .getReader();
  const stopChild = async () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await child.status;
  };
  // Chromium prints its DevTools endpoint on stderr once it listens.
  const found = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return undefined;
      remember(value);
      const match = value.match(/DevTools listening on (ws:\/\/\S+)/);
      if (match) return match[1];
    }
  })();
  const signal = AbortSignal.any([
    AbortSignal.timeout(20_000),
    ...(options.signal ? [options.signal] : []),
  ]);
  const onAbort = () => void stopChild();
  signal.addEventListener("abort", onAbort, { once: true });
  const endpoint = await found;
  signal.removeEventListener("abort", onAbort);
  // Keep reading so the pipe never fills; the last lines go in errors.
  const drain = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      remember(value);
    }
  })();
  if (!endpoint) {
    await stopChild();
    await drain;
    await Deno.remove(profile, { recursive: true }).catch(() => {});
    throw new Error(
      `Chromium did not start${signal.aborted ? ` (${signal.reason})` : ""}:\n${
        stderrLines.join("\n")
      }`,
    );
  }

  const socket = new WebSocket(endpoint);
  const socketClosed = new Promise<void>((resolve) =>
    socket.addEventListener("close", () => resolve(), { once: true })
  );
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener("open", () => resolve(), { once: true });
    socket.addEventListener(
      "error",
      () => reject(new Error(`Cannot connect to Chromium at ${endpoint}`)),
      { once: true },
    );
  });
  let nextId = 0;
  const pending = new Map<number, Pending>();
  const listeners = new Set<(message: CdpEvent) => void>();
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data as string);
    if (message.id !== undefined) {
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) {
        waiter?.reject(
          new Error(`DevTools error: ${JSON.stringify(message.error)}`),
        );
      } else waiter?.resolve(message.result ?? {});
    } else {
      for (const listener of listeners) listener(message);
    }
  });
  socket.addEventListener("close", () => {
    for (const waiter of pending.values()) {
      waiter.reject(new Error("Chromium closed the DevTools connection"));
    }
    pending.clear();
  });
  const send = (
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
  ): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, method, params, sessionId }));
    });
  const nextEvent = (
    method: string,
    sessionId: string,
    signal: AbortSignal,
  ): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const listener = (message: CdpEvent) => {
        if (message.method === method && message.sessionId === sessionId) {
          listeners.delete(listener);
          signal.removeEventListener("abort", onAbort);
          resolve(message.params);
        }
      };
      const onAbort = () => {
        listeners.delete(listener);
        reject(signal.reason);
      };
      listeners.add(listener);
      signal.addEventListener("abort", onAbort, { once: true });
    });

  let closing: Promise<void> | undefined;
  const browser: Browser = {
    async open(url, openOptions = {}) {
      const signal = openOptions.signal ?? AbortSignal.timeout(20_000);
      const { targetId } = await send("Target.createTarget", {
        url: "about:blank",
      });
      const { sessionId } = await send("Target.attachToTarget", {
        targetId,
        flatten: true,
      }) as { sessionId: string };
      const call = (method: string, params: Record<string, unknown> = {}) =>
        send(method, params, sessionId);
      await call("Page.enable");
      await call("Runtime.enable");
      await call("Emulation.setDeviceMetricsOverride", {
        width: openOptions.width ?? 1366,
        height: openOptions.height ?? 768,
        deviceScaleFactor: 1,
        mobile: false,
      });
      const loaded = nextEvent("Page.loadEventFired", sessionId, signal);
      await call("Page.navigate", { url });
      await loaded;

      const evaluate = async <T>(
        expression: string,
        signal?: AbortSignal,
      ): Promise<T> => {
        const evaluation = call("Runtime.evaluate", {
          expression,
          awaitPromise: true,
          returnByValue: true,
        });
        const result = await (signal
          ? Promise.race([
            evaluation,
            new Promise<never>((_, reject) => {
              if (signal.aborted) reject(signal.reason);
              signal.addEventListener("abort", () => reject(signal.reason), {
                once: true,
              });
            }),
          ])
          : evaluation) as {
            result: { value?: T };
            exceptionDetails?: { exception?: { description?: string } };
          };
        if (result.exceptionDetails) {
          throw new Error(
            `Page error: ${
              result.exceptionDetails.exception?.description ??
                JSON.stringify(result.exceptionDetails)
            }`,
          );
        }
        return result.result.value as T;
      };

      const page: Page = {
        evaluate,
        async waitFor(predicate, signal) {
          const observed = `new Promise((resolve) => {
            const check = () => {
              let ok = false;
              try { ok = Boolean(${predicate}); } catch { ok = false; }
              if (ok) { observer.disconnect(); resolve(true); }
            };
            const observer = new MutationObserver(check);
            observer.observe(document, {
              subtree: true, childList: true, characterData: true, attributes: true,
            });
            check();
          })`;
          try {
            await evaluate(observed, signal);
          } catch (error) {
            if (signal.aborted) {
              throw new Error(
                `Timed out waiting in the page for: ${predicate}`,
              );
            }
            throw error;
          }
        },
        async click(selector, signal) {
          const box = await evaluate<
            { x: number; y: number } | null
          >(
            `(() => {
              const element = document.querySelector(${
              JSON.stringify(selector)
            });
              if (!element) return null;
              element.scrollIntoView({ block: "center" });
              const rect = element.getBoundingClientRect();
              return { x: rect.left + rect.width / 2, y: rect.top + rect.height / 2 };
            })()`,
            signal,
          );
          if (!box) {
            throw new Error(`Cannot click ${selector}: no such element`);
          }
          for (const type of ["mousePressed", "mouseReleased"]) {
            await call("Input.dispatchMouseEvent", {
              type,
              x: box.x,
              y: box.y,
              button: "left",
              clickCount: 1,
            });
          }
        },
        async screenshot(path) {
          const { data } = await call("Page.captureScreenshot", {
            format: "png",
          }) as { data: string };
          const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
          await Deno.writeFile(path, bytes);
        },
      };
      return page;
    },
    close() {
      return closing ??= (async () => {
        await send("Browser.close").catch(() => {});
        const exited = await Promise.race([
          child.status.then(() => true),
          new Promise<false>((resolve) => {
            const timer = setTimeout(() => resolve(false), 5000);
            child.status.finally(() => clearTimeout(timer));
          }),
        ]);
        if (!exited) await stopChild();
        if (socket.readyState !== WebSocket.CLOSED) socket.close();
        await socketClosed;
        await drain;
        await Deno.remove(profile, { recursive: true }).catch(() => {});
      })();
    },
    [Symbol.asyncDispose]() {
      return browser.close();
    },
  };
  return browser;
}
