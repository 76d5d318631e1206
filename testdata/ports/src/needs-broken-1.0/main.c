#include <stdio.h>
int broken_answer(void);
int main(void) { printf("%d\n", broken_answer()); return 0; }
