/**
 * An in-memory model of what the kernel does with the nftables gate's batches, behind the same
 * NftExecutor port as the libnftables worker, so that unit tests can assert what the kernel would
 * be asked and what it would then hold, without a kernel. What it models, and only that:
 *   - a batch is one transaction: if any command in it is refused, nothing of it is applied;
 *   - a request over 16 MiB of JSON is refused, as the worker refuses it (MAX_REQUEST_BYTES);
 *   - grants4/grants6 are interval sets with timeouts, on the test's clock:
 *       `add element` of an element that is present is a no-op that keeps its old timeout (nft
 *         1.0.6 cannot refresh a timeout in place: see setGrantCommands);
 *       `add element` that overlaps a different live element on the same protocol and port (an
 *         address inside a prefix, or a prefix over an address) is refused with "File exists";
 *       `delete element` of an element that is not present is refused ("No such file or directory");
 *       an element whose timeout has run out is gone;
 *   - `list table` answers with the grant sets as `nft -j` prints them (`expires` in whole seconds).
 * Tables, chains, rules and the other sets are accepted and not modelled: their shape is
 * nftables-ruleset.ts's business, tested there.
 */

import { KnockgateError } from '../../src/core/errors.js';
import {
  formatIPAddress,
  maskIPAddress,
  parseIPAddress,
  sameIPAddress,
  type IPAddressBytes,
} from '../../src/core/ip-address.js';
import type { NftExecutor } from '../../src/gates/nft-runner.js';
import type { NftCommand } from '../../src/gates/nftables-ruleset.js';

const WORKER_MAX_REQUEST_BYTES = 16 * 1024 * 1024;

export interface KernelElement {
  readonly set: 'grants4' | 'grants6';
  /** `198.18.0.1` or `198.18.0.0/24`, as the gate wrote it. */
  readonly source: string;
  readonly proto: string;
  readonly port: number;
  /** Monotonic ms (the model's clock) at which the kernel drops the element. */
  readonly expiresAtMs: number;
}

interface Range {
  readonly network: IPAddressBytes;
  readonly length: number;
}

/** One undoable change, so that a refused batch leaves the model as it was. */
type Undo = { readonly op: 'added' | 'deleted'; readonly key: string; readonly element: KernelElement };

export class MemoryNftKernel implements NftExecutor {
  readonly kind = 'worker';
  readonly grantPath = 'in-process';
  /** Every batch asked, in order, refused ones included, as the commands given. */
  readonly batches: NftCommand[][] = [];
  private tableExists = false;
  private readonly elements = new Map<string, KernelElement>();
  /** `set|proto|port` → prefix length → networks (text) held at that length: overlap lookups. */
  private readonly byEndpoint = new Map<string, Map<number, Map<string, IPAddressBytes>>>();

  /**
   * `refuse` lets a test make the kernel refuse a batch for a reason of its own (it returns the
   * message, or undefined to go on).
   */
  constructor(
    private readonly nowMs: () => number,
    private readonly refuse: (commands: readonly NftCommand[]) => string | undefined = () => undefined,
  ) {}

  async apply(commands: readonly unknown[]): Promise<void> {
    const batch = commands as NftCommand[];
    this.batches.push(batch);
    if (JSON.stringify({ nftables: batch }).length > WORKER_MAX_REQUEST_BYTES)
      throw refused('the nftables worker exited (code 65)');
    const own = this.refuse(batch);
    if (own !== undefined) throw refused(own);
    for (const [key, e] of this.elements) if (e.expiresAtMs <= this.nowMs()) this.remove(key, e);
    const undo: Undo[] = [];
    let table = this.tableExists;
    try {
      for (const c of batch) {
        const [verb, body] = Object.entries(c)[0] as [string, Record<string, unknown>];
        if (verb === 'add' && 'table' in body) table = true;
        const element = body.element as { name?: string; elem?: unknown[] } | undefined;
        if (element === undefined || (element.name !== 'grants4' && element.name !== 'grants6')) continue;
        if (!table) throw refused('Could not process rule: No such file or directory');
        for (const item of element.elem ?? []) {
          if (verb === 'add') this.add(element.name, item, undo);
          else if (verb === 'delete') {
            const key = elementKey(element.name, item);
            const present = this.elements.get(key);
            if (present === undefined)
              throw refused(`Could not process rule: No such file or directory (delete ${key})`);
            this.remove(key, present);
            undo.push({ op: 'deleted', key, element: present });
          } else throw new Error(`the model does not know "${verb} element"`);
        }
      }
    } catch (err) {
      for (const u of undo.reverse()) {
        if (u.op === 'added') this.remove(u.key, u.element);
        else this.insert(u.key, u.element);
      }
      throw err;
    }
    this.tableExists = table;
  }

