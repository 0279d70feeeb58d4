/**
 * Schema defaults for code that is used without a config file (the library API), so that every
 * default still lives only in the schema.
 */
import convict from 'convict';
import { type AgentConfig, schema } from './schema.js';

let cached: AgentConfig | undefined;

/** The schema's defaults, ignoring environment and CLI. */
export function schemaDefaults(): AgentConfig {
  cached ??= convict(schema, { env: {}, args: [] }).getProperties();
  return cached;
}

export function captureDefaults(): AgentConfig['capture'] {
  return schemaDefaults().capture;
}

export function processDefaults(): AgentConfig['process'] {
  return schemaDefaults().process;
}
