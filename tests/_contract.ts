/**
 * Test helper: spawns a reference client's CLI (or any command speaking the
 * client-under-test contract) with piped standard input, writes commands and
 * waits for the events it prints. Every wait is bounded by a signal.
 *
 * @module
 */
import type { ContractEvent } from "../clients/contract.ts";
import { TextLineStream } from "../core/codecs/text_line_stream.ts";
import { nextWake } from "./_raw_peer.ts";

/** An event a client printed on stdout. */
export type PrintedEvent = ContractEvent;

/** A spawned contract client. */
export interface ContractProcess extends AsyncDisposable {
  /** The process. */
  child: Deno.ChildProcess;
  /** Every event printed so far, in order. */
  events: PrintedEvent[];
  /** Writes one command as a JSON line. */
  command(command: Record<string, unknown>): Promise<void>;
  /** Resolves with the first event (printed or still to come) that matches. */
  waitEvent(
    predicate: (event: PrintedEvent) => boolean,
    signal: AbortSignal,
  ): Promise<PrintedEvent>;
  /**
   * Sends `{"cmd":"stop"}`, closes stdin and resolves with the exit code and
   * stderr (SIGKILL if it has not exited when the signal aborts).
   */
  stop(signal?: AbortSignal): Promise<{ code: number; stderr: string }>;
  /**
   * Closes stdin without a stop command and resolves with the exit code and
   * stderr (SIGKILL if it has not exited when the signal aborts).
   */
  endInput(signal?: AbortSignal): Promise<{ code: number; stderr: string }>;
}

/** Spawns `deno run -A <script> <args>` with piped stdin. */
export function spawnContractClient(
  script: string,
  args: string[],
  options: { env?: Record<string, string> } = {},
): ContractProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: options.env,
  }).spawn();
  const stderrText = new Response(child.stderr).text();
  const writer = child.stdin.getWriter();
  const encoder = new TextEncoder();
  const events: PrintedEvent[] = [];
  const waiters = new Set<() => void>();
  const reading = (async () => {
    const lines = child.stdout.pipeThrough(new TextDecoderStream())
      .pipeThrough(new TextLineStream());
    for await (const line of lines) {
      try {
        events.push(JSON.parse(line));
      } catch {
        events.push({ event: "unparsed", line });
      }
      for (const wake of waiters) wake();
    }
  })();
  let stdinClosed = false;
  const closeStdin = async () => {
    if (stdinClosed) return;
    stdinClosed = true;
    await writer.close().catch(() => {});
  };
  let stopped: Promise<{ code: number; stderr: string }> | undefined;
  const stop = (signal = AbortSignal.timeout(10_000)) =>
    stopped ??= (async () => {
      if (!stdinClosed) {
        await writer.write(encoder.encode('{"cmd":"stop"}\n')).catch(() => {});
      }
      await closeStdin();
      const kill = () => child.kill("SIGKILL");
      signal.addEventListener("abort", kill, { once: true });
      const status = await child.status;
      signal.removeEventListener("abort", kill);
      await reading;
      return { code: status.code, stderr: await stderrText };
    })();
  return {
    child,
    events,
    async command(command) {
      await writer.write(encoder.encode(JSON.stringify(command) + "\n"));
    },
    async waitEvent(predicate, signal) {
      let seen = 0;
      while (true) {
        for (; seen < events.length; seen++) {
          if (predicate(events[seen])) return events[seen];
        }
        signal.throwIfAborted();
        await nextWake(waiters, signal);
      }
    },
    stop,
    async endInput(signal) {
      await closeStdin();
      return await stop(signal);
    },
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}
