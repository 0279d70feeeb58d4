/**
 * Renders docs/attributes.md from ATTRIBUTE_DOCS (`npm run docs:attributes`); a test checks the
 * committed file is current.
 */
import { ATTRIBUTE_DOCS } from './attributes.js';
import { EVENT_NAMES } from './record.js';

export function renderAttributesMarkdown(): string {
  const lines = [
    '# Record attributes',
    '',
    'Generated from `src/otel/attributes.ts` by `npm run docs:attributes`; do not edit by hand.',
    '',
    'Every kernel event becomes one log record. EventName (also in the attribute `cnproc.event.name`):',
    '',
    ...Object.values(EVENT_NAMES).map((n) => `- \`${n}\``),
    '- `cnproc.loss` (WARN): events lost since the last report, with counts by cause',
    '- `cnproc.stats` (INFO): every counter, periodically (`stats.intervalMs`)',
    '- `cnproc.storm` (WARN): fork/exec/exit of one parent and executable, aggregated over a window under pressure',
    '',
    'Severity: INFO for normal events; WARN for a non-zero exit or signal death, a ptrace attach, an',
    'unknown event type and loss; ERROR for a core dump. Timestamp: the kernel time of the event',
    '(nanoseconds); observed timestamp: when the agent read it. Body: one short human line.',
    '',
    'Semantic-convention names (v1.44) where one exists; everything else under `cnproc.`.',
    '',
    'Which records carry an attribute ("on"): `all` is every process-event record; `full` is the records',
    'that carry the whole process context: exec, the exit of a process that exec’d (or was running when',
    'the agent started), and uid_change, gid_change, sid_change, comm_change, ptrace, coredump and',
    'unknown. The other records are lean and carry only the `all` attributes and their own: a fork (the',
    'child runs its parent’s program with its parent’s arguments, ids and cgroup, all on the parent’s',
    'records, found by `cnproc.process.parent_entity_id`), thread exits, and the exit of a forked child',
    'that never exec’d. Fork storms are made of these; copying the parent’s context into each of them',
    'cost about three times the CPU of a lean record (docs/benchmarks.md, "export").',
    '',
    '`workload`: the names of the container a process ran in. The agent puts them on the resource of',
    'the workload (below), not on the records; the library (`startProcessLogs` on a caller’s',
    'LoggerProvider, one resource for all) puts them on full records instead (docs/process.md).',
    '',
    '| attribute | type | on | meaning |',
    '|---|---|---|---|',
  ];
  for (const [name, d] of Object.entries(ATTRIBUTE_DOCS)) {
    lines.push(`| \`${name}\` | ${d.type} | ${d.on} | ${d.brief.replace(/\|/g, '\\|')} |`);
  }
  lines.push(
    '',
    '## Resources',
    '',
    'Records and spans are grouped by what they describe, each group under its own OTLP resource',
    '(one ResourceLogs / ResourceSpans per group in a request):',
    '',
    '- **a workload** (a container, in or out of Kubernetes): the host attributes below plus',
    '  `container.id`, `cnproc.container.runtime`, `container.name`, `container.image.name`,',
    '  `container.image.tags`, `container.image.id`, `k8s.pod.uid`, `k8s.pod.name`, `k8s.namespace.name`,',
    '  `k8s.container.name` and, when the names could not be read, `cnproc.container.unresolved`',
    '  (the `workload` rows above);',
    '- **the host**, for host processes: the host attributes only;',
    '- **the agent**, for its own records (`cnproc.loss`, `cnproc.stats`, `cnproc.storm`) and metrics:',
    '  the resource configured below, with the agent’s own pod identity.',
    '',
    'Host attributes are the agent’s resource without its own workload’s keys: every `container.*`,',
    'and every `k8s.*` except `k8s.node.*` and `k8s.cluster.*`.',
    '',
    '| attribute | source |',
    '|---|---|',
    '| `service.name` | `service.name` key / OTEL_SERVICE_NAME, else service.name in the resource attributes, else `cnproc-otel` |',
    '| `service.version` | the agent version |',
    '| `service.instance.id` | resource attributes, else `host.id` |',
    '| `host.name`, `host.id`, `host.arch` | hostname, /etc/machine-id, CPU architecture |',
    '| `os.type`, `os.description`, `os.version` | `linux`, PRETTY_NAME of /etc/os-release, kernel release |',
    '| `cnproc.boot.id` | /proc/sys/kernel/random/boot_id (with `cnproc.event.id`, unique per event) |',
    '| `k8s.node.name`, `k8s.cluster.name` | K8S_NODE_NAME, K8S_CLUSTER_NAME (DaemonSet downward API; on every resource) |',
    '| `k8s.pod.name`, `k8s.pod.uid`, `k8s.namespace.name` | K8S_POD_NAME, K8S_POD_UID, K8S_NAMESPACE_NAME: the agent’s own pod, on the agent’s resource only |',
    '| anything | `resource.attributes` / OTEL_RESOURCE_ATTRIBUTES (`key=value,...`), overriding the above |',
    '',
  );
  return lines.join('\n');
}
