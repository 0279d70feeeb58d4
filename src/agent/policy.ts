/**
 * The filter policy: filter rules, redaction and the kernel subscription they imply, built and
 * swapped together (at start and on SIGHUP).
 */
import { ConfigError } from '../config/errors.js';
import type { AgentConfig } from '../config/schema.js';
import { EventFilter } from '../filter/filter.js';
import { Redactor } from '../filter/redact.js';
import { EVENT_TYPES, type EventType } from '../kernel/events.js';
import type { UserDb } from '../process/users.js';

export interface Policy {
  filter: EventFilter;
  redactor: Redactor;
  events: EventType[];
  exitNonzeroOnly: boolean;
}

/** Builds the policy; throws ConfigError (RuleError, a bad redaction pattern, nothing left to capture). */
export function buildPolicy(config: AgentConfig, names: UserDb): Policy {
  const filter = new EventFilter(config.filter.rules, config.filter.defaultAction, names);
  const redactor = new Redactor({
    enabled: config.redaction.enabled,
    marker: config.redaction.marker,
    extraPatterns: config.redaction.patterns,
  });
  const sub = filter.subscription();
  const events = config.capture.events.filter((t) => sub.events.includes(t));
  if (events.length === 0)
    throw new ConfigError('filter: the rules and capture.events together keep no event type; nothing would be captured');
  return { filter, redactor, events, exitNonzeroOnly: config.capture.exitNonzeroOnly || sub.exitNonzeroOnly };
}

export function describePolicy(p: Policy): string {
  const all = p.events.length === EVENT_TYPES.length && !p.exitNonzeroOnly;
  return `filter: ${p.filter.rules.length} rules, default ${p.filter.defaultAction}; event types: ${all ? 'all' : p.events.join(',')}${p.exitNonzeroOnly ? ' (exits: non-zero only)' : ''}`;
}
