/**
 * The Kubernetes manifests in deploy/k8s, checked offline: every object against the official
 * Kubernetes OpenAPI schemas (and KEDA's CRD schemas) as shipped in kubernetes-models, unknown
 * fields included; then what the apps need from them (config keys, env names, probe paths,
 * ports, shutdown deadlines, security context).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { configKeys, loadConfig, parseListenAddress, type OrchestronConfig } from '@orchestron/config';
import {
  createLogger,
  createRegistry,
  httpMetrics,
  ingestMetrics,
  relayMetrics,
  startOpsServer,
} from '@orchestron/observability';
import { createAdminApp } from '../../apps/admin/src/app';
import { createIngestApp } from '../../apps/ingest/src/app';

const repoRoot = path.resolve(__dirname, '../..');
const k8sRoot = path.join(repoRoot, 'deploy/k8s');
const APPS = ['ingest', 'relay', 'admin', 'migrate'] as const;
type App = (typeof APPS)[number];
const NAMESPACE = 'orchestron';
const IMAGES: Record<App, string> = {
  ingest: 'orchestron/ingest',
  relay: 'orchestron/relay',
  admin: 'orchestron/admin',
  migrate: 'orchestron/cli',
};
/** Where each long-running app serves /health, /ready and /metrics. */
const LISTEN_KEY: Partial<Record<App, (config: OrchestronConfig) => string>> = {
  ingest: (config) => config.api.address,
  relay: (config) => config.relay.address,
  admin: (config) => config.admin.address,
};
/** Environment variables the manifests may set that are not configuration keys. */
const NON_CONFIG_ENV = new Set(['ORCHESTRON_CONFIG', 'NODE_OPTIONS']);
const OUTBOX_DEPTH_QUERY = "select count(*) from outbox where status = 'pending' and next_attempt_at <= now()";

// ---------------------------------------------------------------------------------------------
// Loading

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

interface Manifest {
  /** Path relative to the repository root. */
  file: string;
  object: K8sObject;
}

/** YAML 1.1, as kubectl reads manifests (so `yes`/`on` would be booleans here too). */
function readYamlDocuments(file: string): unknown[] {
  const documents = parseAllDocuments(readFileSync(file, 'utf8'), { version: '1.1', prettyErrors: true });
  return documents.map((doc, index) => {
    if (doc.errors.length > 0) {
      throw new Error(`${file} document ${index}: ${doc.errors.map((e) => e.message).join('; ')}`);
    }
    return doc.toJS() as unknown;
  });
}

function readManifests(file: string): Manifest[] {
  return readYamlDocuments(file)
    .filter((object) => object !== null)
    .map((object) => ({ file: path.relative(repoRoot, file), object: object as K8sObject }));
}

interface Kustomization {
  kind: string;
  namespace?: string;
  resources?: string[];
  images?: Array<{ name: string; newTag?: string; newName?: string }>;
}

function readKustomization(dir: string): Kustomization {
  return readYamlDocuments(path.join(dir, 'kustomization.yaml'))[0] as Kustomization;
}

/** Every object a kustomization renders, following directory resources (one level or more). */
function kustomizationManifests(dir: string): Manifest[] {
  return (readKustomization(dir).resources ?? []).flatMap((resource) => {
    const target = path.join(dir, resource);
    return statSync(target).isDirectory() ? kustomizationManifests(target) : readManifests(target);
  });
}

const appDir = (app: App): string => path.join(k8sRoot, app);
const manifestsOf = (app: App): Manifest[] => kustomizationManifests(appDir(app));
const secretExampleOf = (app: App): Manifest[] => readManifests(path.join(appDir(app), 'secret.example.yaml'));

function only(app: App, kind: string): K8sObject {
  const found = manifestsOf(app).filter((m) => m.object.kind === kind);
  if (found.length !== 1) throw new Error(`${app}: expected one ${kind}, found ${found.length}`);
  return found[0]!.object;
}

