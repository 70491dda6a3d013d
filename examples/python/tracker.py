#!/usr/bin/env python3
"""A minimal tracker in mirror mode ("Two servers" ticked), standard library only.

An example of a client under test for the failover-toolkit conformance runner:
it speaks wire protocol v1 (line JSON) to two servers and the client-under-test
contract (docs/protocol.md, part 2) to the runner.

Mirror mode (behaviours TS-1..TS-8, docs/behaviours.md):

- every record goes to IP1, and one copy of it goes to IP2 (TS-1);
- a record leaves memory only when IP1 ACKs it, and is never sent again after
  that (TS-2); until then it is resent to IP1 after each ACK timeout (TS-3);
- IP2 gets each record at most once: its ACKs are ignored and resends to IP1
  are not copied (TS-4); packets of other kinds go to IP1 only (TS-5);
- IP2 is connected only while IP1 is (TS-6); if IP2 is down, the record is
  deleted on IP1's ACK anyway and IP2 misses it (TS-7).

One record is in flight at a time: the oldest in memory.

Run it through the runner:

    deno task conformance --suite two-servers --ack-timeout 300ms \\
      --client "python3 examples/python/tracker.py --ip1 {ip1} --port1 {port1} \\
        --ip2 {ip2} --port2 {port2} --ack-timeout {ackTimeoutMs}ms"

Commands on standard input, one JSON object a line:
{"cmd":"send","id":"r1","kind":"record","data":{}}, {"cmd":"restart"},
{"cmd":"stop"}. Events on standard output: {"event":"connected","server":"ip1"},
{"event":"deleted","id":"r1"}, {"event":"error","message":"..."}. Diagnostics go
to standard error.
"""

import argparse
import asyncio
import json
import os
import re
import sys

PACKET_KINDS = ("transparent", "tachograph", "sdcard", "garmin")


def duration(text):
    """Parses "300ms", "1.5s" or "300" (milliseconds) into seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(
            f'invalid duration "{text}": expected 300ms or 1.5s'
        )
    value = float(match.group(1))
    return value if match.group(2) == "s" else value / 1000


def emit(event, **fields):
    """Prints one contract event on standard output."""
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


def log(message):
    """Prints a diagnostic line on standard error."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


async def cancel(task):
    """Cancels a task (if any) and waits until it has ended; returns None."""
    if task:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass


