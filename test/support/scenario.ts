/**
 * The set-up most integration tests share, in one place: a fresh testbed (netns.ts), a config
 * directory holding what the test needs (server key, client credentials, access.conf, ...), the
 * config, and the real knockgated started in the server namespace and ready (daemon-process.ts).
 *
 * useScenario() registers the before() and after() hooks of the describe() it is called in, so
 * the teardown cannot be forgotten. It runs even when the set-up or a test failed: every daemon
 * the scenario started is killed by PID and waited for, then the testbed is destroyed (its other
 * processes killed by PID, its namespaces deleted). Hooks the test registers after useScenario()
 * run after the scenario is set up.
 */

import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before } from 'node:test';
import { clientEntryYaml } from './client-entry.js';
import { createTestbed, type Testbed, type TestbedOptions } from './netns.js';
import { BANNER_SERVER, knockgateCli, startDaemon, writeConfig, type DaemonHandle } from './daemon-process.js';

type Lines = readonly string[];

export interface ScenarioOptions {
  readonly testbed?: TestbedOptions;
  /**
   * rp_filter=0 in the server namespace (all, and the client-side link), so that frames with
   * spoofed sources (netns.ts spoofedV4) reach the daemon instead of being dropped as martians.
   */
  readonly spoofedSources?: boolean;
  /** TCP ports on which banner-server.ts answers in the server namespace. */
  readonly banner?: readonly number[];
  /** `knockgate keygen -o server.key`, and `server_key: server.key` in the config's `spa:` section. */
  readonly serverKey?: boolean;
  /**
   * Credentials made with `knockgate add-client NAME -k server.key ...ARGS -o NAME.yaml` (needs
   * serverKey); the entry add-client prints for the server's config is clientEntry(NAME).
   */
  readonly clients?: Readonly<Record<string, Lines>> | ((s: Scenario) => Readonly<Record<string, Lines>>);
  /** Files written 0600 into the config's directory, after the credentials, before the config. */
  readonly files?: (s: Scenario) => Readonly<Record<string, string>>;
  /** The whole config text. Without it the config is built from the options below. */
  readonly config?: (s: Scenario) => string;
  /** `interfaces:` of the built config; `[any]` unless given. */
  readonly interfaces?: (s: Scenario) => Lines;
  /** Top-level lines of the built config after `interfaces:` (e.g. `firewall: none`). */
  readonly settings?: (s: Scenario) => Lines;
  /** `replay_journal: replay.journal` in the built config's `spa:` section. */
  readonly replayJournal?: boolean;
  /** The lines of the built config's `doors:` list. */
  readonly doors?: (s: Scenario) => Lines;
  /** false: the test starts knockgated itself, with start(). Default: started and ready before the first test. */
  readonly start?: boolean;
}

export interface Scenario {
  /** The testbed; a view, valid from the scenario's before() on, so it can be taken apart at once. */
  readonly tb: Testbed;
  /** The config's directory; relative paths in the config resolve here. */
  readonly dir: string;
  readonly configFile: string;
  /** The server's entry `knockgate add-client` printed for client `name`, as lines of a door's `clients:` (client-entry.ts). */
  readonly clientEntry: (name: string, extra?: readonly string[]) => string[];
  /** The daemon started last; a view that follows start() and restart(). */
  readonly daemon: DaemonHandle;
  /** A file in the config's directory (bound, like cred: it may be taken out of the scenario). */
  readonly path: (name: string) => string;
  /** The credential file of client `name`. */
  readonly cred: (name: string) => string;
  /** Starts knockgated (this scenario's config unless another is given), waits for `ready`, and tracks it for teardown. */
  start(configFile?: string, extraArgs?: string[]): Promise<DaemonHandle>;
  /** Sends `signal` to the current daemon by PID, waits for it to exit, starts it again. */
  restart(signal: NodeJS.Signals): Promise<DaemonHandle>;
}

function buildConfig(s: Scenario, o: ScenarioOptions): string {
  const spa = [
    ...(o.serverKey ? ['  server_key: server.key'] : []),
    ...(o.replayJournal ? ['  replay_journal: replay.journal'] : []),
  ];
  return [
    `interfaces: [${(o.interfaces?.(s) ?? ['any']).join(', ')}]`,
    ...(o.settings?.(s) ?? []),
    ...(spa.length > 0 ? ['spa:', ...spa] : []),
    'doors:',
    ...(o.doors?.(s) ?? []),
    '',
  ].join('\n');
}

