/**
 * A start/stop command for tests: appends its arguments as one JSON line to the file named by its
 * first argument, so a test can check the exact argv knockgated passed.
 */

import { appendFileSync } from 'node:fs';

const [, , file, ...args] = process.argv;
if (!file) process.exit(64);
appendFileSync(file, `${JSON.stringify(args)}\n`);