function exampleSecret(app: App): { name: string; keys: string[] } {
  const secrets = secretExampleOf(app).filter((m) => m.object.kind === 'Secret');
  expect(secrets).toHaveLength(1);
  const secret = secrets[0]!.object as K8sObject & { stringData?: Record<string, string>; data?: object };
  return {
    name: secret.metadata.name,
    keys: [...Object.keys(secret.stringData ?? {}), ...Object.keys(secret.data ?? {})],
  };
}

// Shapes of the parts of pod specs the checks below read; the schemas validate the rest.
interface Probe {
  httpGet?: { path?: string; port: number | string };
}
interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type?: string };
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  command?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: EnvVar[];
  envFrom?: unknown[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: SecurityContext;
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command?: string[] } } };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}
interface PodSpec {
  automountServiceAccountToken?: boolean;
  serviceAccountName?: string;
  terminationGracePeriodSeconds?: number;
  restartPolicy?: string;
  securityContext?: SecurityContext;
  containers: Container[];
  initContainers?: Container[];
  volumes?: Array<{ name: string; emptyDir?: object; configMap?: { name: string }; secret?: object }>;
}
interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec: PodSpec;
}

/** The pod template of a Deployment or Job. */
function podTemplateOf(object: K8sObject): PodTemplate {
  return (object.spec as { template: PodTemplate }).template;
}

function workloadOf(app: App): K8sObject {
  return only(app, app === 'migrate' ? 'Job' : 'Deployment');
}

/** The app's config file, as the pod sees it: ORCHESTRON_CONFIG resolved through the mount. */
function configFileOf(app: App): { configMap: K8sObject; key: string; text: string } {
  const pod = podTemplateOf(workloadOf(app)).spec;
  const container = pod.containers[0]!;
  const configPath = container.env?.find((e) => e.name === 'ORCHESTRON_CONFIG')?.value;
  if (!configPath) throw new Error(`${app}: ORCHESTRON_CONFIG is not set`);
  const mount = container.volumeMounts?.find((m) => configPath.startsWith(`${m.mountPath}/`));
  if (!mount) throw new Error(`${app}: ORCHESTRON_CONFIG ${configPath} is not inside a volume mount`);
  const volume = pod.volumes?.find((v) => v.name === mount.name);
  if (!volume?.configMap) throw new Error(`${app}: volume ${mount.name} is not a ConfigMap`);
  const configMap = manifestsOf(app).find(
    (m) => m.object.kind === 'ConfigMap' && m.object.metadata.name === volume.configMap!.name,
  )?.object;
  if (!configMap) throw new Error(`${app}: ConfigMap ${volume.configMap.name} is not in the kustomization`);
  const key = path.posix.relative(mount.mountPath, configPath);
  const text = (configMap.data as Record<string, string> | undefined)?.[key];
  if (text === undefined) throw new Error(`${app}: ConfigMap ${configMap.metadata.name} has no key ${key}`);
  return { configMap, key, text };
}

