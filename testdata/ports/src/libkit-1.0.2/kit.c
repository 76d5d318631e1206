#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include "kit.h"

const char *kit_version(void) { return "1.0.2"; }

char *kit_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);
	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

char *kit_join(const char *sep, const char **parts, size_t n)
{
	size_t len = 1, i;
	char *out;
	for (i = 0; i < n; i++)
		len += strlen(parts[i]) + (i ? strlen(sep) : 0);
	if ((out = malloc(len)) == NULL)
		return NULL;
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i)
			strcat(out, sep);
		strcat(out, parts[i]);
	}
	return out;
}

char *kit_trim(char *s)
{
	char *e;
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

size_t kit_count(const char *s, int c)
{
	size_t n = 0;
	for (; *s; s++)
		if (*s == c)
			n++;
	return n;
}
