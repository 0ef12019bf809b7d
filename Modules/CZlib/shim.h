// zlib, used to stream gzip-compressed CSV input (census-income.test.gz).
// Debian: zlib1g-dev.
#ifndef RANKER_CZLIB_SHIM_H
#define RANKER_CZLIB_SHIM_H
#include <zlib.h>
#endif