function loadAppConfig(app: App): OrchestronConfig {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orchestron-k8s-'));
  try {
    const file = path.join(dir, 'config.yaml');
    writeFileSync(file, configFileOf(app).text);
    return loadConfig({ file, env: {} });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Schemas

interface ModelClass {
  new (data: never): { validate(): void };
}
/** apiVersion/kind -> the kubernetes-models class (runtime validation) and its TypeScript type. */
const SCHEMAS: Record<string, { model: ModelClass; typeModule: string; typeName: string }> = {
  'v1/Namespace': { model: Namespace, typeModule: 'kubernetes-models/v1/Namespace', typeName: 'INamespace' },
  'v1/ServiceAccount': {
    model: ServiceAccount,
    typeModule: 'kubernetes-models/v1/ServiceAccount',
    typeName: 'IServiceAccount',
  },
  'v1/ConfigMap': { model: ConfigMap, typeModule: 'kubernetes-models/v1/ConfigMap', typeName: 'IConfigMap' },
  'v1/Secret': { model: Secret, typeModule: 'kubernetes-models/v1/Secret', typeName: 'ISecret' },
  'v1/Service': { model: Service, typeModule: 'kubernetes-models/v1/Service', typeName: 'IService' },
  'apps/v1/Deployment': {
    model: Deployment,
    typeModule: 'kubernetes-models/apps/v1/Deployment',
    typeName: 'IDeployment',
  },
  'batch/v1/Job': { model: Job, typeModule: 'kubernetes-models/batch/v1/Job', typeName: 'IJob' },
  'policy/v1/PodDisruptionBudget': {
    model: PodDisruptionBudget,
    typeModule: 'kubernetes-models/policy/v1/PodDisruptionBudget',
    typeName: 'IPodDisruptionBudget',
  },
  'autoscaling/v2/HorizontalPodAutoscaler': {
    model: HorizontalPodAutoscaler,
    typeModule: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
    typeName: 'IHorizontalPodAutoscaler',
  },
  'keda.sh/v1alpha1/ScaledObject': {
    model: ScaledObject,
    typeModule: '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject',
    typeName: 'IScaledObject',
  },
  'keda.sh/v1alpha1/TriggerAuthentication': {
    model: TriggerAuthentication,
    typeModule: '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication',
    typeName: 'ITriggerAuthentication',
  },
};

const schemaKey = (object: K8sObject): string => `${object.apiVersion}/${object.kind}`;
const describeObject = (m: Manifest): string => `${m.file}: ${m.object.kind} ${m.object.metadata?.name}`;

/** The schema errors of one object ([] when valid); ajv-compiled OpenAPI schemas, no network. */
function schemaErrors(manifest: Manifest): string[] {
  const schema = SCHEMAS[schemaKey(manifest.object)];
  if (!schema) return [`no schema known for ${schemaKey(manifest.object)}`];
  try {
    new schema.model(manifest.object as never).validate();
    return [];
  } catch (error) {
    return [(error as Error).message];
  }
}

/**
 * Fields the schema does not define. The OpenAPI schemas allow unknown properties, but the API
 * server rejects them (kubectl's default strict field validation), so a typo such as
 * `livenessprobe` would pass the schema and fail at apply time. kubernetes-models' TypeScript
 * types are generated from the same schemas, and the compiler's excess-property check on an
 * object literal finds unknown fields at any depth: each object becomes one typed constant.
 */
function unknownFieldErrors(manifests: Manifest[]): string[] {
  const virtualFile = path.join(repoRoot, 'test/deploy/__manifests_typecheck__.ts');
  const imports = new Set<string>();
  const lines: string[] = [];
  manifests.forEach((manifest, index) => {
    const schema = SCHEMAS[schemaKey(manifest.object)];
    if (!schema) return;
    imports.add(`import type { ${schema.typeName} } from '${schema.typeModule}';`);
    lines.push(`export const m${index}: ${schema.typeName} = ${JSON.stringify(manifest.object)};`);
  });
  const header = [...imports];
  const source = [...header, ...lines].join('\n');
  const host = ts.createCompilerHost({});
  const readSource = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.getSourceFile = (file, languageVersion, ...rest) =>
    file === virtualFile
      ? ts.createSourceFile(file, source, languageVersion)
      : readSource(file, languageVersion, ...rest);
  host.fileExists = (file) => file === virtualFile || fileExists(file);
  const program = ts.createProgram(
    [virtualFile],
    {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
      lib: ['lib.es2022.d.ts'],
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
    },
    host,
  );
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    if (diagnostic.file?.fileName !== virtualFile || diagnostic.start === undefined) return message;
    const line = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line;
    const manifestIndex = Number(/^export const m(\d+):/.exec(lines[line - header.length] ?? '')?.[1]);
    const manifest = manifests[manifestIndex];
    return manifest ? `${describeObject(manifest)}: ${message}` : message;
  });
}

// ---------------------------------------------------------------------------------------------
// Tests

