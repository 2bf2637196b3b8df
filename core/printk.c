/* SPDX-License-Identifier: MIT */
/*
 * core/printk.c - messages and reports that never allocate.
 *
 * Layer: utility beside os.c, usable from every layer.  Owns a small
 * vsnprintf (%s %c %d %i %u %x %p %zu %lu %ld %llu %%, with width, '0',
 * '-' and '#' flags) that formats on the caller's stack, and the report/abort
 * policy (KMEM_ABORT).  Output goes out with one write(2) per message, so
 * concurrent reports do not interleave within a line.  struct kmem_out
 * (internal.h) writes longer texts (statistics, profiles) in pieces.
 */
#include <stdarg.h>
#include <stdlib.h>

#include "internal.h"
#include "options.h"
#include "os.h"
#include "stacktrace.h"

struct outbuf {
	char *buf;
	size_t size, len; /* len counts every character, even those cut */
};

static void put(struct outbuf *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_num(struct outbuf *o, unsigned long long v, unsigned base,
		    bool neg, int width, bool zero, bool left, const char *prefix)
{
	char tmp[24];
	int n = 0, pad, plen = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (prefix && prefix[plen])
		plen++;
	pad = width - n - plen - (neg ? 1 : 0);
	if (!left && !zero)
		for (; pad > 0; pad--)
			put(o, ' ');
	if (neg)
		put(o, '-');
	for (int i = 0; i < plen; i++)
		put(o, prefix[i]);
	if (!left && zero)
		for (; pad > 0; pad--)
			put(o, '0');
	while (n)
		put(o, tmp[--n]);
	if (left)
		for (; pad > 0; pad--)
			put(o, ' ');
}

int kmem_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct outbuf o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		bool zero = false, left = false, alt = false;
		int width = 0, lng = 0;

		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '0')
				zero = true;
			else if (*fmt == '-')
				left = true;
			else if (*fmt == '#')
				alt = true;
			else
				break;
		}
		if (*fmt == '*') {
			width = va_arg(ap, int);
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'z') {
			lng++;
			fmt++;
		}
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			int len = 0;

			if (!s)
				s = "(null)";
			while (s[len])
				len++;
			if (!left)
				for (int i = len; i < width; i++)
					put(&o, ' ');
			for (int i = 0; i < len; i++)
				put(&o, s[i]);
			if (left)
				for (int i = len; i < width; i++)
					put(&o, ' ');
			break;
		}
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case 'd':
		case 'i': {
			long long v = lng ? va_arg(ap, long) : va_arg(ap, int);

			put_num(&o, v < 0 ? -(unsigned long long)v : (unsigned long long)v,
				10, v < 0, width, zero, left, NULL);
			break;
		}
		case 'u':
		case 'x': {
			unsigned long long v = lng ? va_arg(ap, unsigned long)
						   : va_arg(ap, unsigned int);

			put_num(&o, v, *fmt == 'x' ? 16 : 10, false, width, zero,
				left, alt && *fmt == 'x' && v ? "0x" : NULL);
			break;
		}
		case 'p':
			put_num(&o, (uintptr_t)va_arg(ap, void *), 16, false, width,
				zero, left, "0x");
			break;
		case '%':
			put(&o, '%');
			break;
		case '\0':
			fmt--;
			break;
		default:
			put(&o, '%');
			put(&o, *fmt);
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int kmem_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kmem_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static void vreport(int fd, const char *prefix, const char *fmt, va_list ap)
{
	char buf[1024];
	size_t len = 0;
	int n;

	while (prefix && prefix[len] && len < sizeof(buf))
		buf[len] = prefix[len], len++;
	n = kmem_vsnprintf(buf + len, sizeof(buf) - len - 1, fmt, ap);
	len += (size_t)n < sizeof(buf) - len - 1 ? (size_t)n : sizeof(buf) - len - 2;
	if (prefix)
		buf[len++] = '\n';
	os_write(fd, buf, len);
}

void kmem_pr_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(2, "kmem: ", fmt, ap);
	va_end(ap);
}

void kmem_dprintf(int fd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fd, NULL, fmt, ap);
	va_end(ap);
}

void kmem_out_init(struct kmem_out *o, int fd)
{
	o->fd = fd;
	o->err = 0;
	o->len = 0;
}

int kmem_out_flush(struct kmem_out *o)
{
	if (o->len && !o->err && os_write(o->fd, o->buf, o->len) != (ssize_t)o->len)
		o->err = 5; /* EIO */
	o->len = 0;
	return o->err;
}

void kmem_out_write(struct kmem_out *o, const void *p, size_t n)
{
	const char *s = p;

	while (n) {
		size_t room = sizeof(o->buf) - o->len;
		size_t k = n < room ? n : room;

		for (size_t i = 0; i < k; i++)
			o->buf[o->len + i] = s[i];
		o->len += k;
		s += k;
		n -= k;
		if (o->len == sizeof(o->buf))
			kmem_out_flush(o);
	}
}

void kmem_out_printf(struct kmem_out *o, const char *fmt, ...)
{
	size_t room = sizeof(o->buf) - o->len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kmem_vsnprintf(o->buf + o->len, room, fmt, ap);
	va_end(ap);
	if ((size_t)n < room) {
		o->len += (size_t)n;
		return;
	}
	/* Did not fit: write what came before it and format it again. */
	kmem_out_flush(o);
	va_start(ap, fmt);
	n = kmem_vsnprintf(o->buf, sizeof(o->buf), fmt, ap);
	va_end(ap);
	o->len = (size_t)n < sizeof(o->buf) ? (size_t)n : sizeof(o->buf) - 1;
}

void kmem_hexdump(int fd, const char *label, const void *addr, size_t len)
{
	const unsigned char *p = addr;
	size_t off;

	for (off = 0; off < len; off += 16) {
		char line[96];
		int n = kmem_snprintf(line, sizeof(line), "%s %p: ", label, p + off);

		for (size_t i = off; i < off + 16 && i < len; i++)
			n += kmem_snprintf(line + n, sizeof(line) - (size_t)n, "%02x ",
					   p[i]);
		line[n < (int)sizeof(line) - 1 ? n : (int)sizeof(line) - 2] = '\n';
		os_write(fd, line, (size_t)(n < (int)sizeof(line) - 1 ? n + 1
								 : (int)sizeof(line) - 1));
	}
}

void kmem_panic(const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	kmem_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kmem_probe(report, "panic", msg, NULL);
	kmem_pr_err("BUG: %s", msg);
	abort();
}

static void report_vbegin(const char *fmt, va_list ap)
{
	char msg[768];

	kmem_vsnprintf(msg, sizeof(msg), fmt, ap);
	kmem_probe(report, "error", msg, NULL);
	kmem_pr_err("ERROR: %s", msg);
}

void kmem_report_begin(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_vbegin(fmt, ap);
	va_end(ap);
}

void kmem_report_end(void)
{
	if (kmem_opt(OPT_ABORT)) {
		os_write(2, "kmem: aborting (KMEM_ABORT=0 reports and continues)\n",
			 53);
		abort();
	}
}

void kmem_report_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_vbegin(fmt, ap);
	va_end(ap);
	kmem_stack_print_here("detected at");
	kmem_report_end();
}
