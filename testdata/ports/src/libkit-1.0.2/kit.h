/* libkit: small string utilities (go-dsynth test ports tree). */
#ifndef KIT_H
#define KIT_H
#include <stddef.h>
const char *kit_version(void);
char *kit_strdup(const char *s);
char *kit_join(const char *sep, const char **parts, size_t n);
char *kit_trim(char *s);
size_t kit_count(const char *s, int c);
#endif
