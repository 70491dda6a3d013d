import { PostgresMessageStore } from "./servers/message_store_postgres.ts";
const store = await PostgresMessageStore.connect(
  Deno.env.get("FT_POSTGRES_URL")!,
);
const N = 2000, C = 16;
async function run(label: string, op: (i: number) => Promise<unknown>) {
  const t = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: C }, async () => {
    while (next < N) await op(next++);
  }));
  console.log(label, Math.round(N / ((performance.now() - t) / 1000)), "/s");
}
const tag = Date.now();
await run(
  "put",
  (i) =>
    store.put({
      id: `p${tag}-${i}`,
      to: `r${i % 20}`,
      from: "a",
      body: { n: i },
      storedAt: Date.now(),
    }),
);
await run("ack", (i) => store.ack(`r${i % 20}`, `p${tag}-${i}`));
await run(
  "deliverable",
  (i) => store.deliverable(`r${i % 20}`, "h", { attach: true }),
);
await store.close();
