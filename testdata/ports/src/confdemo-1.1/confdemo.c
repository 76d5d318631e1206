#include <stdio.h>
#include <kit.h>
#include "config.h"
int main(void)
{
	printf("confdemo 1.1, prefix %s, libkit %s\n", CONFDEMO_PREFIX, kit_version());
	return 0;
}
