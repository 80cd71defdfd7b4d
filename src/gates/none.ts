/**
 * `firewall: none`: a gate that changes nothing. Doors still run their start and stop commands
 * (knockd's way, or a door that only runs commands); no port is protected by knockgate.
 */

import type { ActiveGrant, Gate } from '../ports/gate.js';

export class NoGate implements Gate {
  readonly kind = 'none';
  readonly enforcing = false;

  async install(): Promise<readonly ActiveGrant[]> {
    return [];
  }

  async grant(): Promise<void> {}

  async list(): Promise<readonly ActiveGrant[]> {
    return [];
  }

  async revoke(): Promise<void> {}

  close(): void {}
}
