/**
 * Schema defaults for code that is used without a config file (tests, tools), from the sections
 * themselves: no convict, no environment. Each module's own code takes its section's defaults from
 * its config.ts directly.
 */
import { type AgentConfig, sections } from './schema.js';
import { defaultsOf } from './section.js';

/** Every section's defaults, ignoring environment and CLI. A fresh copy each call. */
export function schemaDefaults(): AgentConfig {
  const out: Record<string, unknown> = {};
  for (const [name, section] of Object.entries(sections)) out[name] = defaultsOf(section as never);
  return out as unknown as AgentConfig;
}
