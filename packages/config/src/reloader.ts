import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { ConfigError, configKeys } from './loader';
import type { OrchestronConfig } from './schema';
import { keyCovered } from './reloadable';

/** The logger methods the reloader uses. */
export interface ReloadLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

/** Where reloads are counted (prom-client's Counter and Gauge fit; see configReloadMetrics). */
export interface ReloadMetrics {
  reloads: { inc(labels: { result: 'success' | 'failure' }): void };
  lastSuccess: { set(value: number): void };
}

export type ReloadTrigger = 'signal' | 'watch' | 'manual';

export interface ReloadOutcome {
  /** `unchanged`: a file event whose watched inputs turned out identical; nothing was done. */
  result: 'success' | 'failure' | 'unchanged';
  /** Keys whose new value is now in use. */
  applied: string[];
  /** Keys changed in the sources that this process reads only at start: the old value stays. */
  restartNeeded: string[];
  /** Why a reload was refused (every problem of the new configuration). */
  problems: string[];
}

export interface ConfigReloaderOptions {
  /** The configuration the process started with. */
  initial: OrchestronConfig;
  /** Loads the configuration anew from the same sources as at start; throws on problems. */
  load: () => OrchestronConfig;
  /** Keys (or key prefixes such as `routing`) this process applies at run time. */
  reloadable: readonly string[];
  /** Keys this process does not use: a change is not worth a warning. */
  unused?: readonly string[];
  /**
   * Puts a loaded configuration into effect; throws to refuse it (e.g. a schema that does not
   * compile). It must prepare everything that can fail before it changes anything, so a
   * refused configuration leaves the running one untouched.
   */
  apply: (next: OrchestronConfig, previous: OrchestronConfig) => void | Promise<void>;
  /** Files whose change triggers a reload (the config file); watched through their directory. */
  files?: readonly string[];
  /** Directories (with their subdirectories) whose change triggers a reload (schemas). */
  directories?: () => readonly string[];
  /** Quiet time after the last file event before reloading (editors and kubelet write in steps). */
  debounceMs?: number;
  logger: ReloadLogger;
  metrics?: ReloadMetrics;
}

/** True when `key` is one of `prefixes` or lies below one of them. */

function valueAt(config: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], config);
}

function setValueAt(config: unknown, key: string, value: unknown): void {
  const parts = key.split('.');
  const last = parts.pop() as string;
  const parent = parts.reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], config);
  (parent as Record<string, unknown>)[last] = value;
}

/** The problems of a failed load or apply, one per line, as an operator should read them. */
function problemsOf(error: unknown): string[] {
  if (error instanceof ConfigError) return error.problems;
  const message = error instanceof Error ? error.message : String(error);
  return message
    .split('\n')
    .map((line) => line.trim().replace(/^- /, ''))
    .filter((line) => line !== '');
}

/**
 * Reloads the configuration at run time, on SIGHUP and when a watched file changes, and puts
 * the keys this process can change while running into effect. A configuration with any problem
 * is refused whole: the running one stays, every problem is logged and the failure counted.
 * Keys read only at start (database, addresses, brokers) keep their old value, with a warning
 * that a restart is needed, until the process restarts.
 *
 * Files are watched through their directory, never the file itself: an editor's save and a
 * Kubernetes ConfigMap update (a symlink swap) both replace the file, which would end a watch
 * on it. A file event reloads only when the watched inputs really changed (by content).
 */
