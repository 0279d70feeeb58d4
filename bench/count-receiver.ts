/**
 * A minimal OTLP/HTTP sink for benchmarks, in its own process so its CPU is not the agent's:
 * answers 200 to every POST on 127.0.0.1 and counts requests and bytes. Prints "port N".
 */
import { createServer } from 'node:http';

let requests = 0;
let bytes = 0;
const server = createServer((req, res) => {
  req.on('data', (d: Buffer) => {
    bytes += d.length;
  });
  req.on('end', () => {
    requests++;
    res.writeHead(200, { 'content-type': String(req.headers['content-type'] ?? 'application/x-protobuf') });
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`port ${typeof a === 'object' && a ? a.port : 0}\n`);
});
process.on('SIGTERM', () => {
  process.stdout.write(`${JSON.stringify({ requests, bytes })}\n`);
  process.exit(0);
});
