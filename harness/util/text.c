/* text.c: text helpers: identifiers, UTF-8 repaired, text made terminal-safe, XML-escaped, formatted copies,
 * the time in ISO 8601. */
#define _GNU_SOURCE

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mono_clock.h"
#include "util.h"

void vb_utc_iso(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int vb_utc_parse(const char *iso, time_t *out)
{
	struct tm tm = { 0 };
	const char *end = iso ? strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;

	if (!end)
		return -1;
	*out = timegm(&tm);
	return 0;
}

int vb_is_identifier(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 127 || !isalnum((unsigned char)s[0]) || strstr(s, ".."))
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8. */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* The length of a UTF-8 sequence at s that may run past the avail bytes there: its length, 0 when it is not one,
 * or SIZE_MAX when the bytes there are the start of one that continues past avail. */
static size_t utf8_seq_in(const unsigned char *s, size_t avail)
{
	unsigned char tmp[4] = { 0 };
	size_t need = s[0] < 0x80 ? 1 : s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;

	if (avail >= need || s[0] < 0xc2 || s[0] > 0xf4) {
		memcpy(tmp, s, avail < 4 ? avail : 4);
		return utf8_seq(tmp);
	}
	for (size_t i = 1; i < avail; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return SIZE_MAX;
}

size_t vb_term_safe(const char *in, size_t n, int final, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, k = 0;

	while (i < n && k + 8 < outlen) {
		size_t m = utf8_seq_in(p + i, n - i);
		unsigned cp = m == 2 ? (unsigned)(p[i] & 0x1f) << 6 | (p[i + 1] & 0x3f) : 0;

		if (m == SIZE_MAX && !final)
			break; /* the rest of the sequence comes with the next call */
		if (m == 1 && (p[i] >= 0x20 || p[i] == '\n' || p[i] == '\t') && p[i] != 0x7f) {
			out[k++] = (char)p[i++];
		} else if (m == 1 && p[i] == 0x1b) {
			k += (size_t)snprintf(out + k, outlen - k, "\\e");
			i++;
		} else if (m == 1 || m == 0 || m == SIZE_MAX) {
			/* A control character, or a byte that is not UTF-8 (0x9b alone is CSI to an 8-bit terminal) */
			k += (size_t)snprintf(out + k, outlen - k, "\\x%02x", p[i++]);
		} else if (m == 2 && cp >= 0x80 && cp <= 0x9f) {
			k += (size_t)snprintf(out + k, outlen - k, "\\u%04x", cp); /* C1 controls, CSI among them */
			i += 2;
		} else {
			memcpy(out + k, p + i, m);
			k += m;
			i += m;
		}
	}
	out[k] = '\0';
	return i;
}

char *vb_term_safe_dup(const char *s)
{
	size_t n = strlen(s), cap = 4 * n + 16;
	char *out = malloc(cap);

	if (!out)
		abort();
	vb_term_safe(s, n, 1, out, cap);
	return out;
}

char *vb_utf8_fix(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t bad = 0, len = 0;

	if (!s)
		return NULL;
	for (size_t i = 0; p[i];) {
		size_t n = utf8_seq(p + i);

		bad += n == 0;
		i += n ? n : 1;
		len = i;
	}
	if (!bad)
		return NULL;
	char *out = malloc(len + 2 * bad + 1), *o = out;

	if (!out)
		abort();
	for (size_t i = 0; p[i];) {
		size_t n = utf8_seq(p + i);

		if (n) {
			memcpy(o, p + i, n);
			o += n;
			i += n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3); /* U+FFFD */
			o += 3;
			i++;
		}
	}
	*o = '\0';
	return out;
}

char *vb_strdupf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

char *vb_strdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		abort();
	return d;
}

void vb_xml_escape(FILE *f, const char *text)
{
	char *fixed = vb_utf8_fix(text);
	const char *s = fixed ? fixed : text;

	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '<')
			fputs("&lt;", f);
		else if (ch == '>')
			fputs("&gt;", f);
		else if (ch == '&')
			fputs("&amp;", f);
		else if (ch == '"')
			fputs("&quot;", f);
		else if (ch < 0x20 && ch != '\n' && ch != '\t')
			fputc(' ', f);
		else
			fputc(ch, f);
	}
	free(fixed);
}
