/* This library does not compile: the test tree's failing port. */
int broken_answer(void)
{
	return 42   /* missing semicolon */
}
