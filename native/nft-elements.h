/* The worker's fast path for set elements (see nft-elements.c for the request format). */
#ifndef KNOCKGATE_NFT_ELEMENTS_H
#define KNOCKGATE_NFT_ELEMENTS_H

#include <stddef.h>

/* Applies an "@elements ..." request as one transaction; 0, or -1 with a message in `error`. */
int nft_elements_apply(const char *request, size_t length, char *error, size_t error_size);

#endif
