/**
 * `knockgate profile add FILE [NAME]`, `profile list`, `profile show NAME`: the client's
 * profiles, so that `knockgate knock NAME` (and `connect NAME PORT`) knocks the server the
 * profile names. Output here; the files are src/client/profile-book.ts.
 */

import type { Command } from 'commander';
import { addProfile, listProfiles, showProfile, type ProfileSummary } from '../../client/profile-book.js';
import { profileDir } from '../../client/profiles.js';
import { textTable } from './text-table.js';

export function addProfileCommands(program: Command): void {
  const profile = program
    .command('profile')
    .description(`client profiles: credentials kept in ${profileDir()}, knocked by name`);
  profile
    .command('add')
    .description("keep a credential as a profile (0600), named NAME or after the credential's server")
    .argument('<file>', 'a client credential (from knockgate add-client)')
    .argument('[name]', "the profile's name (default: the credential's server:, else the file's name)")
    .option('--force', 'replace a profile of that name')
    .action((file: string, name: string | undefined, o: { force?: boolean }) => {
      const p = addProfile(file, name, o.force ?? false);
      process.stdout.write(
        `added profile ${p.profile} (${p.file})\n${p.server === null ? `it names no server: knockgate knock HOST --profile ${p.profile}` : `knockgate knock ${p.profile} knocks ${p.server}`}\n`,
      );
    });
  profile
    .command('list')
    .description('every profile: name, server, door, client')
    .option('--json', 'print as JSON')
    .action((o: { json?: boolean }) => {
      const { ok, bad } = listProfiles();
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ profiles: ok, unreadable: bad }, null, 2)}\n`);
        return;
      }
      if (ok.length === 0 && bad.length === 0) {
        process.stdout.write(`no profiles in ${profileDir()} (knockgate profile add FILE)\n`);
        return;
      }
      const rows = ok.map((p) => [p.profile, p.server ?? '-', p.door, p.name, p.secret]);
      process.stdout.write(`${textTable(['PROFILE', 'SERVER', 'DOOR', 'CLIENT', 'SECRET'], rows)}\n`);
      for (const b of bad) process.stderr.write(`knockgate: profile ${b.profile}: ${b.problem}\n`);
    });
  profile
    .command('show')
    .description('what a profile knocks with (never its secret)')
    .argument('<name>', 'the profile')
    .option('--json', 'print as JSON')
    .action((name: string, o: { json?: boolean }) => {
      const p = showProfile(name);
      process.stdout.write(o.json ? `${JSON.stringify(p, null, 2)}\n` : `${showLines(p).join('\n')}\n`);
    });
}

function showLines(p: ProfileSummary): string[] {
  return [
    `profile:    ${p.profile} (${p.file})`,
    `server:     ${p.server ?? 'none (give HOST: knockgate knock HOST --profile NAME)'}`,
    `spa port:   ${p.port}/udp`,
    `door:       ${p.door}`,
    `client:     ${p.name} (client id ${p.clientId})`,
    `server key: ${p.serverKey}`,
    `ports:      ${p.ports ?? "the door's, as far as this client is allowed"}`,
    `address:    ${p.address ?? "the packet's source (not bound)"}`,
    `secret:     ${p.secret}`,
  ];
}
