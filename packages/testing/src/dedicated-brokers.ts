import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort, REPO_ROOT } from './processes';

/**
 * Broker instances of a test's own, for tests that stop and start a broker (outages): the
 * shared brokers other test files use are never touched. Each lives in a temporary directory
 * with ports nobody else uses, and `destroy()` stops it and deletes that directory.
 *
 * They need the local tooling `npm test` uses: Java for Kafka (deploy/local/kafka.sh) and a
 * RabbitMQ installation (rabbitmq-server, rabbitmqctl) for RabbitMQ.
 */

const COMMAND_TIMEOUT_MS = 180_000;

function run(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = COMMAND_TIMEOUT_MS,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(`${stdout}${stderr}`);
    });
  });
}

/** `count` ports that were free a moment ago, all different, none above `max`. */
async function freePorts(count: number, max = 65_535): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) {
    const port = await freePort();
    if (port <= max) ports.add(port);
  }
  return [...ports];
}

/** rabbitmqctl listens on the distribution port + 10000 to + 10010: keep that a valid port. */
const CLI_PORT_LIMIT = 65_535 - 10_010;

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function waitForPort(port: number, open: boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await portAnswers(port)) !== open) {
    if (Date.now() > deadline) throw new Error(`${what}: port ${port} still ${open ? 'closed' : 'open'}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A single-node Kafka of its own (deploy/local/kafka.sh with other ports and state
 * directory). The jars of the shared local Kafka are reused when they are cached, so it
 * starts in seconds; `stop()` is a real broker shutdown, `start()` brings it back with its data.
 */
export class DedicatedKafka {
  static async start(): Promise<DedicatedKafka> {
    const [port, controllerPort] = (await freePorts(2)) as [number, number];
    const kafka = new DedicatedKafka(mkdtempSync(path.join(tmpdir(), 'orchestron-kafka-')), port, controllerPort);
    kafka.reuseCachedJars();
    try {
      await kafka.start();
    } catch (error) {
      await kafka.destroy();
      throw error;
    }
    return kafka;
  }

  private constructor(
    readonly directory: string,
    readonly port: number,
    readonly controllerPort: number,
  ) {}

  get brokers(): string[] {
    return [`127.0.0.1:${this.port}`];
  }

  /** Starts the broker (again); resolves once it answers metadata requests. */
  async start(): Promise<void> {
    await this.script('start');
  }

  /** Controlled shutdown; resolves once the process is gone. The data stays. */
  async stop(): Promise<void> {
    await this.script('stop');
  }

  /** Stops the broker and deletes its directory. Idempotent. */
  async destroy(): Promise<void> {
    if (!existsSync(this.directory)) return;
    await this.stop().catch(() => undefined);
    rmSync(this.directory, { recursive: true, force: true });
  }

  private script(command: 'start' | 'stop'): Promise<string> {
    return run('bash', [path.join(REPO_ROOT, 'deploy/local/kafka.sh'), command], this.env());
  }

  private env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      KAFKA_PORT: String(this.port),
      KAFKA_CONTROLLER_PORT: String(this.controllerPort),
      ORCHESTRON_LOCAL_DIR: this.directory,
    };
  }

  /** kafka.sh keeps jars in <root>/kafka/<version>/lib: point ours at the shared cache. */
  private reuseCachedJars(): void {
    const version = process.env.KAFKA_VERSION ?? '4.4.0';
    const sharedRoot = process.env.ORCHESTRON_LOCAL_DIR || path.join(homedir(), '.cache', 'orchestron');
    const cached = path.join(sharedRoot, 'kafka', version, 'lib');
    if (!existsSync(path.join(cached, '.complete'))) return; // kafka.sh fetches them (slower)
    mkdirSync(path.join(this.directory, 'kafka', version), { recursive: true });
    symlinkSync(cached, path.join(this.directory, 'kafka', version, 'lib'));
  }
}

/**
 * A RabbitMQ node of its own: another node name, AMQP and distribution ports, a data, log and
 * cookie directory of its own, no plugins, and none of the machine's RabbitMQ configuration
 * files. `stop()` halts the node (a real broker outage: connections drop, the port refuses),
 * `start()` boots it again with its durable exchanges, queues and messages.
 *
 * The scripts come from `ORCHESTRON_RABBITMQ_BIN` (a directory) if set, else from
 * /usr/lib/rabbitmq/bin where the Debian package keeps the real ones (its sbin wrappers
 * switch to the rabbitmq user, who could not use our directory), else from the PATH.
 */
export class DedicatedRabbitMq {
  static async start(): Promise<DedicatedRabbitMq> {
    const [port, distributionPort] = (await freePorts(2, CLI_PORT_LIMIT)) as [number, number];
    const node = new DedicatedRabbitMq(
      mkdtempSync(path.join(tmpdir(), 'orchestron-rabbitmq-')),
      `orchestron-test-${randomBytes(4).toString('hex')}@localhost`,
      port,
      distributionPort,
    );
    writeFileSync(path.join(node.directory, 'rabbitmq.conf'), `listeners.tcp.default = 127.0.0.1:${port}\n`);
    writeFileSync(path.join(node.directory, 'rabbitmq-env.conf'), '');
    writeFileSync(path.join(node.directory, 'enabled_plugins'), '[].\n');
    try {
      await node.start();
    } catch (error) {
      await node.destroy();
      throw error;
    }
    return node;
  }

  private constructor(
    readonly directory: string,
    readonly nodeName: string,
    readonly port: number,
    readonly distributionPort: number,
  ) {}

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  /** Boots the node; resolves once it accepts AMQP connections. */
  async start(): Promise<void> {
    await run(this.bin('rabbitmq-server'), ['-detached'], this.env()).catch((error: Error) => {
      throw new Error(
        `${error.message}\n(a local RabbitMQ installation is needed; ORCHESTRON_RABBITMQ_BIN names the directory of its scripts)`,
      );
    });
    await waitForPort(this.port, true, 120_000, `RabbitMQ node ${this.nodeName} did not start`);
  }

  /** Halts the node; resolves once its AMQP port refuses connections. */
  async stop(): Promise<void> {
    await run(this.bin('rabbitmqctl'), ['-n', this.nodeName, 'stop'], this.env());
    await waitForPort(this.port, false, 60_000, `RabbitMQ node ${this.nodeName} did not stop`);
  }

  /** Stops the node (killing it if rabbitmqctl cannot) and deletes its directory. Idempotent. */
  async destroy(): Promise<void> {
    if (!existsSync(this.directory)) return;
    await run(this.bin('rabbitmqctl'), ['-n', this.nodeName, 'stop'], this.env(), 60_000).catch(() => {
      const pidFile = path.join(this.directory, 'mnesia', `${this.nodeName}.pid`);
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : NaN;
      if (Number.isInteger(pid) && pid > 0) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    });
    rmSync(this.directory, { recursive: true, force: true });
  }

  private bin(name: string): string {
    const directory =
      process.env.ORCHESTRON_RABBITMQ_BIN ??
      (existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server') ? '/usr/lib/rabbitmq/bin' : '');
    return directory ? path.join(directory, name) : name;
  }

  private env(): NodeJS.ProcessEnv {
    const dir = this.directory;
    return {
      ...process.env,
      // The Erlang cookie is created in (and read from) HOME: server and rabbitmqctl share it.
      HOME: dir,
      RABBITMQ_NODENAME: this.nodeName,
      RABBITMQ_NODE_PORT: String(this.port),
      // rabbitmqctl listens on this + 10000 (up to + 10010) while it runs.
      RABBITMQ_DIST_PORT: String(this.distributionPort),
      RABBITMQ_CONF_ENV_FILE: path.join(dir, 'rabbitmq-env.conf'),
      RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq.conf'),
      RABBITMQ_ADVANCED_CONFIG_FILE: path.join(dir, 'advanced.config'),
      RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
      RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: path.join(dir, 'log'),
      ERL_EPMD_ADDRESS: '127.0.0.1',
    };
  }
}