describe('kustomizations', () => {
  it.each(APPS)('%s: a kustomization in the orchestron namespace whose resources all exist', (app) => {
    const kustomization = readKustomization(appDir(app));
    expect(kustomization.kind).toBe('Kustomization');
    expect(kustomization.namespace).toBe(NAMESPACE);
    expect(kustomization.resources?.length).toBeGreaterThan(0);
    for (const resource of kustomization.resources ?? []) {
      const target = path.join(appDir(app), resource);
      expect(existsSync(target) ? resource : `${resource} (missing)`).toBe(resource);
      if (statSync(target).isDirectory()) expect(existsSync(path.join(target, 'kustomization.yaml'))).toBe(true);
    }
    // Ingest, relay and migrate bring the shared namespace along, so each applies on an empty
    // cluster; admin follows DESIGN.md's rule that no app folder includes it.
    expect(manifestsOf(app).some((m) => m.object.kind === 'Namespace' && m.object.metadata.name === NAMESPACE)).toBe(
      app !== 'admin',
    );
  });

  it.each(APPS)('%s: every manifest file is listed, and the secret example is not', (app) => {
    const listed = new Set(readKustomization(appDir(app)).resources);
    const yamlFiles = readdirSync(appDir(app)).filter((f) => /\.ya?ml$/.test(f));
    expect(yamlFiles).toContain('secret.example.yaml');
    expect(listed.has('secret.example.yaml')).toBe(false);
    const unlisted = yamlFiles.filter(
      (f) => f !== 'kustomization.yaml' && f !== 'secret.example.yaml' && !listed.has(f),
    );
    expect(unlisted).toEqual([]);
  });

  it.each(APPS)('%s: the image is pinned to a tag in `images:` and used by the workload', (app) => {
    const images = readKustomization(appDir(app)).images ?? [];
    const entry = images.find((i) => i.name === IMAGES[app]);
    expect(entry?.newTag).toMatch(/^[\w][\w.-]{0,127}$/);
    const used = podTemplateOf(workloadOf(app)).spec.containers.map((c) => c.image);
    expect(used).toEqual([IMAGES[app]]);
    for (const image of used) expect(images.map((i) => i.name)).toContain(image);
  });
});

describe('Kubernetes schemas (offline, kubernetes-models)', () => {
  const all = (): Manifest[] => {
    const seen = new Set<string>();
    return APPS.flatMap((app) => [...manifestsOf(app), ...secretExampleOf(app)]).filter((m) => {
      const id = `${m.file}/${m.object.kind}/${m.object.metadata?.name}`;
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    });
  };

  it('every object, the secret examples included, is valid against its schema', () => {
    const manifests = all();
    expect(manifests.length).toBeGreaterThan(15);
    const errors = manifests.flatMap((m) => schemaErrors(m).map((e) => `${describeObject(m)}: ${e}`));
    expect(errors).toEqual([]);
  });

  it('no object has a field its schema does not define', () => {
    expect(unknownFieldErrors(all())).toEqual([]);
  });

  it('the checks catch a wrong type and a misspelt field', () => {
    const mutated = (change: (container: Record<string, unknown>) => void): Manifest => {
      const deployment = structuredClone(workloadOf('ingest'));
      change(podTemplateOf(deployment).spec.containers[0] as unknown as Record<string, unknown>);
      return { file: 'mutated', object: deployment };
    };
    const wrongType = mutated((c) => {
      (c.ports as Array<Record<string, unknown>>)[0]!.containerPort = '8080';
    });
    const misspelt = mutated((c) => {
      c.readinessprobe = c.readinessProbe;
      delete c.readinessProbe;
    });
    expect(schemaErrors(wrongType).join('\n')).toMatch(/containerPort must be integer/);
    expect(schemaErrors(misspelt)).toEqual([]);
    expect(unknownFieldErrors([misspelt]).join('\n')).toMatch(/'"?readinessprobe"?' does not exist/);
  });
});

