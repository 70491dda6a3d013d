/**
 * The benchmark's inspector client (`bench/_inspector.ts`) never waits
 * forever: not for a child's inspector URL, and not for a call whose
 * WebSocket went away.
 */
import assert from "node:assert/strict";
import { Inspector, startInspected } from "../bench/_inspector.ts";
import { tempDir } from "./_lifetime.ts";
import { within } from "./_raw_peer.ts";

/** The bound of every wait here: a wait that never ends fails the test. */
const bound = () => AbortSignal.timeout(10_000);

Deno.test("startInspected gives up on a child that never prints its inspector URL, with an error naming the line it waited for", async () => {
  await using dir = await tempDir({ prefix: "ft-inspector-" });
  // A fake Deno: it announces a listening line, as a server does, but never
  // the inspector's "Debugger listening on ws://..." line.
  const deno = `${dir.path}/deno`;
  await Deno.writeTextFile(
    deno,
    "#!/bin/sh\necho 'fake tcp=127.0.0.1:9'\nexec sleep 60\n",
  );
  await Deno.chmod(deno, 0o755);
  await assert.rejects(
    within(
      startInspected("fake.ts", [], dir.path, { deno, urlTimeoutMs: 200 }),
      bound(),
    ),
    (error: Error) => {
      assert.match(error.message, /Debugger listening on ws:\/\//);
      assert.match(error.message, /200 ms/);
      assert.match(error.message, /fake\.ts/);
      return true;
    },
  );
});

/**
 * A local WebSocket server speaking just enough of the inspector protocol:
 * `Echo` answers, `Fail` answers with an error, `Close` closes the socket
 * with the call unanswered.
 */
function fakeInspector(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request);
      socket.onmessage = (message) => {
        const { id, method } = JSON.parse(message.data as string);
        if (method === "Echo") {
          socket.send(JSON.stringify({ id, result: { echoed: true } }));
        } else if (method === "Fail") {
          socket.send(
            JSON.stringify({
              id,
              error: { code: -32601, message: "'Fail' wasn't found" },
            }),
          );
        } else if (method === "Close") {
          socket.close(1011, "going away");
        }
      };
      return response;
    },
  );
}

Deno.test("Inspector rejects every pending call, and any later one, when its WebSocket closes", async () => {
  await using server = fakeInspector();
  const inspector = await Inspector.open(
    `ws://127.0.0.1:${server.addr.port}`,
  );
  assert.deepEqual(await inspector.call("Echo"), { echoed: true });
  // Two calls pending when the socket closes: neither is ever answered.
  const pending = inspector.call("Pending");
  const closing = inspector.call("Close");
  for (const [call, method] of [[pending, "Pending"], [closing, "Close"]]) {
    await assert.rejects(
      within(call as Promise<unknown>, bound()),
      (error: Error) => {
        assert.match(error.message, new RegExp(`"${method}"`));
        assert.match(
          error.message,
          /WebSocket .* closed \(code 1011: going away\)/,
        );
        return true;
      },
    );
  }
  await assert.rejects(
    within(inspector.call("Echo"), bound()),
    /Cannot call the inspector's "Echo": its WebSocket .* closed/,
  );
  // Closing what is closed already returns.
  await within(inspector.close(), bound());
});

Deno.test("Inspector rejects a call the inspector answers with an error", async () => {
  await using server = fakeInspector();
  const inspector = await Inspector.open(
    `ws://127.0.0.1:${server.addr.port}`,
  );
  await assert.rejects(
    within(inspector.call("Fail"), bound()),
    /The inspector's "Fail" failed: 'Fail' wasn't found/,
  );
  await inspector.close();
});
