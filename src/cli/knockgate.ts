#!/usr/bin/env node
/**
 * knockgate by its older path, dist/src/cli/knockgate.js, for what names that file (a checkout's
 * dist/, install-service's lookup beside knockgated.js, scripts): it runs knockgate.cjs, the entry
 * the package's bin points at (knockgate.cts says why that one is CommonJS; starting through this
 * ES module costs a few more milliseconds).
 */

import { createRequire } from 'node:module';

createRequire(import.meta.url)('./knockgate.cjs');
