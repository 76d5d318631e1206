#include <stdlib.h>
#include <string.h>
#include "hash.h"

uint32_t hash_fnv1a(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

unsigned long htab_add(struct htab *t, const char *key)
{
	uint32_t i = hash_fnv1a(key) % HASH_SLOTS, probes;
	for (probes = 0; probes < HASH_SLOTS; probes++, i = (i + 1) % HASH_SLOTS) {
		struct hcount *c = &t->slot[i];
		if (c->key == NULL) {
			c->key = malloc(strlen(key) + 1);
			strcpy(c->key, key);
			t->used++;
		}
		if (strcmp(c->key, key) == 0)
			return ++c->n;
	}
	return 0;
}
