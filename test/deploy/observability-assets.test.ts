/**
 * The Grafana dashboard and the Prometheus alert rules in deploy/, checked against the metrics
 * the apps really register: every query is parsed with Prometheus' own PromQL grammar
 * (@prometheus-io/lezer-promql), and every metric it selects must exist in a registry built
 * from packages/observability, with the right type for the function applied to it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { parser as PromQLParser } from '@prometheus-io/lezer-promql' with { 'resolution-mode': 'import' };
import { parse as parseYaml } from 'yaml';
import { createRegistry, ingestMetrics, METRIC_PREFIX, relayMetrics } from '@orchestron/observability';

// The package's type declarations are ESM-only; Jest loads its CommonJS build.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { parser } = require('@prometheus-io/lezer-promql') as { parser: typeof PromQLParser };

const repoRoot = path.resolve(__dirname, '../..');
const dashboardFile = path.join(repoRoot, 'deploy/grafana/orchestron-dashboard.json');
const alertsFile = path.join(repoRoot, 'deploy/prometheus/orchestron-alerts.yaml');
const runbookFile = path.join(repoRoot, 'docs/operations.md');

// ---------------------------------------------------------------------------------------------
// Metric names the apps export

type SeriesKind = 'counter' | 'gauge' | 'histogram-series' | 'summary-series' | 'prometheus';

/** Series name -> what it is; histograms and summaries expand to their exposed series. */
async function exportedSeries(): Promise<Map<string, SeriesKind>> {
  const registry = createRegistry('assets-test');
  ingestMetrics(registry);
  relayMetrics(registry);
  const series = new Map<string, SeriesKind>([['up', 'prometheus']]);
  for (const metric of await registry.getMetricsAsJSON()) {
    const type = String(metric.type);
    if (type === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) series.set(`${metric.name}${suffix}`, 'histogram-series');
    } else if (type === 'summary') {
      for (const suffix of ['', '_sum', '_count']) series.set(`${metric.name}${suffix}`, 'summary-series');
    } else {
      series.set(metric.name, type === 'counter' ? 'counter' : 'gauge');
    }
  }
  // Promised by the code half of issue #13 (the relay's per-broker backlog gauges), built on
  // another branch; taken from the registry as soon as it is there. Remove once merged.
  return series;
}

// ---------------------------------------------------------------------------------------------
// PromQL

type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

interface Selector {
  metric: string;
  /** Functions enclosing the selector, innermost first. */
  functions: string[];
}

interface ParsedQuery {
  errors: string[];
  selectors: Selector[];
}

/** Grafana's built-in interval variables, replaced by a duration so the query is plain PromQL. */
const GRAFANA_INTERVALS: Record<string, string> = {
  $__rate_interval: '5m',
  $__interval: '1m',
  $__range: '1h',
};

function parsePromQL(query: string): ParsedQuery {
  const errors: string[] = [];
  const expr = query.replace(/\$__\w+/g, (variable) => {
    const duration = GRAFANA_INTERVALS[variable];
    if (!duration) errors.push(`unknown Grafana variable ${variable}`);
    return duration ?? '5m';
  });
  if (/\$\w/.test(expr)) errors.push('template variables other than the interval ones are not expected');
  const tree = parser.parse(expr);
  const selectors: Selector[] = [];
  const functionsAround = (node: SyntaxNode): string[] => {
    const names: string[] = [];
    for (let parent = node.parent; parent; parent = parent.parent) {
      if (parent.name !== 'FunctionCall') continue;
      const identifier = parent.getChild('FunctionIdentifier');
      if (identifier) names.push(expr.slice(identifier.from, identifier.to));
    }
    return names;
  };
  tree.iterate({
    enter(ref) {
      const node = ref.node;
      if (node.type.isError)
        errors.push(`syntax error at ${node.from}: ${JSON.stringify(expr.slice(node.from, node.from + 20))}`);
      if (node.name === 'Identifier' && node.parent?.name === 'VectorSelector') {
        selectors.push({ metric: expr.slice(node.from, node.to), functions: functionsAround(node) });
      }
      if (node.name === 'LabelName' && expr.slice(node.from, node.to) === '__name__') {
        errors.push('select metrics by name, not with a __name__ matcher');
      }
    },
  });
  if (expr.trim() === '') errors.push('empty query');
  return { errors, selectors };
}

