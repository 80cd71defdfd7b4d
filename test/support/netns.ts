/**
 * A throw-away network of Linux network namespaces for integration tests and the demo:
 *
 *     client (198.18.N.2, 2001:db8:1:N::2) ──veth── server (.1)  ──veth── other (198.19.N.2, 2001:db8:2:N::2)
 *
 * Addresses come from 198.18.0.0/15 (RFC 2544, reserved for benchmarking) and 2001:db8::/32
 * (documentation): nothing here can reach a real host. Every process started in a namespace is
 * tracked by PID and killed by PID on destroy(); the namespaces (and their veths, nftables tables
 * and conntrack state) go with `ip netns del`.
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface Host {
  readonly ns: string;
  readonly ifname: string;
  readonly v4: string;
  readonly v6: string;
}

/**
 * Where tests take spoofed IPv4 sources from: 198.19.128.0/17 (32,768 addresses, inside the
 * benchmarking range and never a testbed's own address, whose third octet is below 128).
 */
export function spoofedV4(i: number): string {
  if (!Number.isInteger(i) || i < 0 || i >= 32_768)
    throw new RangeError(`spoofed source ${i} is outside 198.19.128.0/17`);
  return `198.19.${128 + (i >> 8)}.${i & 255}`;
}

export interface Testbed {
  readonly id: string;
  readonly server: { readonly ns: string; readonly clientSide: Host; readonly otherSide: Host };
  readonly client: Host;
  readonly other: Host;
  /** Runs a command in a namespace and waits; throws on a non-zero exit. */
  run(ns: string, argv: readonly string[], input?: string): string;
  /** Starts a long-running process in a namespace; killed on destroy(). */
  start(ns: string, argv: readonly string[], env?: NodeJS.ProcessEnv): ChildProcess;
  destroy(): void;
}

function ip(args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

export interface TestbedOptions {
  /** Name of the server's interface towards the client (e.g. `eth0`, for configs that assume it). */
  readonly serverClientIfname?: string;
}

export function createTestbed(options: TestbedOptions = {}): Testbed {
  const id = randomBytes(2).toString('hex');
  // Third octet / IPv6 group: 1-127, so SPOOFED_V4 is never a testbed address, and never 0, whose
  // group text `2001:db8:1:0::2` is not the canonical `2001:db8:1::2` the daemon logs (a 1-in-128 flake).
  const n = 1 + (parseInt(id, 16) % 127);
  const nsServer = `kg-${id}-srv`;
  const nsClient = `kg-${id}-cli`;
  const nsOther = `kg-${id}-oth`;
  const children = new Set<ChildProcess>();
  const created: string[] = [];

  const destroy = (): void => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
        try {
          process.kill(c.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
    children.clear();
    for (const ns of created.splice(0)) spawnSync('ip', ['netns', 'del', ns]);
  };

  try {
    for (const ns of [nsServer, nsClient, nsOther]) {
      ip(['netns', 'add', ns]);
      created.push(ns);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    const link = (srvIf: string, peerNs: string, peerIf: string, v4net: string, v6net: string): [Host, Host] => {
      ip(['link', 'add', srvIf, 'netns', nsServer, 'type', 'veth', 'peer', 'name', peerIf, 'netns', peerNs]);
      ip(['-n', nsServer, 'addr', 'add', `${v4net}.1/24`, 'dev', srvIf]);
      ip(['-n', peerNs, 'addr', 'add', `${v4net}.2/24`, 'dev', peerIf]);
      ip(['-n', nsServer, 'addr', 'add', `${v6net}::1/64`, 'dev', srvIf, 'nodad']);
      ip(['-n', peerNs, 'addr', 'add', `${v6net}::2/64`, 'dev', peerIf, 'nodad']);
      ip(['-n', nsServer, 'link', 'set', srvIf, 'up']);
      ip(['-n', peerNs, 'link', 'set', peerIf, 'up']);
      return [
        { ns: nsServer, ifname: srvIf, v4: `${v4net}.1`, v6: `${v6net}::1` },
        { ns: peerNs, ifname: peerIf, v4: `${v4net}.2`, v6: `${v6net}::2` },
      ];
    };
    const [srvC, client] = link(
      options.serverClientIfname ?? `kgs${id}c`,
      nsClient,
      `kgc${id}`,
      `198.18.${n}`,
      `2001:db8:1:${n.toString(16)}`,
    );
    const [srvO, other] = link(`kgs${id}o`, nsOther, `kgo${id}`, `198.19.${n}`, `2001:db8:2:${n.toString(16)}`);

    return {
      id,
      server: { ns: nsServer, clientSide: srvC, otherSide: srvO },
      client,
      other,
      run(ns, argv, input) {
        const r = spawnSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', input, timeout: 60_000 });
        if (r.status !== 0) throw new Error(`${argv.join(' ')} in ${ns} exited ${r.status}: ${r.stderr.trim()}`);
        return r.stdout;
      },
      start(ns, argv, env) {
        const child = spawn('ip', ['netns', 'exec', ns, ...argv], {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: env ?? process.env,
        });
        children.add(child);
        child.on('exit', () => children.delete(child));
        return child;
      },
      destroy,
    };
  } catch (err) {
    destroy();
    throw err;
  }
}
