/* libcsv: splits one CSV line (double quotes, "" escapes) into fields. */
#ifndef CSV_H
#define CSV_H
#define CSV_MAXF 64
int csv_split(char *line, char **fields, int max);
#endif
