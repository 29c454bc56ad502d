import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

// Rendering the shipped kustomizations as `kubectl apply -k` would send them, for the unit tests
// of the manifests and the integration test that runs the shipped config.

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/**
 * Every object `kubectl kustomize <dir>` renders, with generated ConfigMaps, components and
 * name references resolved by kustomize itself (kubectl's built-in kustomize, offline).
 */
export function renderKustomization(dir: string): K8sObject[] {
  const result = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
  if (result.error) throw new Error(`kubectl kustomize needs kubectl on PATH: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${result.stderr}`);
  // YAML 1.1, as kubectl reads manifests.
  return parseAllDocuments(result.stdout, { version: '1.1', prettyErrors: true })
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((object): object is K8sObject => object !== null);
}

interface PodSpec {
  containers: Array<{
    env?: Array<{ name: string; value?: string }>;
    volumeMounts?: Array<{ name: string; mountPath: string }>;
  }>;
  volumes?: Array<{ name: string; configMap?: { name: string } }>;
}

/**
 * The config file a workload's first container reads, as the pod sees it: ORCHESTRON_CONFIG
 * resolved through its volume mount to a key of a rendered ConfigMap.
 */
export function configFileIn(
  objects: K8sObject[],
  workload: K8sObject,
): { configMap: K8sObject; key: string; text: string } {
  const where = `${workload.kind} ${workload.metadata.name}`;
  const pod = (workload.spec as { template: { spec: PodSpec } }).template.spec;
  const container = pod.containers[0]!;
  const configPath = container.env?.find((e) => e.name === 'ORCHESTRON_CONFIG')?.value;
  if (!configPath) throw new Error(`${where}: ORCHESTRON_CONFIG is not set`);
  const mount = container.volumeMounts?.find((m) => configPath.startsWith(`${m.mountPath}/`));
  if (!mount) throw new Error(`${where}: ORCHESTRON_CONFIG ${configPath} is not inside a volume mount`);
  const volume = pod.volumes?.find((v) => v.name === mount.name);
  if (!volume?.configMap) throw new Error(`${where}: volume ${mount.name} is not a ConfigMap`);
  const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === volume.configMap!.name);
  if (!configMap) throw new Error(`${where}: ConfigMap ${volume.configMap.name} is not rendered`);
  const key = path.posix.relative(mount.mountPath, configPath);
  const text = (configMap.data as Record<string, string> | undefined)?.[key];
  if (text === undefined) throw new Error(`${where}: ConfigMap ${configMap.metadata.name} has no key ${key}`);
  return { configMap, key, text };
}
