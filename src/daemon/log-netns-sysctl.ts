/**
 * net.netfilter.nf_log_all_netns = 1 sends the LOG lines of every network namespace to the one
 * kernel log, and a LOG line does not say which namespace wrote it: anyone who may create a
 * network namespace (unprivileged user namespaces make that everyone) can then add their own
 * `log prefix` rule and send packets with the source they choose, and the kernel-log sensor reads
 * those lines as knocks. knockgated says so at start, at a reload and in --check; the sensor
 * `nflog` has no such weakness (NFLOG groups are per namespace). The reader is a parameter for tests.
 */

import { readFileSync } from 'node:fs';
import type { Config } from '../config/config.js';
import type { SysctlReader } from './forwarding-sysctl.js';

const NF_LOG_ALL_NETNS = '/proc/sys/net/netfilter/nf_log_all_netns';

const CONSEQUENCE =
  'so the kernel log carries the LOG lines of every network namespace and does not say which: anyone who can create one (unprivileged user namespaces) can forge knocks for the kernel-log sensor; use sensor nflog (or run knockgated in the initial namespace with nf_log_all_netns=0)';

export function logNetnsWarnings(config: Config, read: SysctlReader = (p) => readFileSync(p, 'utf8')): string[] {
  if (config.sensor.kind !== 'kernel-log') return [];
  let value: string;
  try {
    value = read(NF_LOG_ALL_NETNS).trim();
  } catch (err) {
    // The sysctl exists in the initial namespace only: here, this daemon's own LOG lines reach the
    // kernel log only if it is 1 in the initial namespace, with the same consequence.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return [];
    return [
      `knockgated runs in a network namespace other than the initial one: the kernel-log sensor sees its lines only with net.netfilter.nf_log_all_netns=1, ${CONSEQUENCE}`,
    ];
  }
  return value === '1' ? [`net.netfilter.nf_log_all_netns is 1: ${CONSEQUENCE}`] : [];
}
