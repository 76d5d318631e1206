#include <string.h>
#include "args.h"

void args_init(struct args *a, int argc, char **argv)
{
	a->argc = argc;
	a->argv = argv;
	a->ind = 1;
	a->arg = NULL;
}

int args_next(struct args *a, const char *spec)
{
	const char *s, *p;
	if (a->ind >= a->argc)
		return -1;
	s = a->argv[a->ind];
	if (s[0] != '-' || s[1] == '\0')
		return -1;
	if (strcmp(s, "--") == 0) {
		a->ind++;
		return -1;
	}
	a->ind++;
	if ((p = strchr(spec, s[1])) == NULL)
		return '?';
	if (p[1] == ':') {
		if (s[2] != '\0')
			a->arg = s + 2;
		else if (a->ind < a->argc)
			a->arg = a->argv[a->ind++];
		else
			return '?';
	}
	return s[1];
}
