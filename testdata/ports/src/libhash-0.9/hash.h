/* libhash: FNV-1a hashing and a fixed-size counting table. */
#ifndef HASH_H
#define HASH_H
#include <stdint.h>
#define HASH_SLOTS 4096
struct hcount { char *key; unsigned long n; };
struct htab { struct hcount slot[HASH_SLOTS]; unsigned long used; };
uint32_t hash_fnv1a(const char *s);
unsigned long htab_add(struct htab *t, const char *key);
#endif
