#include "core/printf.h"
#include "core/string.h"

struct fmt_spec {
	bool left, zero;
	int width, precision;   /* precision < 0: none */
	int length;             /* 0 int, 1 long, 2 long long, 3 size_t */
};

static int emit_padded(fmt_put_fn put, void *ctx, const struct fmt_spec *sp,
                       const char *s, int len, char pad)
{
	int n = 0, fill = sp->width > len ? sp->width - len : 0;
	if (!sp->left)
		for (; fill; fill--, n++)
			put(ctx, pad);
	for (int i = 0; i < len; i++, n++)
		put(ctx, s[i]);
	for (; fill; fill--, n++)
		put(ctx, ' ');
	return n;
}

static int emit_number(fmt_put_fn put, void *ctx, struct fmt_spec *sp,
                       uint64_t v, bool negative, unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	int i = sizeof(buf);
	do {
		buf[--i] = digits[v % base];
		v /= base;
	} while (v);
	if (negative) {
		if (sp->zero && sp->width > 0) {
			/* the sign goes before the zero padding */
			put(ctx, '-');
			sp->width--;
			return 1 + emit_padded(put, ctx, sp, buf + i, (int)sizeof(buf) - i, '0');
		}
		buf[--i] = '-';
	}
	return emit_padded(put, ctx, sp, buf + i, (int)sizeof(buf) - i, sp->zero ? '0' : ' ');
}

static const char *parse_spec(const char *f, struct fmt_spec *sp, va_list *ap)
{
	*sp = (struct fmt_spec){ .precision = -1 };
	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '0')
			sp->zero = true;
		else
			break;
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, int);
		if (sp->width < 0) {        /* C: a negative '*' width means '-' */
			sp->left = true;
			sp->width = -sp->width;
		}
		f++;
	}
	for (; *f >= '0' && *f <= '9'; f++)
		sp->width = sp->width * 10 + (*f - '0');
	if (*f == '.') {
		sp->precision = 0;
		if (*++f == '*') {
			sp->precision = va_arg(*ap, int);
			f++;
		}
		for (; *f >= '0' && *f <= '9'; f++)
			sp->precision = sp->precision * 10 + (*f - '0');
	}
	for (;; f++) {
		if (*f == 'l')
			sp->length++;
		else if (*f == 'z')
			sp->length = 3;
		else if (*f != 'h')
			break;
	}
	return f;
}

static uint64_t fetch_unsigned(const struct fmt_spec *sp, va_list *ap)
{
	switch (sp->length) {
	case 0: return va_arg(*ap, unsigned int);
	case 1: return va_arg(*ap, unsigned long);
	case 3: return va_arg(*ap, size_t);
	default: return va_arg(*ap, unsigned long long);
	}
}

static int64_t fetch_signed(const struct fmt_spec *sp, va_list *ap)
{
	switch (sp->length) {
	case 0: return va_arg(*ap, int);
	case 1: return va_arg(*ap, long);
	case 3: return (int64_t)va_arg(*ap, size_t);
	default: return va_arg(*ap, long long);
	}
}

int fmt_vformat(fmt_put_fn put, void *ctx, const char *fmt, va_list ap_in)
{
	va_list ap;
	int n = 0;
	va_copy(ap, ap_in);
	for (const char *f = fmt; *f; f++) {
		if (*f != '%') {
			put(ctx, *f);
			n++;
			continue;
		}
		struct fmt_spec sp;
		f = parse_spec(f + 1, &sp, &ap);
		switch (*f) {
		case 'd': case 'i': {
			int64_t v = fetch_signed(&sp, &ap);
			uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
			n += emit_number(put, ctx, &sp, mag, v < 0, 10, false);
			break;
		}
		case 'u':
			n += emit_number(put, ctx, &sp, fetch_unsigned(&sp, &ap), false, 10, false);
			break;
		case 'x': case 'X':
			n += emit_number(put, ctx, &sp, fetch_unsigned(&sp, &ap), false, 16, *f == 'X');
			break;
		case 'p':
			put(ctx, '0');
			put(ctx, 'x');
			sp.length = 3;
			n += 2 + emit_number(put, ctx, &sp, (uintptr_t)va_arg(ap, void *), false, 16, false);
			break;
		case 'c': {
			char c = (char)va_arg(ap, int);
			n += emit_padded(put, ctx, &sp, &c, 1, ' ');
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			int len = 0;
			/* check the precision first: the string need not be terminated */
			while ((sp.precision < 0 || len < sp.precision) && s[len])
				len++;
			n += emit_padded(put, ctx, &sp, s, len, ' ');
			break;
		}
		case '%':
			put(ctx, '%');
			n++;
			break;
		case '\0':
			f--; /* a lone '%' at the end: stop at the terminator */
			break;
		default:
			put(ctx, '%');
			put(ctx, *f);
			n += 2;
		}
	}
	va_end(ap);
	return n;
}

struct sn_ctx { char *buf; size_t size, pos; };

static void sn_put(void *p, char c)
{
	struct sn_ctx *s = p;
	if (s->pos + 1 < s->size)
		s->buf[s->pos] = c;
	s->pos++;
}

int hv_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sn_ctx s = { buf, size, 0 };
	int n = fmt_vformat(sn_put, &s, fmt, ap);
	if (size)
		buf[MIN(s.pos, size - 1)] = 0;
	return n;
}

int hv_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = hv_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
