/**
 * Compiles one fwknop stanza (knockgate's YAML form of an access.conf stanza, whether written in
 * knockgate.yaml or imported from an access.conf) into the FwknopStanza the handler matches.
 *
 * Contract: SOURCE and DESTINATION become CIDR sets; exactly one of key and key_base64, at most
 * one HMAC key; keys written in knockgate.yaml need a file readable by its owner only (`fromYaml`);
 * with a firewall, every OPEN_PORTS port is one of the door's "open" ports (unless the stanza has a
 * command cycle, whose grants open none of them); the keys must be ones
 * fwknop would accept (fwknopKeysProblem). A stanza without fw_access_timeout gets the door's
 * duration. Errors go through `from.fail`, which knows where the stanza was written.
 */

import { parseCidrList } from '../../core/cidr.js';
import type { FwknopStanza, NatTarget } from '../../core/door.js';
import { formatIPAddress, parseIPAddress } from '../../core/ip-address.js';
import { endpointKey, formatEndpoint } from '../../core/endpoint.js';
import { fwknopKeysProblem } from '../../core/spa/fwknop-wire.js';
import type { RawDoor, RawFwknopStanza } from '../schema.js';
import { compileFwknopGpg } from './fwknop-gpg.js';
import type { CompileContext, ConfigPath } from './context.js';
import { compileCmdCycle } from './fwknop-cmd-cycle.js';
import { compileCmdExec } from './fwknop-cmd-exec.js';

export interface StanzaSource {
  /** For logs and for the stanza's replay identity: where it came from. */
  readonly origin: string;
  /** Written in knockgate.yaml (so its keys are in that file), not imported. */
  readonly fromYaml: boolean;
  /** How messages name the door's "open" list (with its place in knockgate.yaml when the stanza is elsewhere). */
  readonly doorOpenText: string;
  /** Throws the ConfigError for `field` (a key path inside the stanza; [] for the stanza itself), where that field was written. */
  fail(field: ConfigPath, message: string): never;
}

