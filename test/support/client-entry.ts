/**
 * The server-side entry `knockgate add-client` prints, pulled out of its output and indented for a
 * door's `clients:` list, as an operator would paste it.
 */

export function clientEntryYaml(addClientOutput: string, extra: readonly string[] = []): string[] {
  const lines = addClientOutput
    .split('\n')
    .filter((l) => /^\s+(- name|id|public_key|psk|ssh_key|previous_public_key|previous_psk|previous_ssh_key):/.test(l))
    .map((l) => l.trim());
  return [`      ${lines[0] ?? ''}`, ...lines.slice(1).map((l) => `        ${l}`), ...extra.map((l) => `        ${l}`)];
}
