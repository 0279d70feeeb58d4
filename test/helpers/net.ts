/**
 * Loopback helpers for tests that need a port before the server behind it exists.
 */
import { createServer } from 'node:net';

/** A port on 127.0.0.1 that was free a moment ago (bind to 0, note the port, close). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
