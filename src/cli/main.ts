#!/usr/bin/env -S node --max-semi-space-size=8
/**
 * cnproc-otel command line: parse flags, load the config, run the agent, exit with its code.
 */
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { runAgent } from '../agent/agent.js';
import { EXIT } from '../agent/exit-codes.js';
import { ConfigError, checkConfigFile, loadConfig, maskSecrets } from '../config/load.js';
import { createLogger } from '../util/log.js';
import { parseCliArgs, UsageError, usage } from './args.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parseCliArgs>;
  try {
    args = parseCliArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`cnproc-otel: ${err.message}\n`);
      return EXIT.USAGE;
    }
    throw err;
  }
  if (args.help) {
    process.stdout.write(usage());
    return EXIT.OK;
  }
  if (args.version) {
    process.stdout.write(`cnproc-otel ${version()}\n`);
    return EXIT.OK;
  }
  try {
    if (args.checkConfig !== undefined) {
      checkConfigFile(args.checkConfig);
      process.stdout.write(`${args.checkConfig}: valid\n`);
      return EXIT.OK;
    }
    const load = () =>
      loadConfig({
        ...(args.configFile !== undefined ? { file: args.configFile } : {}),
        args: args.schemaArgs,
      });
    const config = load();
    if (args.printConfig) {
      process.stdout.write(stringify(maskSecrets(config)));
      return EXIT.OK;
    }
    return await runAgent(config, { stdout: process.stdout, log: createLogger(config.log.level), version: version(), reload: load });
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const line of err.message.split('\n')) process.stderr.write(`cnproc-otel: config: ${line}\n`);
      return EXIT.CONFIG;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`cnproc-otel: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = EXIT.INTERNAL;
  },
);
