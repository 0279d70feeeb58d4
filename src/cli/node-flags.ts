/**
 * The Node.js flags every way of starting the agent passes (package.json's start script, the
 * command's shebang, the .deb's /usr/bin/cnproc-otel, the container's entrypoint; a test checks
 * that each carries exactly these). V8 reads them only when the main isolate is made, so the
 * agent cannot set them itself.
 *
 * `--max-semi-space-size=8` (MiB; V8's default is 16): V8 starts marking the old generation as
 * soon as the room left under its limit is smaller than the young generation. With a 15 MB live
 * heap and a 16 MiB young generation that held at a steady exec rate, so the agent ran a full
 * collection two to three times a second (33–35 in 10 s at 1,600 exec/s on Node 20, 15 on 22),
 * each one marking the whole heap on four helper threads. With 8 MiB: 10–11. Measured at 1,600
 * exec/s, two alternating rounds: 312–327 µs CPU per exec against 339–360 (helper threads 54–59
 * against 65–67 µs, main thread 79–82 against 87–93); a 2 × 100,000-fork storm: the same CPU
 * (17.9–19.8 against 19.2–19.7 s), peak RSS 146–153 MiB against 157–168 (docs/benchmarks.md).
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];
