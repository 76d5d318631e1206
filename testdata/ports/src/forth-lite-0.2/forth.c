/* forth-lite: a toy Forth.  Words: + - * dup drop swap . : ; */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <kit.h>
#include <list.h>

extern const char *prelude[];
extern const unsigned prelude_count;

struct def { char name[32]; char *body; };
static struct def defs[64];
static int ndefs;
static long st[256];
static int sp;

static void run(const char *src);

static void word(const char *w)
{
	int i;
	long a, b;
	for (i = ndefs - 1; i >= 0; i--)
		if (strcmp(defs[i].name, w) == 0) {
			run(defs[i].body);
			return;
		}
	if (strcmp(w, "+") == 0) { b = st[--sp]; a = st[--sp]; st[sp++] = a + b; }
	else if (strcmp(w, "-") == 0) { b = st[--sp]; a = st[--sp]; st[sp++] = a - b; }
	else if (strcmp(w, "*") == 0) { b = st[--sp]; a = st[--sp]; st[sp++] = a * b; }
	else if (strcmp(w, "dup") == 0) { st[sp] = st[sp - 1]; sp++; }
	else if (strcmp(w, "drop") == 0) sp--;
	else if (strcmp(w, "swap") == 0) { a = st[sp - 1]; st[sp - 1] = st[sp - 2]; st[sp - 2] = a; }
	else if (strcmp(w, ".") == 0) printf("%ld\n", st[--sp]);
	else st[sp++] = strtol(w, NULL, 10);
	if (sp < 0) {
		fprintf(stderr, "forth-lite: stack underflow\n");
		exit(1);
	}
}

static void run(const char *src)
{
	char *copy = kit_strdup(src), *tok, *save = NULL;
	struct list *body = NULL;
	int defining = 0;
	for (tok = strtok_r(copy, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
		if (defining == 1) {
			snprintf(defs[ndefs].name, sizeof(defs[ndefs].name), "%s", tok);
			defining = 2;
		} else if (defining == 2 && strcmp(tok, ";") == 0) {
			body = list_reverse(body);
			defs[ndefs++].body = list_join(body, " ");
			list_free(body);
			body = NULL;
			defining = 0;
		} else if (defining == 2)
			body = list_push(body, tok);
		else if (strcmp(tok, ":") == 0 && ndefs < 64)
			defining = 1;
		else
			word(tok);
	}
	free(copy);
}

int main(int argc, char **argv)
{
	unsigned i;
	int j;
	for (i = 0; i < prelude_count; i++)
		run(prelude[i]);
	for (j = 1; j < argc; j++)
		run(argv[j]);
	return 0;
}
