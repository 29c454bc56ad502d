/**
 * docker-compose.yml, the root Dockerfile and the monitoring profile's files, checked without a
 * Docker engine: services and profiles, build args against the Dockerfile's per-app stages,
 * healthchecks, every file a service mounts or the Dockerfile copies, environment names against
 * the configuration keys, and the Prometheus and Grafana provisioning against the compose
 * services they point at. The image healthcheck script is run against a local server.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parse } from 'yaml';
import { configKeys } from '@orchestron/config';

const repoRoot = path.resolve(__dirname, '../..');
const read = (file: string): string => readFileSync(path.join(repoRoot, file), 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string; args?: Record<string, string> };
  profiles?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
  command?: string[];
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const services = compose.services;
const APP_SERVICES = { migrate: 'cli', ingest: 'ingest', relay: 'relay', admin: 'admin' } as const;

// ---------------------------------------------------------------------------------------------
// The Dockerfile, as stages of instructions (continuation lines joined)

interface Stage {
  from: string;
  name?: string;
  instructions: Array<{ op: string; args: string }>;
}

function dockerfileStages(): { globalArgs: string[]; stages: Stage[] } {
  const lines = read('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const globalArgs: string[] = [];
  const stages: Stage[] = [];
  for (const line of lines) {
    const [op = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (op.toUpperCase() === 'FROM') {
      const [from = '', as, name] = rest;
      stages.push({ from, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (stages.length === 0) {
      if (op.toUpperCase() === 'ARG') globalArgs.push(args);
    } else {
      stages[stages.length - 1]?.instructions.push({ op: op.toUpperCase(), args });
    }
  }
  return { globalArgs, stages };
}

const { globalArgs, stages } = dockerfileStages();
const stage = (name: string): Stage | undefined => stages.find((s) => s.name === name);
const ops = (s: Stage | undefined, op: string): string[] =>
  (s?.instructions ?? []).filter((i) => i.op === op).map((i) => i.args);

/** A stage's instructions followed by those of the stages it is built FROM, nearest first. */
function inherited(name: string, op: string): string[] {
  const found: string[] = [];
  for (let s = stage(name); s; s = stage(s.from)) found.push(...ops(s, op));
  return found;
}

/** Sources of COPY instructions that read from the build context (not --from=<stage>). */
function contextCopies(): string[] {
  return stages
    .flatMap((s) => ops(s, 'COPY'))
    .filter((args) => !args.includes('--from='))
    .flatMap((args) => {
      const parts = args.split(/\s+/).filter((p) => !p.startsWith('--'));
      return parts.slice(0, -1);
    });
}

// ---------------------------------------------------------------------------------------------

