#!/usr/bin/env node
/**
 * knockgated: the daemon's entry point. Parses the command line, loads the configuration (exit 78
 * on any config error, naming file, line and key), has the composition root (daemon/compose.ts) build
 * the adapters, and runs the daemon until SIGTERM/SIGINT. SIGHUP reloads the configuration (the
 * same file, validated in full again; refused and logged if it is not valid) and reopens the audit
 * trail, SIGUSR2 only reopens the audit trail (logrotate), SIGUSR1 logs the counters.
 */

import { forwardingWarnings } from '../daemon/forwarding-sysctl.js';
import { logNetnsWarnings } from '../daemon/log-netns-sysctl.js';
import { openMetricsEndpoint } from '../metrics/http-endpoint.js';
import './v8-settings.js'; // first: before anything else loads
import { checkInterfacesExist } from '../config/interfaces-exist.js';
import { closeSync, constants, mkdirSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import type { Config } from '../config/config.js';
import { importKnockdConf } from '../config/knockd-conf.js';
import { DEFAULT_CONFIG_FILE, loadConfig, parseConfigText, readConfigFile } from '../config/load.js';
import { type ConfiguredFiles, composeDaemon, readConfiguredFiles } from '../daemon/compose.js';
import { checkFirewall, guardLockout, printedRuleset } from '../daemon/check.js';
import { overlapNotice } from '../daemon/key-overlap.js';
import { Daemon } from '../daemon/daemon.js';
import { createLogger } from '../daemon/json-logger.js';
import { EXIT, KnockgateError } from '../core/errors.js';
import { lockTable } from '../stores/table-lock.js';
import { openControlSocket } from '../control/server.js';
import { installService } from './install-service.js';
import { controlSocketPath } from '../control/socket-path.js';
import { openNoFollow } from '../config/trusted-file.js';
import { readableSecretsWarning } from '../config/config-secrets.js';
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

/** The configuration, from the YAML file or an unchanged knockd.conf (warnings of the import on stderr). */
function loadDaemonConfig(opts: {
  config: string;
  knockdConf?: string;
  pendingCommands?: string;
  auditLog?: string;
}): Config {
  if (opts.knockdConf === undefined) return loadConfig(opts.config);
  const file = resolve(opts.knockdConf);
  const imported = importKnockdConf(file, readConfigFile(file));
  for (const w of imported.warnings) process.stderr.write(`knockgated: ${file}:${w.line}: ${w.message}\n`);
  let config = parseConfigText(file, imported.yaml);
  // knockd.conf has no such options; the state files are the daemon's, so the command line says.
  if (opts.pendingCommands !== undefined)
    config = Object.freeze({ ...config, pendingCommands: resolve(opts.pendingCommands) });
  if (opts.auditLog !== undefined && config.audit !== null)
    config = Object.freeze({ ...config, audit: { ...config.audit, file: resolve(opts.auditLog) } });
  return config;
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
    .option(
      '--check',
      'check everything short of changing the kernel (config, files, interfaces, nftables taking the table: a dry run) and exit',
    )
    .option('--print-ruleset', 'print the nftables table this configuration installs and exit; changes nothing')
    .option('--dry-run', 'run, receive knocks and log decisions, but change no firewall and run no commands')
    .option('--strict', 'refuse to start (exit 78) when an established session would be shut out')
    .option(
      '--install-service',
      'put the systemd unit, logrotate file, bash completion and the 0700 directories in place, and exit',
    )
    .option('--root <dir>', 'with --install-service: install under this directory instead of /')
    .option('--force', 'with --install-service: replace files that differ from what this version ships')
    .option(
      '--audit-log <file>',
      'with --knockd-conf: the audit trail file (default /var/log/knockgate/audit.jsonl; a knockgate.yaml sets audit_log: instead)',
    )
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
    auditLog?: string;
    check?: boolean;
    printRuleset?: boolean;
    dryRun?: boolean;
    strict?: boolean;
    installService?: boolean;
    root?: string;
    force?: boolean;
    logLevel?: string;
  }>();
  if (opts.installService) {
    const lines = installService({ root: opts.root ?? '/', force: opts.force === true, daemonPath: argv[1] ?? '' });
    process.stdout.write(`${lines.join('\n')}\n`);
    return;
  }
  if (opts.root !== undefined || opts.force !== undefined)
    throw new KnockgateError('KG_USAGE', '--root and --force go with --install-service');
  if (opts.logLevel !== undefined && !['error', 'warn', 'info', 'debug'].includes(opts.logLevel)) {
    throw new KnockgateError(
      'KG_USAGE',
      `--log-level must be error, warn, info or debug, got ${JSON.stringify(opts.logLevel)}`,
    );
  }
  if (opts.knockdConf === undefined)
    for (const [flag, key, given] of [
      ['--pending-commands', 'pending_commands', opts.pendingCommands],
      ['--audit-log', 'audit_log', opts.auditLog],
    ] as const)
      if (given !== undefined)
        throw new KnockgateError(
          'KG_USAGE',
          `${flag} goes with --knockd-conf; in a knockgate.yaml set ${key}: instead`,
        );
  // Read at start and again at each reload, in full (SIGHUP, `knockgate reload`): the daemon's own
  // first stage (compose.ts); --check then has the kernel check the table (daemon/check.ts).
  const readConfiguration = (): { config: Config } & ConfiguredFiles => {
    const config = loadDaemonConfig(opts);
    checkInterfacesExist(config);
    return { config, ...readConfiguredFiles(config) };
  };
  const { config, ...files } = readConfiguration();
  if (opts.printRuleset) {
    process.stdout.write(printedRuleset(config, files));
    return;
  }
  if (opts.check) {
    // The guard first: the kernel's dry run of the table briefly registers connection tracking in
    // this namespace, which can pick up the very session the guard is about to judge.
    await guardLockout(config, {
      strict: opts.strict === true,
      warn: (l) => process.stderr.write(`knockgated: ${l}\n`),
    });
    for (const w of [...forwardingWarnings(config), ...logNetnsWarnings(config)])
      process.stderr.write(`knockgated: warning: ${w}\n`);
    const nft = await checkFirewall(config, files); // daemon/check.ts: the kernel checks, nothing is committed
    process.stdout.write(
      `${config.file}: OK (${config.doors.length} door${config.doors.length === 1 ? '' : 's'}: ${config.doors.map((d) => d.name).join(', ')}); ${nft}\n`,
    );
    const until = files.previousServerKey != null ? config.spa?.previousKeyUntilMs : undefined;
    if (until != null) process.stdout.write(`${config.file}: ${overlapNotice(until, Date.now()).message}\n`);
    return;
  }
  // One daemon per table and network namespace, before the PID file and the firewall are touched.
  // Taken with `firewall: none` too (on nft_table's name): two daemons on one config would both
  // run its commands. Not by a dry run, which holds nothing exclusive (daemon/dry-run.ts).
  const dryRun = opts.dryRun === true;
  if (!dryRun) lockTable(config.nftTable);
  const log = createLogger((opts.logLevel as typeof config.logLevel | undefined) ?? config.logLevel, {
    file: config.logFile,
    syslog: config.syslog,
  });
  // Before anything is written or installed: --strict refuses here (exit 78).
  await guardLockout(config, { strict: opts.strict === true, log });
  for (const detail of forwardingWarnings(config)) log.warn({ event: 'forwarding-off', detail }, detail);
  for (const detail of logNetnsWarnings(config)) log.warn({ event: 'log-all-netns', detail }, detail);
  if (dryRun) return runDryRun(config, log, files);
  if (config.pidFile) writePidFile(config.pidFile);
  const deps = await composeDaemon(config, log, files);
  // A reload is guarded like a start: lockout warnings logged, and refused under --strict.
  const reloadSource = async () => {
    const next = readConfiguration();
    // The running gate lists the kernel's grants: no second libnftables worker per reload.
    await guardLockout(next.config, { strict: opts.strict === true, log, grants: () => deps.gate.list() });
    for (const detail of forwardingWarnings(next.config)) log.warn({ event: 'forwarding-off', detail }, detail);
    for (const detail of logNetnsWarnings(next.config)) log.warn({ event: 'log-all-netns', detail }, detail);
    return next;
  };
  const daemon = new Daemon({ ...deps, reloadSource });
  // Before the firewall changes: a port already taken stops the start here (exit 69).
  const build = { version: VERSION, node: process.version };
  const endpoint = config.metrics ? await openMetricsEndpoint(config.metrics, deps.metrics, build, log) : null;
  // Beside the table's lock, which this process holds: `knockgate status`, `grants`, `revoke`, ...
  const control = await openControlSocket(controlSocketPath(config.nftTable), (r) => daemon.operations.handle(r), log);
  const exposed = (statSync(config.file).mode & 0o004) !== 0 ? readableSecretsWarning(config) : null;
  if (exposed !== null) log.warn({ event: 'config-readable', file: config.file }, exposed);

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
  process.on('SIGUSR2', () => {
    log.info({ event: 'signal', signal: 'SIGUSR2' }, 'reopening the audit trail');
    daemon.reopenAudit(); // logrotate's: nothing else changes
  });
  process.on('SIGHUP', () => {
    log.info({ event: 'signal', signal: 'SIGHUP' }, 'reloading the configuration, reopening the audit trail');
    daemon.reopenAudit(); // after logrotate moved the audit trail: new lines go to a new file
    // The outcome is logged by the daemon either way (reloaded, or reload-refused with the reason).
    daemon.reloadFromSource().catch(() => undefined);
  });

  await daemon.start();
}

/** --dry-run: the daemon on in-memory adapters; no PID file, control socket or metrics endpoint. */
async function runDryRun(config: Config, log: ReturnType<typeof createLogger>, files: ConfiguredFiles): Promise<void> {
  const daemon = new Daemon(await composeDaemon(config, log, files, undefined, { dryRun: true }));
  const stop = (): void => void daemon.stop().then(() => process.exit(EXIT.OK));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await daemon.start();
}

main(process.argv).catch(fail);