class Tracker:
    """Device memory, the IP1 link and the IP2 link it depends on."""

    def __init__(self, options):
        self.addrs = {
            "ip1": (options.ip1, options.port1),
            "ip2": (options.ip2, options.port2),
        }
        self.ack_timeout = options.ack_timeout
        self.reconnect_delay = options.reconnect_delay
        self.connect_timeout = options.connect_timeout
        self.memory = []  # [{"id", "kind", "data", "copied"}], oldest first
        self.writers = {"ip1": None, "ip2": None}
        self.in_flight = None
        self.timer = None
        self.ip1_task = None
        self.ip2_task = None

    def start(self):
        self.ip1_task = asyncio.create_task(self.ip1_loop())

    async def stop(self):
        self.clear_in_flight()
        self.ip1_task = await cancel(self.ip1_task)

    async def restart(self):
        """Reboot: drop connections and the record in flight, keep memory."""
        await self.stop()
        log(f"restart: {len(self.memory)} record(s) in memory")
        self.start()

    def send(self, command):
        item_id = command.get("id")
        kind = command.get("kind") or "record"
        if not isinstance(item_id, str) or not item_id:
            return emit("error", message="Cannot send: expected a non-empty id")
        if kind != "record" and kind not in PACKET_KINDS:
            return emit("error", message=f'Cannot send "{item_id}": unknown kind "{kind}"')
        if any(entry["id"] == item_id for entry in self.memory):
            return emit("error", message=f'Cannot send "{item_id}": already in memory')
        self.memory.append(
            {"id": item_id, "kind": kind, "data": command.get("data"), "copied": False}
        )
        self.pump()

    async def connect(self, name):
        host, port = self.addrs[name]
        return await asyncio.wait_for(
            asyncio.open_connection(host, port), self.connect_timeout
        )

    async def link_loop(self, name, up, down=None):
        """Keeps the link to `name`: connects (again after reconnect_delay),
        runs `up(reader)` while connected, then `down()` once it is not."""
        while True:
            try:
                reader, writer = await self.connect(name)
            except (OSError, asyncio.TimeoutError) as error:
                log(f"{name}: cannot connect: {error!r}")
                await asyncio.sleep(self.reconnect_delay)
                continue
            self.writers[name] = writer
            emit("connected", server=name)
            try:
                await up(reader)
                log(f"{name}: connection closed by the server")
            finally:
                self.writers[name] = None
                if down:
                    await down()
                writer.close()
            await asyncio.sleep(self.reconnect_delay)

    async def ip1_loop(self):
        await self.link_loop("ip1", self.ip1_up, self.ip1_down)

    async def ip1_up(self, reader):
        # TS-6: IP2 is connected only while IP1 is.
        self.ip2_task = asyncio.create_task(self.ip2_loop())
        self.pump()
        await self.read_frames("ip1", reader)

    async def ip1_down(self):
        self.clear_in_flight()
        self.ip2_task = await cancel(self.ip2_task)

    async def ip2_loop(self):
        await self.link_loop("ip2", self.ip2_up)

    async def ip2_up(self, reader):
        self.copy_to_ip2()
        await self.read_frames("ip2", reader)

    async def read_frames(self, name, reader):
        while True:
            try:
                line = await reader.readline()
            except (OSError, ValueError) as error:
                log(f"{name}: {error!r}")
                return
            if not line:
                return
            try:
                frame = json.loads(line)
            except ValueError:
                log(f"{name}: not JSON: {line!r}")
                continue
            # TS-2, TS-4: only IP1's ACKs count.
            if name == "ip1" and frame.get("type") == "ack":
                self.on_ack(frame.get("id"))

    def write(self, name, entry):
        frame = {"type": "record", "id": entry["id"]}
        if entry["kind"] != "record":
            frame = {"type": "packet", "kind": entry["kind"], "id": entry["id"]}
        if entry["data"] is not None:
            frame["data"] = entry["data"]
        self.writers[name].write((json.dumps(frame) + "\n").encode())

    def pump(self):
        """Sends the oldest record to IP1, unless one is in flight."""
        if self.in_flight or not self.writers["ip1"] or not self.memory:
            return
        entry = self.memory[0]
        self.write("ip1", entry)
        self.in_flight = entry["id"]
        self.timer = asyncio.get_running_loop().call_later(
            self.ack_timeout, self.on_ack_timeout
        )
        self.copy_to_ip2()

    def copy_to_ip2(self):
        """TS-1, TS-4: one copy of the record in flight to IP2, if connected."""
        if not self.in_flight or not self.writers["ip2"]:
            return
        entry = next(e for e in self.memory if e["id"] == self.in_flight)
        if entry["kind"] != "record" or entry["copied"]:
            return
        self.write("ip2", entry)
        entry["copied"] = True

    def on_ack_timeout(self):
        """TS-3: no ACK from IP1 in time: send the record to IP1 again."""
        self.timer = None
        log(f"ip1: no ACK for {self.in_flight}: resending")
        self.in_flight = None
        self.pump()

    def on_ack(self, item_id):
        entry = next((e for e in self.memory if e["id"] == item_id), None)
        if entry is None:
            return
        self.memory.remove(entry)
        emit("deleted", id=item_id)
        if self.in_flight == item_id:
            self.clear_in_flight()
        self.pump()

    def clear_in_flight(self):
        if self.timer:
            self.timer.cancel()
            self.timer = None
        self.in_flight = None


async def commands():
    """Yields the runner's commands, one JSON object a line on standard input."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )
    while True:
        line = await reader.readline()
        if not line:
            return
        if not line.strip():
            continue
        try:
            command = json.loads(line)
        except ValueError as error:
            emit("error", message=f"Cannot parse command as JSON: {error}")
            continue
        if not isinstance(command, dict):
            emit("error", message="Cannot use command: expected an object")
            continue
        yield command


async def run(options):
    tracker = Tracker(options)
    tracker.start()
    try:
        async for command in commands():
            cmd = command.get("cmd")
            if cmd == "stop":
                break
            if cmd == "send":
                tracker.send(command)
            elif cmd == "restart":
                await tracker.restart()
            else:
                emit("error", message=f'Cannot use command "{cmd}"')
    finally:
        await tracker.stop()


def main():
    env = os.environ.get
    parser = argparse.ArgumentParser(
        description='A minimal tracker in mirror mode ("Two servers" ticked).'
    )
    parser.add_argument("--ip1", default=env("FT_IP1", "127.0.0.1"))
    parser.add_argument("--port1", type=int, default=env("FT_PORT1"))
    parser.add_argument("--ip2", default=env("FT_IP2", "127.0.0.1"))
    parser.add_argument("--port2", type=int, default=env("FT_PORT2"))
    parser.add_argument(
        "--mirror", action="store_true", help="accepted; mirror mode is the only mode"
    )
    parser.add_argument("--ack-timeout", type=duration, default="300ms")
    parser.add_argument("--reconnect-delay", type=duration, default="100ms")
    parser.add_argument("--connect-timeout", type=duration, default="500ms")
    options = parser.parse_args()
    if options.port1 is None or options.port2 is None:
        parser.error("--port1 and --port2 (or FT_PORT1 and FT_PORT2) are required")
    options.port1 = int(options.port1)
    options.port2 = int(options.port2)
    asyncio.run(run(options))


if __name__ == "__main__":
    main()
