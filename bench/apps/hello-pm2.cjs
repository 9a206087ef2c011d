// Peer for bench:serve: the same handler under PM2 cluster mode (PM2 wants CommonJS or a script).
const { createServer } = require("node:http");
createServer((_req, res) => {
  res.writeHead(200, { "content-type": "text/plain" });
  res.end("hello world\n");
}).listen(Number(process.env.PORT), "127.0.0.1");
