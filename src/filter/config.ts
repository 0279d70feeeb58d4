/**
 * The filter and redaction sections (filter.*, redaction.*).
 */

import { BOOLEAN, oneOf, patternList, ruleList } from '../config/formats.js';
import type { ConfigSection } from '../config/section.js';
import { Redactor } from './redact.js';
import { compileRules } from './rules.js';

export interface FilterConfig {
  defaultAction: 'keep' | 'drop';
  rules: unknown[];
}

export const filterSection: ConfigSection<FilterConfig> = {
  reload: 'live',
  keys: {
    defaultAction: {
      doc: 'What happens to an event no rule matches: keep or drop.',
      format: oneOf('filter-default', ['keep', 'drop']),
      default: 'keep',
      env: 'CNPROC_OTEL_FILTER_DEFAULT',
    },
    rules: {
      doc: 'Ordered rules, first match wins: [{ name, action: keep|drop, match: { events, executable, executableRegex, comm, argv, user, group, loginUser, container, containerName, image, namespace, pod, cgroup, parent, ancestor, exitCode, thread } }]. See src/filter/rules.ts.',
      format: ruleList('filter-rules'),
      check: (rules) => {
        compileRules(rules);
      },
      default: [],
    },
  },
};

export interface RedactionConfig {
  enabled: boolean;
  marker: string;
  patterns: string[];
}

export const redactionSection: ConfigSection<RedactionConfig> = {
  reload: 'live',
  keys: {
    enabled: {
      doc: 'Replace secrets in command lines (passwords, tokens, keys, URL credentials) before they leave the host.',
      format: BOOLEAN,
      default: true,
      env: 'CNPROC_OTEL_REDACTION',
    },
    marker: {
      doc: 'What a secret is replaced with.',
      format: String,
      default: '<redacted>',
    },
    patterns: {
      doc: 'Extra regular expressions; a named group "secret" limits the replacement to that group, else the whole match is replaced. A leading (?i) ignores case.',
      format: patternList('redaction-patterns', (patterns) => {
        new Redactor({ extraPatterns: patterns });
      }),
      default: [],
    },
  },
};
