/**
 * A listed interface that does not exist is a configuration error (exit 78) naming the file and
 * the line of `interfaces:`, found before anything is installed. `any` always exists; those in
 * `late_interfaces` may be missing (the captures wait for them: daemon/captures.ts). The
 * existence test is a parameter so that unit tests can fake it; the default reads /sys/class/net.
 */

import { existsSync } from 'node:fs';
import { ConfigError } from '../core/errors.js';
import type { Config } from './config.js';

export type InterfaceExists = (name: string) => boolean;

export const interfaceExistsInSysfs: InterfaceExists = (name) => existsSync(`/sys/class/net/${name}`);

export function checkInterfacesExist(
  config: Pick<Config, 'file' | 'interfaces' | 'interfacesLine'> & Partial<Pick<Config, 'lateInterfaces'>>,
  exists: InterfaceExists = interfaceExistsInSysfs,
): void {
  const late = new Set(config.lateInterfaces ?? []);
  const missing = config.interfaces.filter((i) => i !== 'any' && !late.has(i) && !exists(i));
  if (missing.length > 0) {
    throw new ConfigError(
      config.file,
      config.interfacesLine ?? undefined,
      'interfaces',
      `no such interface: ${missing.map((m) => JSON.stringify(m)).join(', ')} (one that appears later, such as a VPN's, goes in late_interfaces too)`,
    );
  }
}
