/**
 * Compiles one fwknop stanza (knockgate's YAML form of an access.conf stanza, whether written in
 * knockgate.yaml or imported from an access.conf) into the FwknopStanza the handler matches.
 *
 * Contract: SOURCE and DESTINATION become CIDR sets; exactly one of key and key_base64, at most
 * one HMAC key; keys written in knockgate.yaml need a file readable by its owner only (`fromYaml`);
 * with a firewall, every OPEN_PORTS port is one of the door's "open" ports; the keys must be ones
 * fwknop would accept (fwknopKeysProblem). A stanza without fw_access_timeout gets the door's
 * duration.
 */

import { parseCidrList } from '../../core/cidr.js';
import type { FwknopStanza } from '../../core/door.js';
import { endpointKey, formatEndpoint } from '../../core/endpoint.js';
import { fwknopKeysProblem } from '../../core/spa/fwknop-wire.js';
import type { RawDoor, RawFwknopStanza } from '../schema.js';
import type { CompileContext, ConfigPath } from './context.js';

export interface StanzaSource {
  /** For logs and for the stanza's replay identity: where it came from. */
  readonly origin: string;
  /** Where errors point in knockgate.yaml: the stanza, or the door's access_conf key. */
  readonly path: ConfigPath;
  /** Written in knockgate.yaml (so its keys are in that file), not imported. */
  readonly fromYaml: boolean;
}

export function compileFwknopStanza(ctx: CompileContext, d: RawDoor, st: RawFwknopStanza, from: StanzaSource): FwknopStanza {
  const { fail } = ctx;
  const sat = (...key: ConfigPath): ConfigPath => [...from.path, ...key];
  const sources = parseCidrList(st.source);
  if ('error' in sources) return fail(sat('source'), sources.error);
  const destinations = parseCidrList(st.destination);
  if ('error' in destinations) return fail(sat('destination'), destinations.error);
  if ((st.key === undefined) === (st.key_base64 === undefined)) return fail(sat(), 'give exactly one of "key" and "key_base64" (GnuPG stanzas are not supported)');
  if (st.hmac_key !== undefined && st.hmac_key_base64 !== undefined) return fail(sat('hmac_key'), 'give at most one of "hmac_key" and "hmac_key_base64"');
  if (from.fromYaml && !ctx.secretsProtected) return fail(sat(st.key !== undefined ? 'key' : 'key_base64'), `this file holds secret keys but is readable by group or others; chmod 600 ${ctx.src.file}`);
  const key = st.key !== undefined ? utf8Bytes(st.key) : decodeBase64(ctx, st.key_base64 as string, sat('key_base64'));
  const hmacKey = st.hmac_key !== undefined ? utf8Bytes(st.hmac_key) : st.hmac_key_base64 !== undefined ? decodeBase64(ctx, st.hmac_key_base64, sat('hmac_key_base64')) : null;
  if (ctx.raw.firewall !== 'none') {
    const doorOpens = new Set(d.open.map((e) => endpointKey(e.proto, e.port)));
    (st.open_ports ?? []).forEach((e, s) => {
      if (!doorOpens.has(endpointKey(e.proto, e.port))) fail(sat('open_ports', s), `${formatEndpoint(e)} is not among the door's "open" ports`);
    });
  }
  const hmacType = st.hmac_digest_type.replace('_', '-') as FwknopStanza['hmacType'];
  const problem = fwknopKeysProblem({ key, hmacKey, hmacType, encryptionMode: st.encryption_mode });
  if (problem !== null) return fail(sat(st.key !== undefined ? 'key' : 'key_base64'), problem);
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
    accessTimeoutS: (st.fw_access_timeout ?? d.duration) / 1000,
    maxTimeoutS: st.max_fw_timeout !== undefined ? st.max_fw_timeout / 1000 : null,
    requireUsername: st.require_username ?? null,
    requireSourceAddress: st.require_source_address,
    expiresAtS: st.access_expire_epoch ?? null,
  });
}

const utf8Bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'));

/** Standard base64 (padding optional, surrounding blanks ignored), or an error at `path`. */
function decodeBase64(ctx: CompileContext, text: string, path: ConfigPath): Uint8Array {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text.trim())) return ctx.fail(path, 'not base64 text');
  return new Uint8Array(Buffer.from(text.trim(), 'base64'));
}
