#include <stdlib.h>
#include <kit.h>
#include "list.h"

struct list *list_push(struct list *l, const char *item)
{
	struct list *n = malloc(sizeof(*n));
	if (n == NULL)
		return l;
	n->item = kit_strdup(item);
	n->next = l;
	return n;
}

struct list *list_reverse(struct list *l)
{
	struct list *r = NULL, *next;
	for (; l != NULL; l = next) {
		next = l->next;
		l->next = r;
		r = l;
	}
	return r;
}

size_t list_len(const struct list *l)
{
	size_t n = 0;
	for (; l != NULL; l = l->next)
		n++;
	return n;
}

char *list_join(const struct list *l, const char *sep)
{
	size_t n = list_len(l), i = 0;
	const char **v = malloc((n ? n : 1) * sizeof(*v));
	char *s;
	for (; l != NULL; l = l->next)
		v[i++] = l->item;
	s = kit_join(sep, v, n);
	free(v);
	return s;
}

void list_free(struct list *l)
{
	struct list *next;
	for (; l != NULL; l = next) {
		next = l->next;
		free(l->item);
		free(l);
	}
}
