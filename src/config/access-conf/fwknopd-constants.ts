/**
 * fwknopd's compiled-in values that the access.conf import mirrors (fwknop 2.6.11:
 * server/fwknopd_common.h, server/access.h, common/common.h, lib/fko.h).
 */

import { DEFAULT_SPA_PORT, FWKNOP_LEGACY_KEY_BYTES } from '../../core/limits.js';

/** DEF_FW_ACCESS_TIMEOUT: a stanza's grant when FW_ACCESS_TIMEOUT is absent or below 1. */
export const DEF_FW_ACCESS_TIMEOUT_S = 30;
/** DEF_MAX_FW_TIMEOUT: the cap on a client's own timeout when MAX_FW_TIMEOUT is absent or below 1. */
export const DEF_MAX_FW_TIMEOUT_S = 300;
/** RCHK_MAX_FW_TIMEOUT: the largest timeout fwknopd accepts. */
export const RCHK_MAX_FW_TIMEOUT_S = 2 << 22;
/** MAX_DEPTH: %include nesting, the top file being 1 deep. */
export const MAX_INCLUDE_DEPTH = 3;
/** MAX_LINE_LEN: fgets buffer; a longer line is read as two. */
export const MAX_LINE_LEN = 1024;
/** ACCESS_BUF_LEN: one SOURCE/DESTINATION/port list item, with its NUL. */
export const ACCESS_BUF_LEN = 33;
export const MAX_IPV4_STR_LEN = 16;
export const MIN_IPV4_STR_LEN = 7;
export const MAX_PORT = 65_535;
/** Legacy mode uses this many bytes of the key (the codec's constant, core/limits.ts). */
export const LEGACY_KEY_BYTES = FWKNOP_LEGACY_KEY_BYTES;
/** fwknopd's PCAP_INTF default. */
export const DEF_INTERFACE = 'eth0';
export const DEF_SPA_PORT = DEFAULT_SPA_PORT;
