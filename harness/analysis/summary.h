/* summary.h: the end-of-run terminal table, read back from the database so
 * that what is printed is exactly what is stored. */
#ifndef VGPUBENCH_SUMMARY_H
#define VGPUBENCH_SUMMARY_H

#include <stdio.h>
#include "store/store.h"

int summary_print(struct store *s, const char *run, FILE *out);

#endif
