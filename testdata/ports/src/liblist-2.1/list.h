/* liblist: singly linked string lists (go-dsynth test ports tree). */
#ifndef LIST_H
#define LIST_H
#include <stddef.h>
struct list { char *item; struct list *next; };
struct list *list_push(struct list *l, const char *item);
struct list *list_reverse(struct list *l);
size_t list_len(const struct list *l);
char *list_join(const struct list *l, const char *sep);
void list_free(struct list *l);
#endif
