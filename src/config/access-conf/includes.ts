/**
 * Reading an access.conf and the files its %include and %include_folder directives name, as
 * fwknopd's parse_access_file() and parse_access_folder() do (fwknop 2.6.11 server/access.c):
 *   - %include FILE opens FILE as given (relative names from fwknopd's working directory, `/` once
 *     it runs as a daemon) and only while the including file is less than MAX_DEPTH (3) deep, the
 *     top file being 1 deep: "Refusing to go deeper than 3 levels"; variables after the %include
 *     line still belong to the including file's current stanza;
 *   - %include_folder DIR (one trailing `/` cut) reads every entry whose last `.` starts `.conf`
 *     (strncmp(ext, ".conf", 5)), in readdir order, each one level deeper, with no depth check;
 *   - every file must be a regular file (verify_file_perms_ownership; fwknopd only warns about
 *     modes other than 0600).
 * knockgate's choices: a relative path is opened from the working directory, as fwknopd does (a
 * warning says where that is, and that a daemon's is `/`); one that cannot be opened there but
 * exists beside the including file is an error that says so; folder entries are read in name order (a warning says so when there
 * are several); a file that includes itself, directly or not, is an error (fwknopd hits the depth
 * limit, or recurses without end through %include_folder); every file passes trusted-file.ts's
 * checks (owner, writability, directories: the stanzas hold keys and say which ports open); at
 * most MAX_FWKNOP_ACCESS_FILES files.
 *
 * Contract: the only I/O of the import. Every other line goes, in file order, to the caller's
 * `onLine`, with the current stanza of the file it is in (each file starts with none) and returns
 * that file's new current stanza.
 */

import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { MAX_CONFIG_FILE_BYTES } from '../../core/limits.js';
import { tryReadTrustedFile } from '../trusted-file.js';
import { shown, utf8Of } from './c-readings.js';
import { MAX_FWKNOP_ACCESS_FILES } from '../../core/limits.js';
import { MAX_INCLUDE_DEPTH } from './fwknopd-constants.js';
import { lexAccessConf, type AccessLine } from './lexer.js';
import type { AccessConfReport, Loc } from './report.js';

/** Handles one variable line; `current` is the stanza this file has open (null before its first SOURCE). */
export type AccessLineHandler<S> = (line: AccessLine, current: S | null) => S | null;

export function readAccessFiles<S>(top: string, report: AccessConfReport, onLine: AccessLineHandler<S>): void {
  new AccessFileReader(report, onLine).readFile(top, 1, null);
}

class AccessFileReader<S> {
  /** Real paths of the files being read, outermost first: a repeat is an include loop. */
  private readonly reading: string[] = [];
  private filesRead = 0;

  constructor(
    private readonly report: AccessConfReport,
    private readonly onLine: AccessLineHandler<S>,
  ) {}

  /** parse_access_file(): `depth` is this file's depth (the top file is 1); `from` the directive that named it. */
  readFile(file: string, depth: number, from: (Loc & { key: string }) | null): void {
    const whereOpened: (detail: string) => never = (detail) =>
      from ? this.report.fail(from, from.key, detail) : this.report.fail(file, undefined, detail);
    if (++this.filesRead > MAX_FWKNOP_ACCESS_FILES) whereOpened(`more than ${MAX_FWKNOP_ACCESS_FILES} access files`);
    let real: string;
    const read = tryReadTrustedFile(file, MAX_CONFIG_FILE_BYTES);
    if ('problem' in read) {
      if (read.problem === 'open') whereOpened(`could not open access file ${file}: ${read.detail}`);
      if (read.problem === 'directory') whereOpened(`${file}: ${read.detail}`);
      whereOpened(`${file} is ${read.detail}${read.detail === 'not a regular file' ? ' (fwknopd refuses it)' : ''}`);
    }
    const { data, stat: st } = read;
    try {
      real = realpathSync(file);
    } catch (err) {
      whereOpened(`could not open access file ${file}: ${(err as Error).message}`);
    }
    if ((st.mode & 0o077) !== 0) {
      this.report.warn(
        { file, line: 0 },
        `mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}: this file holds keys and should be readable by its owner only (fwknopd warns unless it is 0600)`,
      );
    }
    if (this.reading.includes(real)) {
      whereOpened(
        `include loop: ${file} is already being read (fwknopd refuses to go deeper than ${MAX_INCLUDE_DEPTH} levels of %include, and recurses without end through %include_folder)`,
      );
    }
    this.reading.push(real);
    let current: S | null = null;
    for (const line of lexAccessConf(file, data.toString('latin1'), this.report)) {
      const { at, name: key, value } = line;
      if (key === '%include') {
        if (depth >= MAX_INCLUDE_DEPTH)
          this.report.fail(
            at,
            key,
            `refusing to go deeper than ${MAX_INCLUDE_DEPTH} levels (fwknopd's MAX_DEPTH): ${shown(value)}`,
          );
        this.readFile(this.includePath(at, key, value), depth + 1, { ...at, key });
      } else if (key === '%include_folder') {
        this.readFolder(at, key, value, depth);
      } else {
        current = this.onLine(line, current);
      }
    }
    this.reading.pop();
  }

  /**
   * The path an %include or %include_folder names, as fwknopd opens it: a relative one from the
   * working directory. When nothing is there but the name exists beside the including file (how
   * one might expect it to be read), that is an error naming both paths: reading the other would
   * make knockgate open what fwknopd never would.
   */
  private includePath(at: Loc, key: string, val: string): string {
    const p = utf8Of(val);
    if (p === null) return this.report.fail(at, key, 'the path is not UTF-8 text');
    if (isAbsolute(p)) return p;
    const abs = resolve(process.cwd(), p);
    const beside = resolve(dirname(at.file), p);
    if (!existsSync(abs) && beside !== abs && existsSync(beside))
      this.report.fail(
        at,
        key,
        `relative path ${JSON.stringify(p)}: fwknopd opens it from its working directory, as ${abs}, which does not exist (there is ${beside}, beside this file: write that absolute path)`,
      );
    this.report.warn(
      at,
      `relative path ${JSON.stringify(p)} read from the working directory as ${abs}, as fwknopd does (a daemon's working directory is /: prefer an absolute path)`,
    );
    return abs;
  }

  /** parse_access_folder(). */
  private readFolder(at: Loc, key: string, val: string, depth: number): void {
    const dir0 = this.includePath(at, key, val);
    const dir = dir0.length > 1 && dir0.endsWith('/') ? dir0.slice(0, -1) : dir0;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (err) {
      this.report.fail(at, key, `access folder ${dir} could not be opened: ${(err as Error).message}`);
    }
    const confs = names
      .filter((n) => {
        const dot = n.lastIndexOf('.');
        return dot >= 0 && n.slice(dot, dot + 5) === '.conf';
      })
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    if (confs.length > 1)
      this.report.warn(
        at,
        `${confs.length} files read in name order (${confs.join(', ')}); fwknopd reads them in directory order, which may differ, and stanza order decides which stanza a packet matches first`,
      );
    if (confs.length === 0) this.report.warn(at, `no *.conf file in ${dir}`);
    for (const n of confs) this.readFile(join(dir, n), depth + 1, { ...at, key });
  }
}