describe('object conventions', () => {
  it.each(APPS)('%s: objects are namespaced and carry the app.kubernetes.io labels', (app) => {
    for (const { object } of [...manifestsOf(app), ...secretExampleOf(app)]) {
      const where = `${object.kind} ${object.metadata.name}`;
      const labels = object.metadata.labels ?? {};
      expect({ where, partOf: labels['app.kubernetes.io/part-of'] }).toEqual({ where, partOf: 'orchestron' });
      expect({ where, name: typeof labels['app.kubernetes.io/name'] }).toEqual({ where, name: 'string' });
      expect({ where, component: typeof labels['app.kubernetes.io/component'] }).toEqual({
        where,
        component: 'string',
      });
      if (object.kind !== 'Namespace')
        expect({ where, ns: object.metadata.namespace }).toEqual({ where, ns: NAMESPACE });
    }
  });

  it.each(APPS)('%s: the pod template carries the selector labels', (app) => {
    const workload = workloadOf(app);
    const labels = podTemplateOf(workload).metadata?.labels ?? {};
    expect(labels['app.kubernetes.io/name']).toBe(app);
    expect(labels['app.kubernetes.io/part-of']).toBe('orchestron');
    const selector = (workload.spec as { selector?: { matchLabels: Record<string, string> } }).selector;
    if (workload.kind === 'Deployment') expect(labels).toMatchObject(selector!.matchLabels);
    for (const { object } of manifestsOf(app)) {
      const spec = object.spec as { selector?: Record<string, string> & { matchLabels?: Record<string, string> } };
      if (object.kind === 'Service') expect(labels).toMatchObject(spec.selector!);
      if (object.kind === 'PodDisruptionBudget') expect(labels).toMatchObject(spec.selector!.matchLabels!);
    }
  });
});

describe('pod security', () => {
  it.each(APPS)('%s: restrictive pod and container security contexts, no service account token', (app) => {
    const pod = podTemplateOf(workloadOf(app)).spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    for (const container of [...pod.containers, ...(pod.initContainers ?? [])]) {
      const context = container.securityContext ?? {};
      expect(context).toMatchObject({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
      expect(context.runAsUser ?? pod.securityContext?.runAsUser).toBe(1000);
      expect(context.privileged ?? false).toBe(false);
      expect(context.capabilities?.add ?? []).toEqual([]);
      expect((context.seccompProfile ?? pod.securityContext?.seccompProfile)?.type).toBe('RuntimeDefault');
    }
  });

  it.each(APPS)('%s: a writable emptyDir at /tmp, as the root filesystem is read-only', (app) => {
    const pod = podTemplateOf(workloadOf(app)).spec;
    for (const container of pod.containers) {
      const tmp = container.volumeMounts?.find((m) => m.mountPath === '/tmp');
      expect(tmp).toBeDefined();
      expect(pod.volumes?.find((v) => v.name === tmp!.name)?.emptyDir).toBeDefined();
    }
  });

  it.each(APPS)('%s: requests and limits for CPU and memory', (app) => {
    for (const container of podTemplateOf(workloadOf(app)).spec.containers) {
      for (const kind of ['requests', 'limits'] as const) {
        expect(Object.keys(container.resources?.[kind] ?? {}).sort()).toEqual(['cpu', 'memory']);
      }
    }
  });
});

describe('configuration', () => {
  const keys = configKeys();
  const envNames = new Set(keys.map((k) => k.env));
  const keyPaths = new Set(keys.map((k) => k.path));

  /** Leaf paths of a YAML mapping, stopping at schema keys (whose values may be lists). */
  function leafPaths(node: unknown, prefix = ''): string[] {
    if (prefix && keyPaths.has(prefix)) return [prefix];
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return [prefix];
    return Object.entries(node).flatMap(([key, child]) => leafPaths(child, prefix ? `${prefix}.${key}` : key));
  }

  it.each(APPS)('%s: every key of the ConfigMap config file is a schema key, none of them a secret', (app) => {
    const parsed = readYamlDocumentsFromText(configFileOf(app).text);
    const paths = leafPaths(parsed);
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.filter((p) => !keyPaths.has(p))).toEqual([]);
    const sensitive = keys.filter((k) => k.sensitive).map((k) => k.path);
    expect(paths.filter((p) => sensitive.includes(p))).toEqual([]);
  });

  it.each(APPS)('%s: the ConfigMap config file loads with the real loader', (app) => {
    expect(() => loadAppConfig(app)).not.toThrow();
  });

  it.each(APPS)('%s: every env name is a config key, its _FILE form, or ORCHESTRON_CONFIG', (app) => {
    for (const container of podTemplateOf(workloadOf(app)).spec.containers) {
      expect(container.envFrom ?? []).toEqual([]);
      const names = (container.env ?? []).map((e) => e.name);
      expect(names).toContain('ORCHESTRON_CONFIG');
      const unknown = names.filter(
        (n) => !NON_CONFIG_ENV.has(n) && !envNames.has(n) && !envNames.has(n.replace(/_FILE$/, '')),
      );
      expect(unknown).toEqual([]);
    }
  });

  it.each(APPS)('%s: every secret reference names a key of the secret example, and each key is a config env', (app) => {
    const secret = exampleSecret(app);
    expect(secret.keys.length).toBeGreaterThan(0);
    expect(secret.keys.filter((k) => !envNames.has(k))).toEqual([]);
    expect(secret.keys).toContain('DATABASE_URL');
    const refs = podTemplateOf(workloadOf(app))
      .spec.containers.flatMap((c) => c.env ?? [])
      .flatMap((e) => (e.valueFrom?.secretKeyRef ? [{ env: e.name, ...e.valueFrom.secretKeyRef }] : []));
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect({ ref: ref.env, secret: ref.name }).toEqual({ ref: ref.env, secret: secret.name });
      expect(secret.keys).toContain(ref.key);
      // The env name and the Secret key agree, so the Secret reads like the app's env.
      expect(ref.key).toBe(ref.env);
    }
  });

  it('ingest and relay agree on the broker (ingest writes the route the relay publishes)', () => {
    expect(loadAppConfig('ingest').broker.type).toBe(loadAppConfig('relay').broker.type);
  });
});

