/**
 * `knockgate import FILE`: knockd.conf or access.conf to knockgate YAML, printed or written with
 * -o (mode 0600). The translation is src/config/import-config.ts; what does not carry over
 * exactly is said on stderr.
 */

import type { Command } from 'commander';
import { importConfig } from '../../config/import-config.js';
import type { Endpoint } from '../../core/endpoint.js';
import { writePrivateFile } from '../../stores/key-files.js';
import { parsePortList } from './option-parsers.js';

export function addImportCommand(program: Command): void {
  program
    .command('import')
    .description(
      'turn a knockd.conf or an fwknop access.conf into knockgate YAML (printed, or written with -o); what does not carry over exactly is said on stderr',
    )
    .argument('<file>', 'knockd.conf or access.conf')
    .option('--from <kind>', 'knockd or fwknop (default: guessed from the file)')
    .option('-o, --out <file>', 'write the YAML here (mode 0600: fwknop keys are secrets)')
    .option('--force', 'replace an existing output file')
    .option(
      '--open <ports>',
      "access.conf: the ports the door may open, e.g. 22/tcp (needed when no stanza has OPEN_PORTS; else it replaces the stanzas' list)",
      parsePortList,
    )
    .action((file: string, o: { from?: string; out?: string; force?: boolean; open?: Endpoint[] }) => {
      const yaml = importConfig(
        file,
        o.from,
        (line) => process.stderr.write(`knockgate: ${line}\n`),
        o.open === undefined ? {} : { open: o.open },
      );
      if (o.out) {
        writePrivateFile(o.out, yaml, o.force ?? false);
        process.stdout.write(`wrote ${o.out}\n`);
      } else {
        process.stdout.write(yaml);
      }
    });
}
