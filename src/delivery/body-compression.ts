/**
 * The one place request bodies are gzipped: once per batch, before it is stored (delivery.ts), and
 * at send time only for a batch stored in the other form (a segment written before bodies were
 * stored compressed, or a spool left by a run with another otlp.compression; http-sender.ts).
 * Both run on libuv's thread pool (zlib's asynchronous API), never on the main thread.
 */
import { promisify } from 'node:util';
import { gunzip as gunzipCb, gzip as gzipCb, type ZlibOptions } from 'node:zlib';

/**
 * Level 1: on these repetitive bodies it gives most of level 6's size win for ~40 % of the CPU
 * (measured: 1.0–1.8 vs 2.6–4.8 µs per record, output 20–40 % larger); an agent on every host
 * spends CPU, not bandwidth, first.
 */
export const GZIP_LEVEL = 1;

/**
 * 64 KiB output chunks (zlib's default is 16 KiB): each chunk is one trip between the thread pool
 * and the main thread, and a compressed batch of 1,024 records is 50–300 KB.
 */
const OPTIONS: ZlibOptions = { level: GZIP_LEVEL, chunkSize: 64 * 1024 };

const gzip = promisify(gzipCb);
const gunzip = promisify(gunzipCb);

/** The gzip member of `body`, compressed off the main thread. */
export function gzipBody(body: Uint8Array): Promise<Buffer> {
  return gzip(body, OPTIONS);
}

/** `body` decompressed, off the main thread. */
export function gunzipBody(body: Uint8Array): Promise<Buffer> {
  return gunzip(body, { chunkSize: OPTIONS.chunkSize });
}
