/**
 * Which grants an operator means (`knockgate revoke`, `knockgate extend`): by grant id, by address
 * or prefix, by door, by client, or all of them. Pure. Every criterion given must hold (they are
 * ANDed); an id may be given by its first MIN_ID_PREFIX characters; a selector with none selects nothing unless it says `all`, so that a forgotten argument
 * never revokes every grant.
 *
 * An address or prefix selects the grants whose network lies inside it: `198.18.0.0/24` selects a
 * grant for 198.18.0.7 and one for 198.18.0.0/25, but not one for 198.18.0.0/16 (that grant is
 * wider than what was named; revoking it would close more than the operator asked).
 */

import { parseAddressPrefix, type AddressPrefix } from './address-prefix.js';
import { maskIPAddress, sameIPAddress } from './ip-address.js';

/** The shortest id prefix that names a grant (the grant list prints 8 characters). */
export const MIN_ID_PREFIX = 8;

export interface GrantSelectorInput {
  readonly id?: string;
  /** ADDRESS or ADDRESS/PREFIX. */
  readonly source?: string;
  readonly door?: string;
  readonly client?: string;
  readonly all?: boolean;
}

export interface GrantSelector {
  readonly id?: string;
  readonly network?: AddressPrefix;
  readonly door?: string;
  readonly client?: string;
  readonly all: boolean;
}

/** What a selector is matched against: the fields of a grant record it may name. */
export interface SelectableGrant {
  readonly id: string;
  readonly door: string;
  readonly source: string;
  readonly client?: string;
}

export function parseGrantSelector(input: GrantSelectorInput): GrantSelector | { error: string } {
  let network: AddressPrefix | undefined;
  if (input.source !== undefined) {
    const parsed = parseAddressPrefix(input.source);
    if ('error' in parsed) return { error: `address: ${parsed.error}` };
    network = parsed;
  }
  const all = input.all === true;
  const named = [input.id, network, input.door, input.client].some((v) => v !== undefined);
  if (!named && !all) return { error: 'name the grants: a grant id, an address or prefix, a door, a client, or all' };
  if (named && all) return { error: '"all" goes alone: it cannot be combined with other criteria' };
  return { id: input.id, network, door: input.door, client: input.client, all };
}

export function selectsGrant(selector: GrantSelector, grant: SelectableGrant): boolean {
  if (selector.all) return true;
  if (selector.id !== undefined && !idMatches(grant.id, selector.id)) return false;
  if (selector.door !== undefined && grant.door !== selector.door) return false;
  if (selector.client !== undefined && grant.client !== selector.client) return false;
  if (selector.network !== undefined && !withinNetwork(grant.source, selector.network)) return false;
  return true;
}

/** The whole id, or its first MIN_ID_PREFIX or more characters (what `knockgate grants` prints). */
function idMatches(id: string, named: string): boolean {
  return id === named || (named.length >= MIN_ID_PREFIX && id.startsWith(named));
}

function withinNetwork(source: string, network: AddressPrefix): boolean {
  const grant = parseAddressPrefix(source);
  if ('error' in grant || grant.address.family !== network.address.family) return false;
  if (grant.prefix < network.prefix) return false;
  return sameIPAddress(maskIPAddress(grant.address, network.prefix), maskIPAddress(network.address, network.prefix));
}