export function compileFwknopStanza(
  ctx: CompileContext,
  d: RawDoor,
  st: RawFwknopStanza,
  from: StanzaSource,
): FwknopStanza {
  const fail = (key: ConfigPath, message: string): never => from.fail(key, message);
  const sources = parseCidrList(st.source);
  if ('error' in sources) return fail(['source'], sources.error);
  const destinations = parseCidrList(st.destination);
  if ('error' in destinations) return fail(['destination'], destinations.error);
  const gpg = compileFwknopGpg(st, fail);
  if (st.key !== undefined && st.key_base64 !== undefined)
    return fail(['key'], 'give at most one of "key" and "key_base64"');
  if (st.key === undefined && st.key_base64 === undefined && gpg === null)
    return fail([], 'give one of "key" and "key_base64", or "gpg" (or both)');
  if (st.hmac_key !== undefined && st.hmac_key_base64 !== undefined)
    return fail(['hmac_key'], 'give at most one of "hmac_key" and "hmac_key_base64"');
  if (from.fromYaml && !ctx.secretsProtected)
    return fail(
      [st.key !== undefined ? 'key' : st.key_base64 !== undefined ? 'key_base64' : 'gpg'],
      `this file holds secret keys but is readable by group or others; chmod 600 ${ctx.src.file}`,
    );
  const key =
    st.key !== undefined
      ? utf8Bytes(st.key)
      : st.key_base64 !== undefined
        ? decodeBase64(from, st.key_base64, 'key_base64')
        : new Uint8Array(0); // GnuPG only: no Rijndael packet is tried against it
  const hmacKey =
    st.hmac_key !== undefined
      ? utf8Bytes(st.hmac_key)
      : st.hmac_key_base64 !== undefined
        ? decodeBase64(from, st.hmac_key_base64, 'hmac_key_base64')
        : null;
  if (ctx.raw.firewall !== 'none' && st.cmd_cycle === undefined) {
    const doorOpens = new Set(d.open.map((e) => endpointKey(e.proto, e.port)));
    (st.open_ports ?? []).forEach((e, s) => {
      if (!doorOpens.has(endpointKey(e.proto, e.port)))
        fail(['open_ports', s], `${formatEndpoint(e)} is not among ${from.doorOpenText}`);
    });
  }
  const hmacType = st.hmac_digest_type.replace('_', '-') as FwknopStanza['hmacType'];
  // A GnuPG-only stanza's HMAC key is checked with a stand-in encryption key.
  const checked = key.length > 0 ? key : new Uint8Array(1);
  const problem = fwknopKeysProblem({ key: checked, hmacKey, hmacType, encryptionMode: st.encryption_mode });
  if (problem !== null)
    return fail(
      [st.key !== undefined ? 'key' : st.key_base64 !== undefined ? 'key_base64' : 'hmac_key_base64'],
      problem,
    );
  const cmdCycle = compileCmdCycle(st, fail);
  return Object.freeze({
    origin: from.origin,
    sources,
    destinations,
    openPorts: st.open_ports ? Object.freeze([...st.open_ports]) : null,
    restrictPorts: Object.freeze([...(st.restrict_ports ?? [])]),
    key,
    hmacKey,
    hmacType,
    encryptionMode: st.encryption_mode,
    // A command cycle closes after its timer when the client asks for no timeout (fwknopd).
    accessTimeoutS: cmdCycle?.close ? cmdCycle.timerS : (st.fw_access_timeout ?? d.duration) / 1000,
    maxTimeoutS: st.max_fw_timeout !== undefined ? st.max_fw_timeout / 1000 : null,
    requireUsername: st.require_username ?? null,
    requireSourceAddress: st.require_source_address,
    expiresAtS: st.access_expire_epoch ?? null,
    forceNat: compileForceNat(ctx, st, fail),
    gpg,
    cmdCycle,
    cmdExec: compileCmdExec(st, fail),
  });
}

/** FORCE_NAT: an IPv4 inner host (as fwknopd), a port, and at most one of masquerade and snat. */
function compileForceNat(
  ctx: CompileContext,
  st: RawFwknopStanza,
  fail: (key: ConfigPath, message: string) => never,
): NatTarget | null {
  const nat = st.force_nat;
  if (nat === undefined) return null;
  if (ctx.raw.firewall !== 'nftables')
    return fail(
      ['force_nat'],
      `FORCE_NAT (a port-forward) needs firewall: nftables (this file has firewall: ${ctx.raw.firewall}${ctx.raw.firewall === 'iptables' ? ', which guards hook: forward but makes no port-forwards' : ''})`,
    );
  const to = parseIPAddress(nat.to);
  if (to === null || to.family !== 4)
    return fail(
      ['force_nat', 'to'],
      `expected an IPv4 address (fwknopd's FORCE_NAT is IPv4), got ${JSON.stringify(nat.to)}`,
    );
  let snatTo: string | null = null;
  if (nat.snat !== undefined) {
    const a = parseIPAddress(nat.snat);
    if (a === null || a.family !== 4)
      return fail(['force_nat', 'snat'], `expected an IPv4 address, got ${JSON.stringify(nat.snat)}`);
    if (nat.masquerade) return fail(['force_nat', 'snat'], 'give snat or masquerade, not both');
    snatTo = formatIPAddress(a);
  }
  return Object.freeze({ address: formatIPAddress(to), family: 4, port: nat.port, masquerade: nat.masquerade, snatTo });
}

const utf8Bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'));

/** Standard base64 (padding optional, surrounding blanks ignored), or an error at the stanza's `field`. */
function decodeBase64(from: StanzaSource, text: string, field: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text.trim())) return from.fail([field], 'not base64 text');
  return new Uint8Array(Buffer.from(text.trim(), 'base64'));
}
