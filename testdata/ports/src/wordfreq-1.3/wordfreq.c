/* wordfreq [file]: counts words.  With USE_HASH it uses libhash's table,
 * otherwise a slow linear list; with USE_STOPWORDS it skips stop words. */
#include <stdio.h>
#include <string.h>
#include <ctype.h>
#include <kit.h>
#ifdef USE_HASH
#include <hash.h>
static struct htab tab;
#else
static char *words[4096];
static unsigned long counts[4096];
static unsigned nwords;
#endif
#ifdef USE_STOPWORDS
extern const char *stopwords[];
#endif

static void add(const char *w)
{
#ifdef USE_STOPWORDS
	const char **s;
	for (s = stopwords; *s; s++)
		if (strcmp(*s, w) == 0)
			return;
#endif
#ifdef USE_HASH
	htab_add(&tab, w);
#else
	unsigned i;
	for (i = 0; i < nwords; i++)
		if (strcmp(words[i], w) == 0) {
			counts[i]++;
			return;
		}
	if (nwords < 4096) {
		words[nwords] = kit_strdup(w);
		counts[nwords++] = 1;
	}
#endif
}

int main(int argc, char **argv)
{
	char w[256];
	int c;
	size_t n = 0;
	FILE *f = argc > 1 ? fopen(argv[1], "r") : stdin;
	if (f == NULL) { perror(argv[1]); return 1; }
	while ((c = getc(f)) != EOF) {
		if (isalnum(c) && n < sizeof(w) - 1)
			w[n++] = (char)tolower(c);
		else if (n > 0) {
			w[n] = 0; add(w); n = 0;
		}
	}
	if (n > 0) { w[n] = 0; add(w); }
#ifdef USE_HASH
	for (c = 0; c < HASH_SLOTS; c++)
		if (tab.slot[c].key)
			printf("%lu %s\n", tab.slot[c].n, tab.slot[c].key);
#else
	for (c = 0; c < (int)nwords; c++)
		printf("%lu %s\n", counts[c], words[c]);
#endif
	return 0;
}
