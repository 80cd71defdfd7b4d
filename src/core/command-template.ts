/**
 * argv templates for start_command and stop_command. Each argument may hold placeholders that are
 * replaced by values the daemon produced itself (never bytes from a packet):
 *
 *   {ip}       the granted source address, as parsed from the packet header and re-formatted
 *   {door}     the door's name (validated against DOOR_NAME at load)
 *   {family}   4 or 6
 *   {duration} the grant's duration in whole seconds
 *   {ports}    the opened ports, e.g. 22/tcp,443/tcp
 *
 * The result is an argv array handed to execve through child_process without a shell, so no
 * value can be read as shell syntax. `{{` and `}}` stand for literal braces.
 */

export const PLACEHOLDERS = ['ip', 'door', 'family', 'duration', 'ports'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
export type PlaceholderValues = Readonly<Record<Placeholder, string>>;

const TOKEN = /\{\{|\}\}|\{([a-z]+)\}|[{}]/g;

/** Returns an error message for the first bad placeholder in `arg`, or null. */
export function checkTemplateArg(arg: string): string | null {
  for (const m of arg.matchAll(TOKEN)) {
    const token = m[0];
    if (token === '{{' || token === '}}') continue;
    if (token === '{' || token === '}')
      return `unbalanced brace in ${JSON.stringify(arg)}; write {{ or }} for a literal brace`;
    if (!(PLACEHOLDERS as readonly string[]).includes(m[1] as string)) {
      return `unknown placeholder ${token} in ${JSON.stringify(arg)}; known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`;
    }
  }
  return null;
}

export function expandTemplate(argv: readonly string[], values: PlaceholderValues): string[] {
  return argv.map((arg) =>
    arg.replace(TOKEN, (token, name: string | undefined) => {
      if (token === '{{') return '{';
      if (token === '}}') return '}';
      return name !== undefined && (PLACEHOLDERS as readonly string[]).includes(name)
        ? values[name as Placeholder]
        : token;
    }),
  );
}
