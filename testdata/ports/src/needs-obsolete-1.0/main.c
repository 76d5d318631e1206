#include <stdio.h>
int main(void) { puts("needs obsolete"); return 0; }
