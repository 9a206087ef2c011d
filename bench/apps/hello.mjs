// The hello-world handler every stack in bench:serve runs.
export default function hello(_req, res) {
  res.writeHead(200, { "content-type": "text/plain" });
  res.end("hello world\n");
}
