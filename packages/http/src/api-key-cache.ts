import type { Knex } from 'knex';
import { hashApiKey, loadActiveApiKeys, touchApiKeys, type ApiKeyRecord } from '@orchestron/db';

/** The two logger methods the cache uses. */
interface CacheLogger {
  warn(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
}

/**
 * The active API keys, held in memory and refreshed every `refreshMs`, so authenticating a
 * request costs a hash and a map lookup, not a query. A revoked key stops working within one
 * refresh. Last use is collected in memory and written in one statement every `flushMs`:
 * no database write per request.
 */
export class ApiKeyCache {
  private byHash = new Map<string, ApiKeyRecord>();
  /** Rotated keys by their old secret's hash; each answers only until its grace period ends. */
  private byPreviousHash = new Map<string, ApiKeyRecord>();
  private lastUsed = new Map<number, Date>();
  private timers: NodeJS.Timeout[] = [];
  private loaded = false;
  private loadedAt = 0;
  private pendingRefresh: Promise<void> | null = null;

  constructor(
    private readonly db: Knex,
    private readonly logger: CacheLogger,
    private readonly options: { refreshMs: number; flushMs: number },
  ) {}

  /**
   * Loads the keys and starts the timers. If the database is down at start, ingest still
   * starts; requests that need a key get 503 until the first load succeeds.
   */
  async start(): Promise<void> {
    await this.refresh().catch(() => undefined);
    this.timers.push(
      setInterval(() => void this.refresh().catch(() => undefined), this.options.refreshMs).unref(),
      setInterval(() => void this.flush(), this.options.flushMs).unref(),
    );
  }

  /**
   * Reloads now unless the keys were loaded less than `minAgeMs` ago: a key created a moment
   * ago works at once, while a stream of unknown keys costs at most one query per `minAgeMs`.
   */
  async refreshIfOlderThan(minAgeMs: number): Promise<void> {
    if (Date.now() - this.loadedAt < minAgeMs) return;
    this.pendingRefresh ??= this.refresh()
      .catch(() => undefined)
      .finally(() => {
        this.pendingRefresh = null;
      });
    await this.pendingRefresh;
  }

  async refresh(): Promise<void> {
    this.loadedAt = Date.now();
    try {
      const keys = await loadActiveApiKeys(this.db);
      this.byHash = new Map(keys.map((k) => [k.keyHash, k]));
      this.byPreviousHash = new Map(
        keys.flatMap((k) => (k.previousKeyHash && k.previousKeyExpiresAt ? [[k.previousKeyHash, k] as const] : [])),
      );
      this.loaded = true;
    } catch (error) {
      // Keep serving the keys we had; a database outage must not lock every sender out.
      this.logger.warn('could not refresh API keys; using the cached ones', { error: (error as Error).message });
      if (!this.loaded) throw error;
    }
  }

  /** False until the keys were loaded once. */
  isLoaded(): boolean {
    return this.loaded;
  }

  /**
   * The active key with this secret (or with this as its old secret, within the grace period
   * after a rotation: checked now, not at the last refresh), if any; records its use.
   */
  authenticate(key: string): ApiKeyRecord | undefined {
    const hash = hashApiKey(key);
    let record = this.byHash.get(hash);
    if (!record) {
      const rotated = this.byPreviousHash.get(hash);
      if (rotated && (rotated.previousKeyExpiresAt as Date).getTime() > Date.now()) record = rotated;
    }
    if (record) this.lastUsed.set(record.id, new Date());
    return record;
  }

  async flush(): Promise<void> {
    if (this.lastUsed.size === 0) return;
    const batch = this.lastUsed;
    this.lastUsed = new Map();
    try {
      await touchApiKeys(this.db, batch);
    } catch (error) {
      for (const [id, at] of batch) if (!this.lastUsed.has(id)) this.lastUsed.set(id, at);
      this.logger.warn('could not record API key use; will retry', { error: (error as Error).message });
    }
  }

  /** Stops the timers and writes the last-use times still held. */
  async stop(): Promise<void> {
    this.timers.forEach(clearInterval);
    this.timers = [];
    await this.flush();
  }
}