describe('long-running apps (ingest, relay, admin)', () => {
  const SERVED = ['ingest', 'relay', 'admin'] as const;

  function containerOf(app: (typeof SERVED)[number]): Container {
    const containers = podTemplateOf(workloadOf(app)).spec.containers;
    expect(containers).toHaveLength(1);
    return containers[0]!;
  }

  function probePort(container: Container, probe: Probe): number {
    const port = probe.httpGet!.port;
    if (typeof port === 'number') return port;
    const named = container.ports?.find((p) => p.name === port);
    if (!named) throw new Error(`probe port ${port} is not a container port`);
    return named.containerPort;
  }

  it.each(SERVED)('%s: startup and liveness probe /health, readiness probes /ready', (app) => {
    const container = containerOf(app);
    expect(container.startupProbe?.httpGet?.path).toBe('/health');
    expect(container.livenessProbe?.httpGet?.path).toBe('/health');
    expect(container.readinessProbe?.httpGet?.path).toBe('/ready');
  });

  it.each(SERVED)('%s: probes and container port use the port of the configured listen address', (app) => {
    const container = containerOf(app);
    const { port } = parseListenAddress(LISTEN_KEY[app]!(loadAppConfig(app)));
    expect(container.ports?.map((p) => p.containerPort)).toContain(port);
    for (const probe of [container.startupProbe, container.livenessProbe, container.readinessProbe]) {
      expect(probePort(container, probe!)).toBe(port);
    }
    const annotations = (podTemplateOf(workloadOf(app)).metadata as { annotations?: Record<string, string> })
      .annotations;
    if (annotations?.['prometheus.io/scrape'] === 'true') {
      expect(annotations['prometheus.io/port']).toBe(String(port));
      expect(annotations['prometheus.io/path']).toBe('/metrics');
    }
  });

  it.each(SERVED)('%s: the grace period outlasts preStop plus outbox.shutdown_timeout', (app) => {
    const pod = podTemplateOf(workloadOf(app)).spec;
    const preStop = containerOf(app).lifecycle?.preStop?.exec?.command ?? [];
    const preStopSeconds = preStop[0] === 'sleep' ? Number(preStop[1]) : 0;
    const shutdownSeconds = loadAppConfig(app).outbox.shutdown_timeout / 1000;
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStopSeconds + shutdownSeconds);
  });

  it.each(SERVED)('%s: no fixed replica count (an autoscaler owns it), a PodDisruptionBudget', (app) => {
    expect((workloadOf(app).spec as { replicas?: number }).replicas).toBeUndefined();
    expect(only(app, 'PodDisruptionBudget').spec).toMatchObject({ maxUnavailable: 1 });
  });

  it.each(SERVED)('%s: the Service targets a named container port', (app) => {
    const service = only(app, 'Service').spec as { ports: Array<{ name: string; port: number; targetPort: string }> };
    const names = containerOf(app).ports?.map((p) => p.name);
    for (const port of service.ports) expect(names).toContain(port.targetPort);
  });

  it('relay: metrics on 9091, in a port named metrics, on the container and the Service', () => {
    expect(containerOf('relay').ports).toContainEqual({ name: 'metrics', containerPort: 9091, protocol: 'TCP' });
    expect((only('relay', 'Service').spec as { ports: unknown[] }).ports).toContainEqual(
      expect.objectContaining({ name: 'metrics', port: 9091, targetPort: 'metrics' }),
    );
  });

  it('ingest: an autoscaling/v2 HPA on CPU for the ingest Deployment', () => {
    const hpa = only('ingest', 'HorizontalPodAutoscaler');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    const spec = hpa.spec as {
      scaleTargetRef: object;
      minReplicas: number;
      maxReplicas: number;
      metrics: Array<{ type: string; resource?: { name: string } }>;
    };
    expect(spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'ingest' });
    expect(spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(spec.maxReplicas).toBeGreaterThan(spec.minReplicas);
    expect(spec.metrics).toContainEqual(
      expect.objectContaining({ type: 'Resource', resource: expect.objectContaining({ name: 'cpu' }) }),
    );
  });

  it('relay: a KEDA ScaledObject on the due outbox depth, authenticated from the relay Secret', () => {
    const scaled = only('relay', 'ScaledObject').spec as {
      scaleTargetRef: { name: string; kind?: string };
      minReplicaCount: number;
      maxReplicaCount: number;
      triggers: Array<{ type: string; metadata: Record<string, string>; authenticationRef?: { name: string } }>;
    };
    expect(scaled.scaleTargetRef).toMatchObject({ name: 'relay', kind: 'Deployment' });
    expect(scaled.minReplicaCount).toBeGreaterThanOrEqual(1);
    expect(scaled.maxReplicaCount).toBeGreaterThan(scaled.minReplicaCount);
    expect(scaled.triggers).toHaveLength(1);
    const trigger = scaled.triggers[0]!;
    expect(trigger.type).toBe('postgresql');
    expect(trigger.metadata.query).toBe(OUTBOX_DEPTH_QUERY);
    expect(Number(trigger.metadata.targetQueryValue)).toBeGreaterThan(0);

    const auth = only('relay', 'TriggerAuthentication');
    expect(trigger.authenticationRef?.name).toBe(auth.metadata.name);
    const refs = (auth.spec as { secretTargetRef: Array<{ parameter: string; name: string; key: string }> })
      .secretTargetRef;
    const secret = exampleSecret('relay');
    expect(refs.map((r) => r.parameter)).toContain('connection');
    for (const ref of refs) {
      expect(ref.name).toBe(secret.name);
      expect(secret.keys).toContain(ref.key);
    }
  });
});