/** What is wrong with one query against the exported series ([] when nothing). */
function queryProblems(query: string, series: Map<string, SeriesKind>): string[] {
  const { errors, selectors } = parsePromQL(query);
  const problems = [...errors];
  if (selectors.length === 0) problems.push('selects no metric');
  for (const { metric, functions } of selectors) {
    const kind = series.get(metric);
    if (!kind) {
      problems.push(`unknown metric ${metric}`);
      continue;
    }
    const innermost = functions[0];
    if (['rate', 'irate', 'increase'].includes(innermost ?? '') && !/counter|series/.test(kind)) {
      problems.push(`${innermost}() of ${metric}, which is a ${kind}, not a counter`);
    }
    if (['deriv', 'delta'].includes(innermost ?? '') && kind !== 'gauge') {
      problems.push(`${innermost}() of ${metric}, which is a ${kind}, not a gauge`);
    }
    if (functions.includes('histogram_quantile') && !metric.endsWith('_bucket')) {
      problems.push(`histogram_quantile() over ${metric}, not a _bucket series`);
    }
  }
  return problems.map((p) => `${p}  [${query.replace(/\s+/g, ' ').trim()}]`);
}

/** Every metric name selected anywhere in the queries. */
function metricsIn(queries: string[]): Set<string> {
  return new Set(queries.flatMap((q) => parsePromQL(q).selectors.map((s) => s.metric)));
}

// ---------------------------------------------------------------------------------------------
// The files

interface Target {
  refId?: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id?: number;
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  gridPos?: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  panels?: Panel[];
  templating?: { list?: Array<{ name: string; type: string; query?: string }> };
}

function readDashboard(): Dashboard {
  return JSON.parse(readFileSync(dashboardFile, 'utf8')) as Dashboard;
}

/** Panels in order, those nested in collapsed rows included. */
function allPanels(dashboard: Dashboard): Panel[] {
  return (dashboard.panels ?? []).flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

const queryPanels = (dashboard: Dashboard): Panel[] => allPanels(dashboard).filter((p) => p.type !== 'row');

function dashboardQueries(dashboard: Dashboard): string[] {
  return queryPanels(dashboard).flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''));
}

interface Rule {
  alert?: string;
  record?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups?: Array<{ name?: string; rules?: Rule[] }>;
}

function readRules(): RuleFile {
  return parseYaml(readFileSync(alertsFile, 'utf8')) as RuleFile;
}

function allRules(file: RuleFile): Rule[] {
  return (file.groups ?? []).flatMap((group) => group.rules ?? []);
}

/** The anchor GitHub gives a Markdown heading. */
function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

// ---------------------------------------------------------------------------------------------
// Tests

let series: Map<string, SeriesKind>;
beforeAll(async () => {
  series = await exportedSeries();
});

describe('the query checks themselves', () => {
  it('know the exported metrics, with the prefix, counters with _total and histogram series, and the process defaults under their standard names', () => {
    expect(series.get(`${METRIC_PREFIX}events_received_total`)).toBe('counter');
    expect(series.get(`${METRIC_PREFIX}outbox_pending`)).toBe('gauge');
    expect(series.get(`${METRIC_PREFIX}delivery_latency_seconds_bucket`)).toBe('histogram-series');
    expect(series.get('process_resident_memory_bytes')).toBe('gauge');
    expect(series.get('nodejs_eventloop_lag_p99_seconds')).toBe('gauge');
    expect(series.has(`${METRIC_PREFIX}process_resident_memory_bytes`)).toBe(false);
    expect(series.has(`${METRIC_PREFIX}delivery_latency_seconds`)).toBe(false);
  });

  it('accept a correct query', () => {
    expect(
      queryProblems(
        'histogram_quantile(0.99, sum by (le) (rate(orchestron_delivery_latency_seconds_bucket[$__rate_interval])))',
        series,
      ),
    ).toEqual([]);
  });

  it('catch a misspelt metric, a syntax error, rate() of a gauge and a quantile without buckets', () => {
    expect(queryProblems('sum(rate(orchestron_outbox_publised_total[5m]))', series).join()).toMatch(
      /unknown metric orchestron_outbox_publised_total/,
    );
    expect(queryProblems('sum(rate(orchestron_outbox_published_total[5m])', series).join()).toMatch(/syntax error/);
    expect(queryProblems('rat(orchestron_outbox_published_total[5m])', series).join()).toMatch(/syntax error/);
    expect(queryProblems('rate(orchestron_outbox_pending[5m])', series).join()).toMatch(/not a counter/);
    expect(
      queryProblems('histogram_quantile(0.5, rate(orchestron_publish_duration_seconds_sum[5m]))', series).join(),
    ).toMatch(/not a _bucket series/);
  });
});

