/* SPDX-License-Identifier: MIT */
/*
 * bin/kmem-options.c - print the KMEM_* option table for `kmem --help`.
 *
 * Linked with libkmem-core.a, so the list comes from the one table in
 * core/options.c and never goes stale.  Reads the environment the same way
 * the library does (options_init) and marks the options that are set.
 *
 *   kmem-options          a table for humans
 *   kmem-options --names  the variable names, one per line
 *   kmem-options --man    the list as man(7) markup, for kmem(1)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

/* Text for roff: backslashes escaped, no line starting with . or '. */
static void print_roff(const char *s)
{
	if (*s == '.' || *s == '\'')
		printf("\\&");
	for (; *s; s++) {
		if (*s == '\\')
			printf("\\e");
		else if (*s == '-')
			printf("\\-");
		else
			putchar(*s);
	}
}

static void print_default(const struct kmem_option_desc *d)
{
	switch (d->type) {
	case OPT_BOOL:
		printf("%s", d->defval ? "1" : "0");
		break;
	case OPT_SIZE:
		if (d->defval >= (1 << 20) && d->defval % (1 << 20) == 0)
			printf("%ldM", d->defval >> 20);
		else if (d->defval >= (1 << 10) && d->defval % (1 << 10) == 0)
			printf("%ldK", d->defval >> 10);
		else
			printf("%ld", d->defval);
		break;
	case OPT_STRING:
		printf("\"%s\"", d->defstr ? d->defstr : "");
		break;
	}
}

int main(int argc, char **argv)
{
	static const char *const types[] = { "bool", "size", "string" };
	bool names = argc > 1 && strcmp(argv[1], "--names") == 0;
	bool man = argc > 1 && strcmp(argv[1], "--man") == 0;

	if (!names && !man)
		options_init();
	for (int i = 0; i < NR_KMEM_OPTIONS; i++) {
		const struct kmem_option_desc *d = &kmem_option_table[i];

		if (names) {
			printf("%s\n", d->name);
			continue;
		}
		if (man) {
			printf(".TP\n.B %s\n(%s, default ", d->name,
			       types[d->type]);
			print_default(d);
			printf(")\n");
			print_roff(d->help);
			printf(".\n");
			continue;
		}
		printf("  %-24s %-6s default ", d->name, types[d->type]);
		print_default(d);
		if (getenv(d->name))
			printf("  (now %s)", getenv(d->name));
		printf("\n      %s\n", d->help);
	}
	return 0;
}
