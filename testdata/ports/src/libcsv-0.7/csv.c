#include <string.h>
#include "csv.h"

int csv_split(char *line, char **fields, int max)
{
	int n = 0;
	char *r = line, *w = line;
	line[strcspn(line, "\r\n")] = '\0';
	while (n < max) {
		fields[n++] = w;
		if (*r == '"') {
			r++;
			for (;;) {
				if (*r == '\0')
					break;
				if (*r == '"' && r[1] == '"') { *w++ = '"'; r += 2; continue; }
				if (*r == '"') { r++; break; }
				*w++ = *r++;
			}
		}
		while (*r != ',' && *r != '\0')
			*w++ = *r++;
		if (*r == '\0') { *w = '\0'; break; }
		*w++ = '\0';
		r++;
	}
	return n;
}
