/* ted: a line editor that reads commands from stdin.
 *   a TEXT   append a line      p   print all lines
 *   d N      delete line N      w FILE  write
 *   u        undo the last command (not in the lite flavor)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef TED_LITE
#include <list.h>
#endif

static char *lines[1024];
static int nlines;
#ifndef TED_LITE
static struct list *history;
#endif

int main(int argc, char **argv)
{
	char cmd[1100];
	int i;
	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
#ifdef TED_LITE
		puts("ted 1.1 (lite)");
#else
		puts("ted 1.1 (with undo)");
#endif
		return 0;
	}
	while (fgets(cmd, sizeof(cmd), stdin) != NULL) {
		cmd[strcspn(cmd, "\n")] = '\0';
		if (cmd[0] == 'a' && cmd[1] == ' ' && nlines < 1024) {
			lines[nlines] = malloc(strlen(cmd + 2) + 1);
			strcpy(lines[nlines++], cmd + 2);
#ifndef TED_LITE
			history = list_push(history, "a");
#endif
		} else if (cmd[0] == 'p') {
			for (i = 0; i < nlines; i++)
				puts(lines[i]);
		} else if (cmd[0] == 'd') {
			int n = atoi(cmd + 1) - 1;
			if (n >= 0 && n < nlines) {
				free(lines[n]);
				memmove(lines + n, lines + n + 1, (nlines - n - 1) * sizeof(*lines));
				nlines--;
			}
		} else if (cmd[0] == 'w' && cmd[1] == ' ') {
			FILE *f = fopen(cmd + 2, "w");
			if (f == NULL) { perror(cmd + 2); continue; }
			for (i = 0; i < nlines; i++)
				fprintf(f, "%s\n", lines[i]);
			fclose(f);
#ifndef TED_LITE
		} else if (cmd[0] == 'u' && history != NULL) {
			struct list *h = history;
			history = h->next;
			h->next = NULL;
			list_free(h);
			if (nlines > 0)
				free(lines[--nlines]);
#endif
		} else
			puts("?");
	}
	return 0;
}
