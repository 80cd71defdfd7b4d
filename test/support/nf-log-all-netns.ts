/**
 * net.netfilter.nf_log_all_netns for a test: the kernel drops LOG lines from a network namespace
 * other than the initial one unless it is 1. useLogAllNetns() sets it in the describe's before()
 * and puts the previous value back in its after(), whatever happened in between.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { after, before } from 'node:test';

const SYSCTL = '/proc/sys/net/netfilter/nf_log_all_netns';

export function useLogAllNetns(): void {
  let previous: string | null = null;
  before(() => {
    previous = readFileSync(SYSCTL, 'utf8').trim();
    writeFileSync(SYSCTL, '1');
  });
  after(() => {
    if (previous !== null) writeFileSync(SYSCTL, previous);
  });
}
