/* subst FROM TO FILE...: replaces every FROM by TO in each FILE, in place. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int edit(const char *from, const char *to, const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf, *p, *q, tmp[4096];
	long len;
	size_t fl = strlen(from);
	if (f == NULL) { perror(path); return 1; }
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = malloc(len + 1);
	len = (long)fread(buf, 1, len, f);
	buf[len] = 0;
	fclose(f);
	snprintf(tmp, sizeof(tmp), "%s.subst", path);
	if ((f = fopen(tmp, "wb")) == NULL) { perror(tmp); return 1; }
	for (p = buf; (q = strstr(p, from)) != NULL && fl > 0; p = q + fl) {
		fwrite(p, 1, q - p, f);
		fputs(to, f);
	}
	fputs(p, f);
	if (fclose(f) != 0 || rename(tmp, path) != 0) { perror(path); return 1; }
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int i, rc = 0;
	if (argc < 4) {
		fprintf(stderr, "usage: subst FROM TO FILE...\n");
		return 2;
	}
	for (i = 3; i < argc; i++)
		rc |= edit(argv[1], argv[2], argv[i]);
	return rc;
}
