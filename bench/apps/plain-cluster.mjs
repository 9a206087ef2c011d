// Peer for bench:serve: the same handler on a plain node:cluster server, same worker count.
import cluster from "node:cluster";
import { createServer } from "node:http";
import hello from "./hello.mjs";

const workers = Number(process.env.WORKERS ?? 2);
const port = Number(process.env.PORT ?? 0);
if (cluster.isPrimary) {
  let ready = 0;
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on("message", (_w, m) => {
    if (m?.port && ++ready === workers) console.log(`listening ${m.port}`);
  });
  process.on("SIGTERM", () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    process.exit(0);
  });
} else {
  const s = createServer(hello).listen(port, "127.0.0.1", () => process.send?.({ port: s.address().port }));
}