export class ConfigReloader {
  private effective: OrchestronConfig;
  private readonly watchers: FSWatcher[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private debounce: NodeJS.Timeout | undefined;
  private fingerprint = '';
  private started = false;
  private readonly onSignal = (): void => {
    void this.reload('signal');
  };

  constructor(private readonly options: ConfigReloaderOptions) {
    this.effective = options.initial;
  }

  /** The configuration in effect: the reloadable keys as last reloaded, the others as at start. */
  current(): OrchestronConfig {
    return this.effective;
  }

  /** Watches the files and directories and listens for SIGHUP. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.fingerprint = this.inputsFingerprint();
    this.options.metrics?.lastSuccess.set(Date.now() / 1000);
    this.rewatch();
    process.on('SIGHUP', this.onSignal);
  }

  /** Stops watching and listening; a reload in progress completes. Idempotent. */
  async stop(): Promise<void> {
    this.started = false;
    process.off('SIGHUP', this.onSignal);
    clearTimeout(this.debounce);
    this.closeWatchers();
    await this.queue;
  }

  /** Reloads now (one at a time: a reload asked for during another runs after it). */
  reload(trigger: ReloadTrigger = 'manual'): Promise<ReloadOutcome> {
    const outcome = this.queue.then(() => this.reloadNow(trigger));
    this.queue = outcome.catch(() => undefined);
    return outcome;
  }

  private async reloadNow(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    const { logger, metrics } = this.options;
    const fingerprint = this.inputsFingerprint();
    if (trigger === 'watch' && fingerprint === this.fingerprint) {
      return { result: 'unchanged', applied: [], restartNeeded: [], problems: [] };
    }
    this.fingerprint = fingerprint;
    const previous = this.effective;
    let next: OrchestronConfig;
    let restartNeeded: string[] = [];
    let applied: string[] = [];
    try {
      const loaded = this.options.load();
      ({ next, restartNeeded, applied } = this.merge(previous, loaded));
      await this.options.apply(next, previous);
    } catch (error) {
      const problems = problemsOf(error);
      logger.error('configuration reload refused; the running configuration stays in effect', {
        trigger,
        problems,
      });
      metrics?.reloads.inc({ result: 'failure' });
      return { result: 'failure', applied: [], restartNeeded: [], problems };
    }
    this.effective = next;
    // Key names only: values may be secrets.
    logger.info('configuration reloaded', { trigger, changed: applied });
    if (restartNeeded.length > 0) {
      logger.warn('configuration keys changed that take effect only after a restart; keeping their old values', {
        keys: restartNeeded,
      });
    }
    metrics?.reloads.inc({ result: 'success' });
    metrics?.lastSuccess.set(Date.now() / 1000);
    if (this.started) this.rewatch();
    return { result: 'success', applied, restartNeeded, problems: [] };
  }

  /** The loaded configuration with the keys this process cannot change kept at their old value. */
  private merge(
    previous: OrchestronConfig,
    loaded: OrchestronConfig,
  ): { next: OrchestronConfig; applied: string[]; restartNeeded: string[] } {
    const { reloadable, unused = [] } = this.options;
    const next = structuredClone(loaded);
    const applied: string[] = [];
    const restartNeeded: string[] = [];
    for (const { path: key } of configKeys()) {
      const changed = JSON.stringify(valueAt(previous, key)) !== JSON.stringify(valueAt(loaded, key));
      if (keyCovered(reloadable, key)) {
        if (changed) applied.push(key);
        continue;
      }
      setValueAt(next, key, structuredClone(valueAt(previous, key)));
      if (changed && !keyCovered(unused, key)) restartNeeded.push(key);
    }
    return { next, applied, restartNeeded };
  }

  /** A digest of the contents of every watched file and directory tree. */
  private inputsFingerprint(): string {
    const hash = createHash('sha256');
    for (const file of this.options.files ?? []) {
      hash.update(`file ${file}\0`);
      try {
        hash.update(readFileSync(file));
      } catch (error) {
        hash.update(`unreadable ${(error as NodeJS.ErrnoException).code ?? ''}`);
      }
    }
    for (const directory of this.options.directories?.() ?? []) {
      for (const file of filesBelow(directory)) {
        hash.update(`\0tree ${file}\0`);
        try {
          hash.update(readFileSync(file));
        } catch {
          hash.update('unreadable');
        }
      }
    }
    return hash.digest('hex');
  }

  /** (Re)creates the watches: a reload may have added schema directories. */
  private rewatch(): void {
    this.closeWatchers();
    const directories = new Set<string>();
    for (const file of this.options.files ?? []) directories.add(path.dirname(path.resolve(file)));
    for (const directory of this.options.directories?.() ?? []) {
      for (const dir of directoriesBelow(path.resolve(directory))) directories.add(dir);
    }
    for (const directory of directories) {
      try {
        const watcher = watch(directory, { persistent: false }, () => this.schedule());
        // A watched directory that disappears ends its watch; the next reload rewatches.
        watcher.on('error', () => watcher.close());
        this.watchers.push(watcher);
      } catch (error) {
        this.options.logger.warn('cannot watch for configuration changes; reload with SIGHUP', {
          directory,
          error: (error as Error).message,
        });
      }
    }
  }

  private schedule(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.reload('watch'), this.options.debounceMs ?? 300);
    this.debounce.unref();
  }

  private closeWatchers(): void {
    for (const watcher of this.watchers.splice(0)) watcher.close();
  }
}

/** Files below a directory, sorted, following symlinks (ConfigMap mounts are symlinks), 3 levels. */
function filesBelow(directory: string, depth = 3): string[] {
  const files: string[] = [];
  let names: string[];
  try {
    names = readdirSync(directory).sort();
  } catch {
    return [];
  }
  for (const name of names) {
    // Kubernetes' ..data and timestamped directories are reached through the visible links.
    if (name.startsWith('..')) continue;
    const entry = path.join(directory, name);
    try {
      const stats = statSync(entry);
      if (stats.isDirectory()) {
        if (depth > 1) files.push(...filesBelow(entry, depth - 1));
      } else {
        files.push(entry);
      }
    } catch {
      // Removed between readdir and stat: the next event reloads again.
    }
  }
  return files;
}

function directoriesBelow(directory: string, depth = 3): string[] {
  const directories = [directory];
  if (depth <= 1) return directories;
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return directories;
  }
  for (const name of names) {
    if (name.startsWith('..')) continue;
    const entry = path.join(directory, name);
    try {
      if (statSync(entry).isDirectory()) directories.push(...directoriesBelow(entry, depth - 1));
    } catch {
      // gone meanwhile
    }
  }
  return directories;
}
