/**
 * The counter a rejection reason is counted under: `spa-mac1` → `spa_rejected_mac1`,
 * `fwknop-stale` → `fwknop_rejected_stale`. Built once per reason: rejection is the hot path of a
 * flood, and this is called for every datagram refused.
 */

const names = new Map<string, string>();

export function rejectCounter(reason: string): string {
  let name = names.get(reason);
  if (name === undefined) {
    const dash = reason.indexOf('-');
    name = `${reason.slice(0, dash)}_rejected_${reason.slice(dash + 1).replace(/-/g, '_')}`;
    names.set(reason, name);
  }
  return name;
}