describe('migrate Job', () => {
  it('runs `migrate latest` with the cli image, with bounded retries and clean-up', () => {
    const job = only('migrate', 'Job');
    const spec = job.spec as {
      backoffLimit?: number;
      ttlSecondsAfterFinished?: number;
      activeDeadlineSeconds?: number;
    };
    expect(spec.backoffLimit).toBeGreaterThan(0);
    expect(spec.backoffLimit).toBeLessThanOrEqual(6);
    expect(spec.ttlSecondsAfterFinished).toBeGreaterThan(0);
    expect(spec.activeDeadlineSeconds).toBeGreaterThan(0);
    const pod = podTemplateOf(job).spec;
    expect(['Never', 'OnFailure']).toContain(pod.restartPolicy);
    const container = pod.containers[0]!;
    expect(container.image).toBe('orchestron/cli');
    // The image's entrypoint is `node dist/main.js`; args are the command line.
    expect(container.command).toBeUndefined();
    expect(container.args).toEqual(['migrate', 'latest']);
  });
});

describe('the apps serve the probed paths', () => {
  const probedPaths = (app: 'ingest' | 'relay' | 'admin'): string[] => {
    const container = podTemplateOf(workloadOf(app)).spec.containers[0]!;
    return [container.startupProbe, container.livenessProbe, container.readinessProbe].map((p) => p!.httpGet!.path!);
  };

  async function statusOf(server: http.Server, urlPath: string): Promise<number> {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}${urlPath}`);
    await response.arrayBuffer();
    return response.status;
  }

  async function close(server: http.Server): Promise<void> {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  it('relay: its ops server answers every probe path (and /metrics) with 200', async () => {
    const registry = createRegistry('relay');
    relayMetrics(registry);
    const server = await startOpsServer({ host: '127.0.0.1', port: 0, registry, readiness: [] });
    try {
      for (const probePath of [...probedPaths('relay'), '/metrics']) {
        expect({ probePath, status: await statusOf(server, probePath) }).toEqual({ probePath, status: 200 });
      }
    } finally {
      await close(server);
    }
  });

  it('ingest: its HTTP app answers every probe path (and /metrics) with 200', async () => {
    const registry = createRegistry('ingest');
    // Only what the probe routes touch is real: a database that answers, and the metrics.
    const app = createIngestApp({
      db: { raw: async () => ({ rows: [{ '?column?': 1 }] }) },
      apiKeys: {},
      schemas: {},
      logger: createLogger({ service: 'ingest', silent: true }),
      registry,
      metrics: ingestMetrics(registry),
      settings: {
        maxPayloadBytes: 1024,
        maxBatchSize: 10,
        rateLimit: 0,
        rateLimitBurst: 0,
        trustProxy: false,
        requireApiKey: false,
        routing: { broker: loadAppConfig('ingest').broker.type, ...loadAppConfig('ingest').routing },
      },
    } as never);
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      for (const probePath of [...probedPaths('ingest'), '/metrics']) {
        expect({ probePath, status: await statusOf(server, probePath) }).toEqual({ probePath, status: 200 });
      }
    } finally {
      await close(server);
    }
  });

  it('admin: its HTTP app answers every probe path (and /metrics) with 200', async () => {
    const registry = createRegistry('admin');
    // Only what the probe routes touch is real: a database that answers, and the metrics.
    const app = createAdminApp({
      db: { raw: async () => ({ rows: [{ '?column?': 1 }] }) },
      apiKeys: {},
      logger: createLogger({ service: 'admin', silent: true }),
      registry,
      metrics: httpMetrics(registry),
      settings: { rateLimit: 0, rateLimitBurst: 0, trustProxy: false, keyRotationGraceMs: 0, maxPageSize: 10 },
    } as never);
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      for (const probePath of [...probedPaths('admin'), '/metrics']) {
        expect({ probePath, status: await statusOf(server, probePath) }).toEqual({ probePath, status: 200 });
      }
    } finally {
      await close(server);
    }
  });
});

function readYamlDocumentsFromText(text: string): unknown {
  const doc = parseAllDocuments(text)[0];
  if (!doc || doc.errors.length > 0) throw new Error(`config file is not valid YAML: ${doc?.errors.join('; ')}`);
  return doc.toJS() as unknown;
}
