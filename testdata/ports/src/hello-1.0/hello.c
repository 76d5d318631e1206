#include <stdio.h>
int main(void) { puts("Hello from the go-dsynth test ports tree."); return 0; }