  async listTable(): Promise<string | undefined> {
    if (!this.tableExists) return undefined;
    const now = this.nowMs();
    const set = (name: 'grants4' | 'grants6') => ({
      set: {
        family: 'inet',
        name,
        table: 'knockgate',
        flags: ['interval', 'timeout'],
        elem: this.live()
          .filter((e) => e.set === name)
          .map((e) => ({
            elem: {
              val: { concat: [sourceValue(e.source), e.proto, e.port] },
              expires: Math.floor((e.expiresAtMs - now) / 1000),
            },
          })),
      },
    });
    return JSON.stringify({
      nftables: [{ metainfo: {} }, { table: { family: 'inet', name: 'knockgate' } }, set('grants4'), set('grants6')],
    });
  }

  close(): void {}

  /** The elements the kernel holds now. */
  live(): KernelElement[] {
    return [...this.elements.values()].filter((e) => e.expiresAtMs > this.nowMs());
  }

  /** When the kernel drops `source proto/port`, or undefined if it does not hold it. */
  expiresAt(source: string, proto: string, port: number): number | undefined {
    const e = this.elements.get(
      `${parseIPAddress(source.split('/')[0] as string)?.family === 4 ? 'grants4' : 'grants6'}|${source}|${proto}|${port}`,
    );
    return e !== undefined && e.expiresAtMs > this.nowMs() ? e.expiresAtMs : undefined;
  }

  private add(set: 'grants4' | 'grants6', item: unknown, undo: Undo[]): void {
    const { val, timeout } = (item as { elem?: { val?: unknown; timeout?: unknown } }).elem ?? {};
    if (typeof timeout !== 'number')
      throw new Error(`the gate added a grant element without a timeout: ${JSON.stringify(item)}`);
    const key = elementKey(set, val);
    if (this.elements.has(key)) return; // present: no-op, the timeout stays as it was
    const [value, proto, port] = (val as { concat: [unknown, string, number] }).concat;
    const source = sourceText(value);
    const clash = this.overlapping(`${set}|${proto}|${port}`, rangeOf(source));
    if (clash !== undefined) throw refused(`Could not process rule: File exists (${source} overlaps ${clash})`);
    const element = { set, source, proto, port, expiresAtMs: this.nowMs() + timeout * 1000 };
    this.insert(key, element);
    undo.push({ op: 'added', key, element });
  }

  /** A network held on the same set and endpoint that overlaps `r`, as text; undefined if none. */
  private overlapping(endpoint: string, r: Range): string | undefined {
    for (const [length, networks] of this.byEndpoint.get(endpoint) ?? []) {
      if (networks.size === 0) continue;
      if (length <= r.length) {
        const text = formatIPAddress(maskIPAddress(r.network, length));
        if (networks.has(text)) return `${text}/${length}`;
      } else {
        for (const [text, n] of networks)
          if (sameIPAddress(maskIPAddress(n, r.length), r.network)) return `${text}/${length}`;
      }
    }
    return undefined;
  }

  private insert(key: string, e: KernelElement): void {
    this.elements.set(key, e);
    const r = rangeOf(e.source);
    const endpoint = `${e.set}|${e.proto}|${e.port}`;
    let lengths = this.byEndpoint.get(endpoint);
    if (lengths === undefined) {
      lengths = new Map();
      this.byEndpoint.set(endpoint, lengths);
    }
    let networks = lengths.get(r.length);
    if (networks === undefined) {
      networks = new Map();
      lengths.set(r.length, networks);
    }
    networks.set(formatIPAddress(r.network), r.network);
  }

  private remove(key: string, e: KernelElement): void {
    this.elements.delete(key);
    const r = rangeOf(e.source);
    this.byEndpoint.get(`${e.set}|${e.proto}|${e.port}`)?.get(r.length)?.delete(formatIPAddress(r.network));
  }
}

function refused(message: string): KnockgateError {
  return new KnockgateError('KG_FIREWALL_FAILED', `nft rejected the batch: ${message}`);
}

function elementKey(set: string, item: unknown): string {
  const val = (item as { elem?: { val?: unknown } }).elem?.val ?? item;
  const concat = (val as { concat?: unknown[] }).concat;
  if (!Array.isArray(concat) || concat.length !== 3) throw new Error(`not a grant element: ${JSON.stringify(item)}`);
  return `${set}|${sourceText(concat[0])}|${String(concat[1])}|${String(concat[2])}`;
}

function sourceText(value: unknown): string {
  if (typeof value === 'string') return value;
  const p = (value as { prefix?: { addr: string; len: number } }).prefix;
  if (p === undefined) throw new Error(`not a grant source: ${JSON.stringify(value)}`);
  return `${p.addr}/${p.len}`;
}

function sourceValue(source: string): unknown {
  const slash = source.indexOf('/');
  return slash < 0 ? source : { prefix: { addr: source.slice(0, slash), len: Number(source.slice(slash + 1)) } };
}

function rangeOf(source: string): Range {
  const slash = source.indexOf('/');
  const address = parseIPAddress(slash < 0 ? source : source.slice(0, slash));
  if (address === null) throw new Error(`not an address: ${source}`);
  const length = slash < 0 ? address.bytes.length * 8 : Number(source.slice(slash + 1));
  return { network: maskIPAddress(address, length), length };
}
