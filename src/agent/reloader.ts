/**
 * SIGHUP: loads the configuration again, validates it whole (a bad one changes nothing), swaps the
 * filter policy, applies the other live keys through their sections' appliers, and names every
 * change that waits for a restart. What is live is read from the schema (./reload.ts).
 */
import { ConfigError } from '../config/errors.js';
import type { AgentConfig } from '../config/schema.js';
import type { ProcessLogs } from '../pipeline/pipeline.js';
import type { UserDb } from '../process/users.js';
import type { Logger } from '../util/log.js';
import { buildPolicy, describePolicy, type Policy } from './policy.js';
import { type Appliers, applyPlan, checkAppliers, planReload } from './reload.js';

/** Sections the filter policy covers: the reload line describes them as the policy. */
const POLICY_SECTIONS = ['capture', 'filter', 'redaction'] as const;

export interface ReloaderOptions {
  log: Logger;
  /** Loads the configuration again from the same sources; throws ConfigError. Absent: SIGHUP is refused. */
  load: (() => AgentConfig) | undefined;
  users: UserDb;
  config: AgentConfig;
  policy: Policy;
  /** Appliers of the live sections other than the policy's (log, stats, pressure). */
  appliers: Omit<Appliers, (typeof POLICY_SECTIONS)[number]>;
}

export class Reloader {
  /** The configuration in effect: the start one, with the live keys of each accepted reload. */
  private active: AgentConfig;
  private current: Policy;
  private logs: ProcessLogs | null = null;
  private readonly appliers: Appliers;

  constructor(private readonly o: ReloaderOptions) {
    this.active = o.config;
    this.current = o.policy;
    const policy = (): void => undefined; // the policy is swapped on every reload (see hup)
    this.appliers = { ...o.appliers, capture: policy, filter: policy, redaction: policy };
    // At start, before subscribing: a live section without an applier is a bug, not a config error.
    checkAppliers(this.appliers);
  }

  /** The running policy (the redaction follows reloads through it). */
  get policy(): Policy {
    return this.current;
  }

  /** SIGHUP does nothing until the agent runs (pipeline, pressure control, reports). */
  attach(logs: ProcessLogs): void {
    this.logs = logs;
  }

  hup(): void {
    const logs = this.logs;
    if (!logs) return;
    const { log } = this.o;
    if (!this.o.load) {
      log.warn('SIGHUP: no configuration source to reload from; keeping the running configuration');
      return;
    }
    let plan: ReturnType<typeof planReload>;
    let next: Policy;
    try {
      plan = planReload(this.active, this.o.load());
      next = buildPolicy(plan.active, this.o.users);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      log.error(`SIGHUP: the new configuration is invalid, keeping the running one: ${err.message.replace(/\n/g, '; ')}`);
      return;
    }
    // Filter, redaction and subscription switch at once, between two batches (single thread).
    const swapPolicy = (): void => {
      logs.setEvents(next.events, next.exitNonzeroOnly);
      logs.setFilter(next.filter);
      logs.setRedact((argv) => next.redactor.redactArgv(argv));
      this.current = next;
    };
    applyPlan(plan, this.appliers, [swapPolicy]);
    this.active = plan.active;
    const applied = plan.applied.filter((k) => !(POLICY_SECTIONS as readonly string[]).includes(k.split('.')[0] as string));
    log.info(`SIGHUP: configuration reloaded; ${describePolicy(next)}${applied.length > 0 ? `; applied: ${applied.join(', ')}` : ''}`);
    if (plan.restart.length > 0) log.warn(`SIGHUP: changes to ${plan.restart.join(', ')} take effect after a restart`);
  }
}
