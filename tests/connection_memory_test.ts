/**
 * What an idle connection holds: ten thousand devices that say nothing for
 * minutes must cost little more than their sockets (docs/performance.md,
 * figure 4). These tests check the structure, not a byte count: a byte
 * count depends on the garbage collector's timing.
 */
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import type { Codec } from "../core/codecs/codec.ts";
import { createCodec } from "../core/codecs/create_codec.ts";
import type { Frame } from "../core/codecs/frame.ts";
import { TcpServer } from "../core/server/tcp_server.ts";
import { connectPeer } from "./_net.ts";

/** An ACKing server that keeps each accepted socket (still made a connection). */
class SocketKeeping extends TcpServer {
  readonly sockets: Socket[] = [];

  protected override adoptSocket(socket: Socket): boolean {
    this.sockets.push(socket);
    return false;
  }

  protected override handleFrame(frame: Frame): Frame {
    return { type: "ack", id: frame.id };
  }
}

/** The line-JSON codec, counting the decoders it makes. */
function countingCodec(): { codec: Codec; decoders: () => number } {
  const lineJson = createCodec("line-json");
  let decoders = 0;
  const codec: Codec = {
    name: lineJson.name,
    decoder: () => {
      decoders++;
      return lineJson.decoder();
    },
    encode: (frame) => lineJson.encode(frame),
    encodeText: (frame) => lineJson.encodeText?.(frame),
  };
  return { codec, decoders: () => decoders };
}

const within = () => AbortSignal.timeout(5000);

Deno.test("an idle connection makes no decoder until its first bytes, then one", async () => {
  const { codec, decoders } = countingCodec();
  await using server = await new SocketKeeping("keeping", { codec }).start();
  await using idle = await connectPeer(server.addr);
  await using talking = await connectPeer(server.addr);
  await server.journal.waitFor(
    (e) => e.type === "connected" && e.conn === 2,
    { signal: within() },
  );
  assert.equal(server.connections().length, 2);
  assert.equal(decoders(), 0);
  talking.send({ type: "record", id: "r1" });
  talking.send({ type: "record", id: "r2" });
  assert.deepEqual(await talking.next(within()), { type: "ack", id: "r1" });
  assert.deepEqual(await talking.next(within()), { type: "ack", id: "r2" });
  assert.equal(decoders(), 1);
  // A frame cut short by the peer's FIN is still journalled.
  idle.write('{"type":"record","id":"r');
  await idle.close();
  const truncated = await server.journal.waitFor(
    (e) => e.type === "bad_input" && e.conn === 1,
    { signal: within() },
  );
  assert.equal(truncated.code, "truncated");
});

Deno.test("every connection's socket has the same listeners: none made per connection", async () => {
  await using server = await new SocketKeeping("keeping").start();
  await using first = await connectPeer(server.addr);
  await using second = await connectPeer(server.addr);
  await server.journal.waitFor(
    (e) => e.type === "connected" && e.conn === 2,
    { signal: within() },
  );
  const [a, b] = server.sockets;
  for (const event of ["data", "end", "error", "close"]) {
    const listeners = a.listeners(event);
    assert.ok(listeners.length > 0, event);
    assert.equal(listeners.length, b.listenerCount(event), event);
    listeners.forEach((listener, i) =>
      assert.equal(listener, b.listeners(event)[i], `${event} ${i}`)
    );
  }
  // Each still reaches its own connection.
  first.send({ type: "record", id: "a1" });
  second.send({ type: "record", id: "b1" });
  assert.deepEqual(await first.next(within()), { type: "ack", id: "a1" });
  assert.deepEqual(await second.next(within()), { type: "ack", id: "b1" });
  const acks = server.journal.query({ type: "ack_sent" });
  assert.deepEqual(
    acks.map((e) => [e.conn, e.id]).sort(),
    [[1, "a1"], [2, "b1"]],
  );
});
