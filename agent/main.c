#include <stdio.h>
int main(void) { puts("logferry " LOGFERRY_VERSION); return 0; }
