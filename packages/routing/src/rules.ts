/** A destination as written in a routing rule. */
export interface RuleDestination {
  broker: 'rabbitmq' | 'kafka';
  /** Kafka topic (broker kafka). */
  topic?: string;
  /** RabbitMQ exchange (broker rabbitmq). */
  exchange?: string;
  /** RabbitMQ routing key; default: the event type. */
  routing_key?: string;
  /** JSON pointer into the event ({type, source, data}) whose value is the partition key. */
  partition_key?: string;
}

/**
 * Routes events that match: `type` and `source` are globs (`*` matches any run of
 * characters; absent means any). The first matching rule decides, unless it says
 * `continue: true`, in which case later rules may add destinations too (fan-out).
 */
export interface RoutingRule {
  name?: string;
  match?: { type?: string; source?: string };
  destinations: RuleDestination[];
  continue?: boolean;
}

/** A topic or exchange name as routing rules (and replay targets) may give it. */
export const DESTINATION_NAME = /^[A-Za-z0-9._:/-]{1,249}$/;

/** Every problem of a rule list, each with its path (routing.rules[2].destinations[0].topic). */
export function checkRoutingRules(value: unknown): string[] {
  if (!Array.isArray(value)) return ['routing.rules: must be a list of rules'];
  const problems: string[] = [];
  value.forEach((rule: unknown, i) => {
    const at = `routing.rules[${i}]`;
    if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
      problems.push(`${at}: must be a mapping with match and destinations`);
      return;
    }
    const r = rule as Record<string, unknown>;
    for (const key of Object.keys(r)) {
      if (!['name', 'match', 'destinations', 'continue'].includes(key)) problems.push(`${at}.${key}: unknown key`);
    }
    if (r.name !== undefined && typeof r.name !== 'string') problems.push(`${at}.name: must be a string`);
    if (r.continue !== undefined && typeof r.continue !== 'boolean')
      problems.push(`${at}.continue: must be true or false`);
    if (r.match !== undefined) {
      const m = r.match as Record<string, unknown>;
      if (typeof m !== 'object' || m === null || Array.isArray(m)) problems.push(`${at}.match: must be a mapping`);
      else
        for (const [key, v] of Object.entries(m)) {
          if (key !== 'type' && key !== 'source') problems.push(`${at}.match.${key}: unknown key (type, source)`);
          else if (typeof v !== 'string' || v === '') problems.push(`${at}.match.${key}: must be a non-empty glob`);
        }
    }
    if (!Array.isArray(r.destinations) || r.destinations.length === 0) {
      problems.push(`${at}.destinations: must list at least one destination`);
      return;
    }
    r.destinations.forEach((d: unknown, j) => problems.push(...checkDestination(d, `${at}.destinations[${j}]`)));
  });
  return problems;
}

function checkDestination(value: unknown, at: string): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${at}: must be a mapping`];
  const d = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(d)) {
    if (!['broker', 'topic', 'exchange', 'routing_key', 'partition_key'].includes(key))
      problems.push(`${at}.${key}: unknown key`);
  }
  if (d.broker === 'kafka') {
    if (typeof d.topic !== 'string' || !DESTINATION_NAME.test(d.topic))
      problems.push(`${at}.topic: a Kafka destination needs a topic name`);
    if (d.exchange !== undefined) problems.push(`${at}.exchange: not used with broker kafka (use topic)`);
  } else if (d.broker === 'rabbitmq') {
    if (typeof d.exchange !== 'string' || !DESTINATION_NAME.test(d.exchange)) {
      problems.push(`${at}.exchange: a RabbitMQ destination needs an exchange name`);
    }
    if (d.topic !== undefined) problems.push(`${at}.topic: not used with broker rabbitmq (use exchange)`);
  } else {
    problems.push(`${at}.broker: must be kafka or rabbitmq`);
  }
  if (d.routing_key !== undefined && (typeof d.routing_key !== 'string' || d.routing_key.length > 255)) {
    problems.push(`${at}.routing_key: must be a string of at most 255 characters`);
  }
  if (d.partition_key !== undefined && (typeof d.partition_key !== 'string' || !d.partition_key.startsWith('/'))) {
    problems.push(`${at}.partition_key: must be a JSON pointer such as /data/customer_id`);
  }
  return problems;
}
