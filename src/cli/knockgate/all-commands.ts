/**
 * Every command of `knockgate`, in the order --help lists them: the client's (client-commands.ts),
 * then provisioning, import, the operator's commands on a running daemon, the audit trail, and
 * completion last (it writes its script from every command registered before it).
 * To add a command that is not a client command, call its addXCommand here.
 */

import type { Command } from 'commander';
import { addAuditCommand } from './audit.js';
import { addClientCommands } from './client-commands.js';
import { addCompletionCommand } from './completion.js';
import { addImportCommand } from './import.js';
import { addOperateCommands } from './operate.js';
import { addProvisioningCommands } from './provisioning.js';

export function addAllCommands(program: Command): void {
  addClientCommands(program);
  addProvisioningCommands(program);
  addImportCommand(program);
  addOperateCommands(program);
  addAuditCommand(program);
  addCompletionCommand(program); // last: it is written from every command registered above
}