describe('docker-compose.yml', () => {
  it('runs the stack by default and Prometheus and Grafana only in the monitoring profile', () => {
    const byDefault = Object.keys(services).filter((name) => !services[name]?.profiles);
    expect(byDefault.sort()).toEqual(['admin', 'ingest', 'kafka', 'migrate', 'postgres', 'rabbitmq', 'relay']);
    expect(services.prometheus?.profiles).toEqual(['monitoring']);
    expect(services.grafana?.profiles).toEqual(['monitoring']);
  });

  it('builds each app from the root Dockerfile with its APP build arg, as one image per app', () => {
    for (const [service, app] of Object.entries(APP_SERVICES)) {
      const build = services[service]?.build;
      expect({ service, context: build?.context, dockerfile: build?.dockerfile, args: build?.args }).toEqual({
        service,
        context: '.',
        dockerfile: 'Dockerfile',
        args: { APP: app },
      });
      expect(services[service]?.image).toMatch(new RegExp(`^orchestron/${app}:`));
    }
    for (const old of ['apps/cli/Dockerfile', 'apps/ingest/Dockerfile', 'apps/relay/Dockerfile']) {
      expect({ old, exists: existsSync(path.join(repoRoot, old)) }).toEqual({ old, exists: false });
    }
  });

  it('runs two relay replicas and publishes only the ingest and admin APIs and the monitoring UIs', () => {
    expect(services.relay?.deploy?.replicas).toBe(2);
    const published = Object.fromEntries(
      Object.entries(services)
        .filter(([, s]) => s.ports)
        .map(([name, s]) => [name, s.ports]),
    );
    expect(published).toEqual({
      ingest: ['8080:8080'],
      admin: ['8081:8081'],
      rabbitmq: ['15672:15672'],
      prometheus: ['9090:9090'],
      grafana: ['3000:3000'],
    });
  });

  it('gives every long-running service a healthcheck: its own, or its image HEALTHCHECK', () => {
    for (const name of ['postgres', 'rabbitmq', 'kafka', 'prometheus', 'grafana']) {
      const test = services[name]?.healthcheck?.test ?? [];
      expect({ name, hasCommand: test.length >= 2 }).toEqual({ name, hasCommand: true });
      expect(test[0]).toMatch(/^CMD(-SHELL)?$/);
    }
    for (const app of ['ingest', 'relay', 'admin']) {
      expect({ app, healthcheck: ops(stage(`app-${app}`), 'HEALTHCHECK').length }).toEqual({ app, healthcheck: 1 });
    }
  });

  it('waits only on conditions the services can meet', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect({ name, dependency, exists: dependency in services }).toEqual({ name, dependency, exists: true });
        if (condition === 'service_healthy') {
          const hasHealthcheck =
            services[dependency]?.healthcheck !== undefined ||
            ops(stage(`app-${APP_SERVICES[dependency as keyof typeof APP_SERVICES]}`), 'HEALTHCHECK').length > 0;
          expect({ name, dependency, hasHealthcheck }).toEqual({ name, dependency, hasHealthcheck: true });
        }
      }
    }
    expect(services.ingest?.depends_on?.migrate?.condition).toBe('service_completed_successfully');
    expect(services.relay?.depends_on?.migrate?.condition).toBe('service_completed_successfully');
  });

  it('mounts only files and named volumes that exist', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0] as string;
        if (source.startsWith('.')) {
          expect({ name, source, exists: existsSync(path.join(repoRoot, source)) }).toEqual({
            name,
            source,
            exists: true,
          });
        } else {
          expect({ name, source, declared: source in compose.volumes }).toEqual({ name, source, declared: true });
        }
      }
    }
  });

  it('sets only environment variables the apps read', () => {
    const known = new Set(configKeys().map((key) => key.env));
    for (const service of Object.keys(APP_SERVICES)) {
      const unknown = Object.keys(services[service]?.environment ?? {}).filter((name) => !known.has(name));
      expect({ service, unknown }).toEqual({ service, unknown: [] });
    }
  });
});

describe('Dockerfile', () => {
  it('takes APP before the first stage and ends in the stage of that app', () => {
    expect(globalArgs).toContain('APP=ingest');
    expect(stages[stages.length - 1]?.from).toBe('app-${APP}');
    for (const app of ['ingest', 'relay', 'admin', 'cli']) expect(stage(`app-${app}`)).toBeDefined();
  });

  it('builds on node:22-alpine and deploys the app with production dependencies only', () => {
    expect(globalArgs).toContain('NODE_IMAGE=node:22-alpine');
    expect(stage('build')?.from).toBe('${NODE_IMAGE}');
    expect(stage('runtime')?.from).toBe('${NODE_IMAGE}');
    expect(ops(stage('build'), 'RUN').join('\n')).toMatch(
      /pnpm --filter "@orchestron\/\$APP" deploy --prod --legacy \/out/,
    );
    expect(ops(stage('runtime'), 'COPY')).toEqual(['--from=build /out /app']);
    expect(ops(stage('runtime'), 'ENV')).toContain('NODE_ENV=production');
  });

  it('runs every app as the non-root user node', () => {
    for (const app of ['ingest', 'relay', 'admin', 'cli']) {
      expect({ app, user: inherited(`app-${app}`, 'USER')[0] }).toEqual({ app, user: 'node' });
    }
  });

  it('exposes and probes the default ports of ingest, relay and admin', () => {
    expect(ops(stage('app-ingest'), 'EXPOSE')).toEqual(['8080']);
    expect(ops(stage('app-admin'), 'EXPOSE')).toEqual(['8081']);
    expect(ops(stage('app-admin'), 'HEALTHCHECK')[0]).toMatch(/"ORCHESTRON_ADMIN_ADDRESS", "8081"/);
    expect(ops(stage('app-relay'), 'EXPOSE')).toEqual(['9091']);
    expect(ops(stage('app-ingest'), 'HEALTHCHECK')[0]).toMatch(/"ORCHESTRON_API_ADDRESS", "8080"/);
    expect(ops(stage('app-relay'), 'HEALTHCHECK')[0]).toMatch(/"ORCHESTRON_RELAY_ADDRESS", "9091"/);
    expect(ops(stage('app-cli'), 'CMD')).toEqual(['["migrate", "latest"]']);
  });

  it('copies only paths that exist in the build context and are not docker-ignored', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
    for (const source of contextCopies()) {
      expect({ source, exists: existsSync(path.join(repoRoot, source)) }).toEqual({ source, exists: true });
      expect({
        source,
        ignored: ignored.some((pattern) => source.split('/').includes(pattern.replace('**/', ''))),
      }).toEqual({
        source,
        ignored: false,
      });
    }
  });
});

