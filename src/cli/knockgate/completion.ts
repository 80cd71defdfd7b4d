/**
 * `knockgate completion bash`: a bash completion script written from the program's own command
 * tree (commander's commands and options), so it cannot drift from what the tool accepts. zsh
 * loads it through bashcompinit (README). Completes command names, each command's options, and
 * file names after an option whose argument is a file (`<file>`, `<path>`, `<dir>` in its flags).
 */

import type { Command, Option } from 'commander';
import { KnockgateError } from '../../core/errors.js';

export function addCompletionCommand(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: knockgate completion bash > /etc/bash_completion.d/knockgate')
    .argument('<shell>', 'bash (zsh: load it with bashcompinit)')
    .action((shell: string) => {
      if (shell !== 'bash')
        throw new KnockgateError(
          'KG_USAGE',
          `completion for ${JSON.stringify(shell)} is not written; bash is (zsh can load it with bashcompinit)`,
        );
      process.stdout.write(bashCompletion(program));
    });
}

/** The script for `program` (its name is the command completed). */
export function bashCompletion(program: Command): string {
  const name = program.name();
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const commands = program.commands.map((c) => c.name());
  const flagsOf = (options: readonly Option[]) =>
    options.flatMap((o) => [o.short, o.long].filter((f): f is string => f !== undefined));
  const fileFlags = new Set<string>();
  for (const c of [program, ...program.commands])
    for (const o of c.options) if (/<(file|path|dir)>/.test(o.flags)) for (const f of flagsOf([o])) fileFlags.add(f);
  const cases = program.commands.map(
    (c) => `    ${c.name()}) opts=${quote([...flagsOf(c.options), '--help'].join(' '))} ;;`,
  );
  return `# bash completion for ${name}, written by \`${name} completion bash\` (do not edit: regenerate it)
${fn}() {
  local cur prev cmd opts w
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd=""
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$w" in -*) ;; *) cmd="$w"; break ;; esac
  done
  case "$prev" in
    ${[...fileFlags].join('|') || '--no-such-flag'}) COMPREPLY=( $(compgen -f -- "$cur") ); return 0 ;;
  esac
  if [[ -z "$cmd" ]]; then
    COMPREPLY=( $(compgen -W ${quote([...commands, '--help', '--version'].join(' '))} -- "$cur") )
    return 0
  fi
  case "$cmd" in
${cases.join('\n')}
    *) opts="--help" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  fi
  return 0
}
complete -o default -o bashdefault -F ${fn} ${name}
`;
}

/** Single-quoted for bash; the words are commander's flags and command names (no quote inside). */
function quote(words: string): string {
  if (words.includes("'")) throw new Error(`a quote in a completion word: ${words}`);
  return `'${words}'`;
}
