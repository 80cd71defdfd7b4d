#!/usr/bin/env node
/**
 * knockgated: the daemon's entry point. Parses the command line, loads the configuration (exit 78
 * on any config error, naming file, line and key), has the composition root (daemon/compose.ts) build
 * the adapters, and runs the daemon until SIGTERM/SIGINT.
 */

import { openMetricsEndpoint } from '../metrics/http-endpoint.js';
import './v8-settings.js'; // first: before anything else loads
import { checkInterfacesExist } from '../config/interfaces-exist.js';
import { closeSync, constants, mkdirSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import type { Config } from '../config/config.js';
import { importKnockdConf } from '../config/knockd-conf.js';
import { DEFAULT_CONFIG_FILE, loadConfig, parseConfigText, readConfigFile } from '../config/load.js';
import { composeDaemon, readConfiguredFiles } from '../daemon/compose.js';
import { overlapNotice } from '../daemon/key-overlap.js';
import { Daemon } from '../daemon/daemon.js';
import { createLogger } from '../daemon/json-logger.js';
import { EXIT, KnockgateError } from '../core/errors.js';
import { lockTable } from '../stores/table-lock.js';
import { openControlSocket } from '../control/server.js';
import { controlSocketPath } from '../control/socket-path.js';
import { openNoFollow } from '../config/trusted-file.js';
import { VERSION } from '../version.js';

/** knockd's PidFile: our PID while we run, removed when we exit. A symbolic link there is refused. */
function writePidFile(file: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
  } catch (err) {
    throw new KnockgateError('KG_STATE_WRITE_FAILED', `cannot write the PID file ${file}: ${(err as Error).message}`);
  }
  const fd = openNoFollow(file, constants.O_WRONLY | constants.O_TRUNC, 0o644, 'PID file');
  try {
    const text = `${process.pid}\n`;
    if (writeSync(fd, text) !== Buffer.byteLength(text)) throw new Error('short write');
  } catch (err) {
    throw new KnockgateError('KG_STATE_WRITE_FAILED', `cannot write the PID file ${file}: ${(err as Error).message}`);
  } finally {
    closeSync(fd);
  }
  process.once('exit', () => {
    try {
      if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
    } catch {
      // already gone
    }
  });
}

function fail(err: unknown): never {
  if (err instanceof KnockgateError) {
    process.stderr.write(`knockgated: ${err.message} [${err.code}]\n`);
    process.exit(err.exitCode);
  }
  process.stderr.write(`knockgated: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(EXIT.SOFTWARE);
}

async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('knockgated')
    .description('knockgate daemon: watches for knocks and opens protected ports for the knocking address alone')
    .version(VERSION)
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG_FILE)
    .option(
      '--knockd-conf <file>',
      "run an unchanged knockd.conf instead (its commands run through /bin/sh, as knockd's do)",
    )
    .option(
      '--pending-commands <file>',
      'with --knockd-conf: where the pending stop commands are kept (default /var/lib/knockgate/pending-commands.json; a knockgate.yaml sets pending_commands: instead)',
    )
    .option('--check', 'validate the configuration (and one-time sequence files), print a summary and exit')
    .option('--log-level <level>', 'override log_level: error, warn, info or debug')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    program.parse(argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : EXIT.USAGE);
    throw err;
  }
  const opts = program.opts<{
    config: string;
    knockdConf?: string;
    pendingCommands?: string;
    check?: boolean;
    logLevel?: string;
  }>();
  if (opts.logLevel !== undefined && !['error', 'warn', 'info', 'debug'].includes(opts.logLevel)) {
    throw new KnockgateError(
      'KG_USAGE',
      `--log-level must be error, warn, info or debug, got ${JSON.stringify(opts.logLevel)}`,
    );
  }
  let config: Config;
  if (opts.knockdConf !== undefined) {
    const imported = importKnockdConf(resolve(opts.knockdConf), readConfigFile(resolve(opts.knockdConf)));
    for (const w of imported.warnings)
      process.stderr.write(`knockgated: ${resolve(opts.knockdConf)}:${w.line}: ${w.message}\n`);
    config = parseConfigText(resolve(opts.knockdConf), imported.yaml);
    // knockd.conf has no such option; the state file is the daemon's, so the command line says.
    if (opts.pendingCommands !== undefined)
      config = Object.freeze({ ...config, pendingCommands: resolve(opts.pendingCommands) });
  } else {
    if (opts.pendingCommands !== undefined)
      throw new KnockgateError(
        'KG_USAGE',
        '--pending-commands goes with --knockd-conf; in a knockgate.yaml set pending_commands: instead',
      );
    config = loadConfig(opts.config);
  }
  checkInterfacesExist(config);
  // The daemon's own first stage (compose.ts): --check runs exactly this, then stops.
  const files = readConfiguredFiles(config);
  if (opts.check) {
    process.stdout.write(
      `${config.file}: OK (${config.doors.length} door${config.doors.length === 1 ? '' : 's'}: ${config.doors.map((d) => d.name).join(', ')})\n`,
    );
    const until = files.previousServerKey !== null ? config.spa?.previousKeyUntilMs : undefined;
    if (until != null) process.stdout.write(`${config.file}: ${overlapNotice(until, Date.now()).message}\n`);
    return;
  }
  // One daemon per table and network namespace, before the PID file and the firewall are touched.
  // Taken with `firewall: none` too (on nft_table's name): two daemons on one config would both
  // run its commands.
  lockTable(config.nftTable);
  const log = createLogger((opts.logLevel as typeof config.logLevel | undefined) ?? config.logLevel, {
    file: config.logFile,
    syslog: config.syslog,
  });
  if (config.pidFile) writePidFile(config.pidFile);
  const deps = await composeDaemon(config, log, files);
  const daemon = new Daemon(deps);
  // Before the firewall changes: a port already taken stops the start here (exit 69).
  const build = { version: VERSION, node: process.version };
  const endpoint = config.metrics ? await openMetricsEndpoint(config.metrics, deps.metrics, build, log) : null;
  // Beside the table's lock, which this process holds: `knockgate status`, `grants`, `revoke`, ...
  const control = await openControlSocket(controlSocketPath(config.nftTable), (r) => daemon.operations.handle(r), log);
  if ((statSync(config.file).mode & 0o004) !== 0) {
    log.warn(
      { event: 'config-readable', file: config.file },
      'the configuration holds knock sequences and is world-readable; chmod 600 it',
    );
  }

  process.on('uncaughtException', (err) => {
    log.error({ event: 'crash', error: err.stack }, 'internal error; firewall rules left in place (fail closed)');
    process.exit(EXIT.SOFTWARE);
  });
  const shutdown = (signal: string): void => {
    log.info({ event: 'signal', signal }, 'stopping');
    daemon
      .stop()
      .then(() => Promise.all([endpoint?.close(), control.close()]))
      .then(
        () => process.exit(EXIT.OK),
        () => process.exit(EXIT.SOFTWARE),
      );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGUSR1', () => daemon.logStats());
  process.on('SIGHUP', () =>
    log.warn(
      { event: 'signal', signal: 'SIGHUP' },
      'reload is not supported yet; restart knockgated to apply a new configuration',
    ),
  );

  await daemon.start();
}

main(process.argv).catch(fail);