/** A Testbed that forwards to the one `get` returns at the time of each use. */
function testbedView(get: () => Testbed): Testbed {
  return {
    get id() {
      return get().id;
    },
    get server() {
      return get().server;
    },
    get client() {
      return get().client;
    },
    get other() {
      return get().other;
    },
    run: (ns, argv, input) => get().run(ns, argv, input),
    start: (ns, argv, env) => get().start(ns, argv, env),
    destroy: () => get().destroy(),
  };
}

/** A DaemonHandle that forwards to the one `get` returns at the time of each use. */
function daemonView(get: () => DaemonHandle): DaemonHandle {
  return {
    get child() {
      return get().child;
    },
    get pid() {
      return get().pid;
    },
    get lines() {
      return get().lines;
    },
    stderr: () => get().stderr(),
    waitFor: (match, timeoutMs, what) => get().waitFor(match, timeoutMs, what),
    exited: () => get().exited(),
  };
}

class TestScenario implements Scenario {
  private bed: Testbed | undefined;
  private configPath: string | undefined;
  private readonly daemons: DaemonHandle[] = [];
  private readonly added = new Map<string, string>();
  readonly tb = testbedView(() => {
    if (this.bed === undefined) throw new Error('the scenario is not set up');
    return this.bed;
  });
  readonly daemon = daemonView(() => this.lastDaemon());

  constructor(private readonly options: ScenarioOptions) {}

  get configFile(): string {
    if (this.configPath === undefined) throw new Error('the scenario is not set up');
    return this.configPath;
  }
  get dir(): string {
    return dirname(this.configFile);
  }
  private lastDaemon(): DaemonHandle {
    const d = this.daemons.at(-1);
    if (d === undefined) throw new Error('no knockgated started in this scenario');
    return d;
  }

  readonly path = (name: string): string => join(this.dir, name);
  readonly cred = (name: string): string => this.path(`${name}.yaml`);
  readonly clientEntry = (name: string, extra: readonly string[] = []): string[] => {
    const printed = this.added.get(name);
    if (printed === undefined) throw new Error(`no client ${name} in this scenario`);
    return clientEntryYaml(printed, extra);
  };

  async start(configFile = this.configFile, extraArgs: string[] = []): Promise<DaemonHandle> {
    const d = await startDaemon(this.tb, configFile, extraArgs);
    this.daemons.push(d);
    return d;
  }

  async restart(signal: NodeJS.Signals): Promise<DaemonHandle> {
    const d = this.lastDaemon();
    process.kill(d.pid, signal);
    await d.exited();
    return this.start();
  }

  async setUp(): Promise<void> {
    const o = this.options;
    const tb = createTestbed(o.testbed);
    this.bed = tb;
    if (o.spoofedSources)
      tb.run(tb.server.ns, [
        'sysctl',
        '-qw',
        'net.ipv4.conf.all.rp_filter=0',
        `net.ipv4.conf.${tb.server.clientSide.ifname}.rp_filter=0`,
      ]);
    if (o.banner) tb.start(tb.server.ns, [process.execPath, BANNER_SERVER, ...o.banner.map(String)]);
    this.configPath = writeConfig('');
    if (o.serverKey) knockgateCli(['keygen', '-o', this.path('server.key')]);
    const clients = typeof o.clients === 'function' ? o.clients(this) : (o.clients ?? {});
    for (const [name, args] of Object.entries(clients))
      this.added.set(
        name,
        knockgateCli(['add-client', name, '-k', this.path('server.key'), ...args, '-o', this.cred(name)]),
      );
    for (const [name, text] of Object.entries(o.files?.(this) ?? {}))
      writeFileSync(this.path(name), text, { mode: 0o600 });
    writeFileSync(this.configFile, o.config ? o.config(this) : buildConfig(this, o));
    if (o.start !== false) await this.start();
  }

  async tearDown(): Promise<void> {
    for (const d of this.daemons.splice(0)) {
      if (d.child.exitCode !== null || d.child.signalCode !== null) continue;
      try {
        process.kill(d.pid, 'SIGKILL');
      } catch {
        continue; // already gone
      }
      await d.exited();
    }
    this.bed?.destroy();
  }
}

/** A scenario for the enclosing describe(): set up in its before(), torn down in its after(). */
export function useScenario(options: ScenarioOptions): Scenario {
  const s = new TestScenario(options);
  before(() => s.setUp());
  after(() => s.tearDown());
  return s;
}