describe('Grafana dashboard', () => {
  it('is a current dashboard with a Prometheus data source variable', () => {
    const dashboard = readDashboard();
    expect(dashboard.uid).toMatch(/^[\w-]{1,40}$/);
    expect(dashboard.title).toBeTruthy();
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.schemaVersion).toBeLessThanOrEqual(41);
    expect(dashboard.templating?.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }),
    );
  });

  it('has panels with unique ids, a place on the 24-column grid, and the variable as data source', () => {
    const dashboard = readDashboard();
    const panels = allPanels(dashboard);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels) {
      const { x, w, h } = panel.gridPos ?? { x: -1, w: 0, h: 0 };
      expect({ panel: panel.title, fits: x >= 0 && w > 0 && h > 0 && x + w <= 24 }).toEqual({
        panel: panel.title,
        fits: true,
      });
    }
    for (const panel of queryPanels(dashboard)) {
      expect({ panel: panel.title, uid: panel.datasource?.uid }).toEqual({ panel: panel.title, uid: '${datasource}' });
      const targets = panel.targets ?? [];
      expect(targets.length).toBeGreaterThan(0);
      const refIds = targets.map((t) => t.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
      for (const target of targets) expect(target.datasource?.uid ?? '${datasource}').toBe('${datasource}');
    }
  });

  it('queries only metrics the apps export, in valid PromQL', () => {
    const queries = dashboardQueries(readDashboard());
    expect(queries.length).toBeGreaterThan(10);
    expect(queries.flatMap((q) => queryProblems(q, series))).toEqual([]);
  });

  it('covers intake, errors, latency, backlog, delivery, the broker and the processes', () => {
    const queries = dashboardQueries(readDashboard());
    const used = metricsIn(queries);
    for (const name of [
      'events_received_total',
      'http_requests_total',
      'http_request_duration_seconds_bucket',
      'outbox_pending',
      'outbox_oldest_pending_age_seconds',
      'outbox_published_total',
      'outbox_failed_total',
      'outbox_dead_lettered_total',
      'publish_duration_seconds_bucket',
      'delivery_latency_seconds_bucket',
      'broker_unavailable_total',
    ]) {
      expect(used).toContain(`${METRIC_PREFIX}${name}`);
    }
    // Node.js defaults keep their standard names, as other Node.js dashboards expect.
    for (const name of ['process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds'])
      expect(used).toContain(name);
    const joined = queries.join('\n');
    expect(joined).toMatch(/sum by \(outcome\) \(rate\(orchestron_events_received_total/);
    for (const status of ['status=~"4.."', 'status=~"5.."', 'status="429"']) expect(joined).toContain(status);
    for (const histogram of ['http_request_duration_seconds_bucket', 'delivery_latency_seconds_bucket']) {
      for (const quantile of ['0.5', '0.99']) {
        expect(joined).toMatch(new RegExp(`histogram_quantile\\(${quantile}, [^\\n]*${histogram}`));
      }
    }
    expect(joined).toMatch(/histogram_quantile\(0\.99, [^\n]*publish_duration_seconds_bucket/);
    // Rows of a broker no relay serves, as the OutboxRowsUnserved alert sees them.
    expect(joined).toContain(
      'max by (broker) (orchestron_outbox_pending) unless on (broker) max by (broker) (orchestron_relay_serves_broker) == 1',
    );
  });
});

describe('Prometheus alert rules', () => {
  const REQUIRED_ALERTS = [
    'OutboxOldestPendingAgeHigh',
    'OutboxBacklogGrowing',
    'DeadLetterQueueGrowing',
    'PublishFailures',
    'BrokerUnavailable',
    'Ingest5xxRate',
    'Ingest429Rate',
    'RelayAbsent',
    'IngestAbsent',
    'OutboxRowsUnserved',
    'DestinationUnbound',
  ];

  it('parse into named groups of rules', () => {
    const file = readRules();
    const names = (file.groups ?? []).map((g) => g.name);
    expect(names.length).toBeGreaterThan(0);
    expect(names.every((n) => typeof n === 'string' && n.length > 0)).toBe(true);
    expect(new Set(names).size).toBe(names.length);
  });

  it('hold every expected alert, once', () => {
    const alerts = allRules(readRules()).map((r) => r.alert);
    expect(alerts.filter((a, i) => alerts.indexOf(a) !== i)).toEqual([]);
    expect(alerts).toEqual(expect.arrayContaining(REQUIRED_ALERTS));
  });

  it('each alert has expr, for, a severity and summary, description and runbook annotations', () => {
    for (const rule of allRules(readRules())) {
      const where = rule.alert ?? rule.record;
      expect({ where, alert: typeof rule.alert }).toEqual({ where, alert: 'string' });
      expect({ where, expr: typeof rule.expr }).toEqual({ where, expr: 'string' });
      expect({ where, for: rule.for }).toEqual({ where, for: expect.stringMatching(/^(\d+(ms|s|m|h|d))+$/) });
      expect({ where, severity: rule.labels?.severity }).toEqual({
        where,
        severity: expect.stringMatching(/^(critical|warning|info)$/),
      });
      for (const key of ['summary', 'description', 'runbook_url']) {
        expect({ where, key, present: (rule.annotations?.[key] ?? '').trim().length > 0 }).toEqual({
          where,
          key,
          present: true,
        });
      }
      expect({ where, runbook: rule.annotations?.runbook_url }).toEqual({
        where,
        runbook: expect.stringMatching(/^https:\/\/orchestron\.dev\/docs\/operations\.md#[a-z0-9-]+$/),
      });
    }
  });

  it('query only metrics the apps export (or up), in valid PromQL', () => {
    const problems = allRules(readRules()).flatMap((rule) =>
      queryProblems(rule.expr ?? '', series).map((p) => `${rule.alert}: ${p}`),
    );
    expect(problems).toEqual([]);
  });

  it('alert on dead letters from the increase of orchestron_outbox_dead_lettered_total', () => {
    const rule = allRules(readRules()).find((r) => r.alert === 'DeadLetterQueueGrowing');
    expect(rule?.expr).toMatch(/increase\(orchestron_outbox_dead_lettered_total\[/);
  });

  it('alert on rows of a broker that no relay serves, per broker', () => {
    const rule = allRules(readRules()).find((r) => r.alert === 'OutboxRowsUnserved');
    expect(rule?.expr?.replace(/\s+/g, ' ')).toBe(
      'max by (broker) (orchestron_outbox_pending) > 0 unless on (broker) max by (broker) (orchestron_relay_serves_broker) == 1',
    );
    expect(rule?.labels?.severity).toBe('critical');
  });

  it('alert on a routed RabbitMQ exchange without a binding, from orchestron_destination_unbound', () => {
    const rule = allRules(readRules()).find((r) => r.alert === 'DestinationUnbound');
    expect(parsePromQL(rule?.expr ?? '').selectors.map((s) => s.metric)).toEqual([
      `${METRIC_PREFIX}destination_unbound`,
    ]);
    expect(rule?.expr).toMatch(/== 1$/);
  });

  it('notice a missing relay or ingest through absent()', () => {
    const rules = allRules(readRules());
    for (const alert of ['RelayAbsent', 'IngestAbsent']) {
      const rule = rules.find((r) => r.alert === alert)!;
      const parsed = parsePromQL(rule.expr!);
      expect({ alert, absent: parsed.selectors.some((s) => s.functions.includes('absent')) }).toEqual({
        alert,
        absent: true,
      });
    }
  });

  it('move every runbook link, and nothing else, to another docs base with with-runbook-base.js', () => {
    const script = path.join(repoRoot, 'deploy/prometheus/with-runbook-base.js');
    const moved = spawnSync(process.execPath, [script, 'https://git.example.com/ops/orchestron/blob/main/docs/'], {
      encoding: 'utf8',
    });
    expect(moved.status).toBe(0);
    const shipped = allRules(readRules());
    const rules = allRules(parseYaml(moved.stdout) as RuleFile);
    expect(rules.map((r) => r.annotations?.runbook_url)).toEqual(
      shipped.map((r) =>
        r.annotations?.runbook_url?.replace(
          'https://orchestron.dev/docs/',
          'https://git.example.com/ops/orchestron/blob/main/docs/',
        ),
      ),
    );
    const withoutLinks = (list: Rule[]): Rule[] =>
      list.map((r) => ({ ...r, annotations: { ...r.annotations, runbook_url: '' } }));
    expect(withoutLinks(rules)).toEqual(withoutLinks(shipped));
    const refused = spawnSync(process.execPath, [script, 'not a url'], { encoding: 'utf8' });
    expect({ status: refused.status, stdout: refused.stdout }).toEqual({ status: 2, stdout: '' });
  });

  it('are each listed, with severity, in the alert table of docs/operations.md', () => {
    const runbook = readFileSync(runbookFile, 'utf8');
    for (const rule of allRules(readRules())) {
      const row = runbook.split('\n').find((line) => line.startsWith(`| \`${rule.alert}\` |`));
      expect({ alert: rule.alert, severity: row?.split('|')[2]?.trim() }).toEqual({
        alert: rule.alert,
        severity: rule.labels?.severity,
      });
    }
  });

  it('link each alert to its own runbook section, which exists once docs/operations.md does', () => {
    const urls = allRules(readRules()).map((r) => r.annotations?.runbook_url ?? '');
    expect(new Set(urls).size).toBe(urls.length);
    if (!existsSync(runbookFile)) return;
    const anchors = new Set(
      readFileSync(runbookFile, 'utf8')
        .split('\n')
        .filter((line) => /^#{1,6}\s/.test(line))
        .map((line) => headingAnchor(line.replace(/^#{1,6}\s+/, ''))),
    );
    const missing = urls.map((u) => u.split('#')[1] ?? '').filter((anchor) => !anchors.has(anchor));
    expect(missing).toEqual([]);
  });
});
