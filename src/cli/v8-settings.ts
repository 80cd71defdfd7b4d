/**
 * V8 settings for the daemon, applied when this module is evaluated; knockgated imports it first.
 */

import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--semi-space-growth-factor=1');
setFlagsFromString('--heap-growing-percent=30');