describe('monitoring profile', () => {
  const prometheus = parse(read('deploy/prometheus/prometheus.yml')) as {
    rule_files: string[];
    scrape_configs: Array<{
      job_name: string;
      static_configs?: Array<{ targets: string[] }>;
      dns_sd_configs?: Array<{ names: string[]; port: number }>;
    }>;
  };
  const mountTarget = (service: string, source: string): string | undefined =>
    services[service]?.volumes?.find((v) => v.startsWith(`${source}:`))?.split(':')[1];

  it('loads the alert rules file the compose file mounts', () => {
    expect(prometheus.rule_files).toEqual([mountTarget('prometheus', './deploy/prometheus/orchestron-alerts.yaml')]);
    expect(mountTarget('prometheus', './deploy/prometheus/prometheus.yml')).toBe('/etc/prometheus/prometheus.yml');
  });

  it('scrapes ingest and every relay replica on the ports they listen on', () => {
    const jobs = Object.fromEntries(prometheus.scrape_configs.map((job) => [job.job_name, job]));
    expect(jobs.ingest?.static_configs?.[0]?.targets).toEqual(['ingest:8080']);
    expect(jobs.relay?.dns_sd_configs?.[0]).toMatchObject({ names: ['relay'], port: 9091 });
  });

  it('provisions Grafana with the Prometheus service and the Orchestron dashboard', () => {
    const datasources = parse(read('deploy/grafana/provisioning/datasources/prometheus.yaml')) as {
      datasources: Array<{ type: string; url: string; isDefault: boolean }>;
    };
    expect(datasources.datasources).toEqual([
      expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true }),
    ]);
    const providers = parse(read('deploy/grafana/provisioning/dashboards/orchestron.yaml')) as {
      providers: Array<{ type: string; options: { path: string } }>;
    };
    const dashboardTarget = mountTarget('grafana', './deploy/grafana/orchestron-dashboard.json');
    expect(path.dirname(dashboardTarget ?? '')).toBe(providers.providers[0]?.options.path);
    expect(mountTarget('grafana', './deploy/grafana/provisioning')).toBe('/etc/grafana/provisioning');
  });
});

describe('image healthcheck script', () => {
  async function runAgainst(status: number, env: Record<string, string> = {}): Promise<number | null> {
    const server = http.createServer((req, res) => {
      res.writeHead(req.url === '/health' ? status : 404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      // spawnSync would block the server's event loop; run it from a promise instead.
      return await new Promise((resolve) => {
        const child = spawn(
          process.execPath,
          [path.join(repoRoot, 'deploy/docker/healthcheck.js'), 'ORCHESTRON_API_ADDRESS', '1'],
          { env: { ORCHESTRON_API_ADDRESS: `:${port}`, ...env }, stdio: 'ignore' },
        );
        child.on('exit', (code) => resolve(code));
      });
    } finally {
      server.close();
    }
  }

  it('succeeds when /health answers 200 on the port of the configured address', async () => {
    expect(await runAgainst(200)).toBe(0);
  });

  it('fails when /health does not answer 200, or nothing listens', async () => {
    expect(await runAgainst(503)).toBe(1);
    const nothing = spawnSync(process.execPath, [path.join(repoRoot, 'deploy/docker/healthcheck.js'), 'X', '1'], {
      env: {},
    });
    expect(nothing.status).toBe(1);
  });
});
