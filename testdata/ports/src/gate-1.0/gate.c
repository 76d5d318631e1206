#include <stdio.h>
int main(void) { puts("the gate was opened"); return 0; }
