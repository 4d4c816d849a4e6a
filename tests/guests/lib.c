/* Output on COM1, the TEST line bookkeeping, and what gcc may call behind our back. */
#include "guest.h"

unsigned int failed_checks;

/* Where formatted text goes: COM1 when buf is NULL, else the buffer. */
struct sink {
	char *buf;
	size_t len;
	size_t cap;
};

static void emit(struct sink *s, char c)
{
	if (!s->buf) {
		/* The hypervisor reports the transmitter always empty: no need to poll LSR. */
		outb(PORT_COM1, (uint8_t)c);
		return;
	}
	if (s->len + 1 < s->cap) {
		s->buf[s->len++] = c;
		s->buf[s->len] = '\0';
	}
}

/* Long division by hand: the 32-bit build has no libgcc for __udivdi3. */
static uint64_t divmod10(uint64_t n, unsigned int *rem)
{
	uint64_t q = 0;
	uint32_t r = 0;

	for (int i = 63; i >= 0; i--) {
		r = (r << 1) | (uint32_t)((n >> i) & 1);
		if (r >= 10) {
			r -= 10;
			q |= 1ull << i;
		}
	}
	*rem = r;
	return q;
}

static void emit_u64(struct sink *s, uint64_t v, bool hex)
{
	char tmp[24];
	int n = 0;

	do {
		unsigned int d;

		if (hex) {
			d = (unsigned int)(v & 15);
			v >>= 4;
		} else {
			v = divmod10(v, &d);
		}
		tmp[n++] = "0123456789abcdef"[d];
	} while (v);
	while (n)
		emit(s, tmp[--n]);
}

/*
 * The subset of printf the checks use: %s %c %d %u %x with l/ll. The format
 * attribute on the callers makes gcc hold us to it.
 */
static void vformat(struct sink *s, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			emit(s, *fmt);
			continue;
		}
		fmt++;
		int longs = 0;
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}
		switch (*fmt) {
		case 's': {
			const char *str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			while (*str)
				emit(s, *str++);
			break;
		}
		case 'c':
			emit(s, (char)va_arg(ap, int));
			break;
		case 'd': {
			int64_t v;
			if (longs >= 2)
				v = va_arg(ap, long long);
			else if (longs == 1)
				v = va_arg(ap, long);
			else
				v = va_arg(ap, int);
			if (v < 0) {
				emit(s, '-');
				emit_u64(s, -(uint64_t)v, false);
			} else {
				emit_u64(s, (uint64_t)v, false);
			}
			break;
		}
		case 'u':
		case 'x': {
			uint64_t v;
			if (longs >= 2)
				v = va_arg(ap, unsigned long long);
			else if (longs == 1)
				v = va_arg(ap, unsigned long);
			else
				v = va_arg(ap, unsigned int);
			emit_u64(s, v, *fmt == 'x');
			break;
		}
		case '\0':
			return;
		default:
			emit(s, '%');
			emit(s, *fmt);
			break;
		}
	}
}

void vprint(const char *fmt, va_list ap)
{
	struct sink s = { 0 };

	vformat(&s, fmt, ap);
}

void print(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint(fmt, ap);
	va_end(ap);
}

/*
 * A check may find several things wrong; they are collected here and printed
 * on its one TEST line so the line count per run stays fixed.
 */
static char why[256];
static struct sink why_sink;
static bool check_failed;

void check_fail(const char *fmt, ...)
{
	va_list ap;

	/* Set here, not by an initializer: nothing may depend on .data being loaded right. */
	why_sink.buf = why;
	why_sink.cap = sizeof(why);
	if (check_failed) {
		emit(&why_sink, ';');
		emit(&why_sink, ' ');
	}
	check_failed = true;
	va_start(ap, fmt);
	vformat(&why_sink, fmt, ap);
	va_end(ap);
}

bool check_done(const char *suite, const char *name)
{
	bool ok = !check_failed;

	if (ok) {
		print("TEST %s.%s PASS\n", suite, name);
	} else {
		print("TEST %s.%s FAIL %s\n", suite, name, why);
		failed_checks++;
	}
	check_failed = false;
	why_sink.len = 0;
	why[0] = '\0';
	return ok;
}

void exit_vm(uint32_t status)
{
	outl(PORT_EXIT, status);
	/* Only a broken hypervisor gets here; stop rather than run on. */
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* gcc may emit calls to these for struct copies and zeroing even freestanding. */
void *memset(void *d, int c, size_t n)
{
	void *ret = d;

	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return ret;
}

void *memcpy(void *d, const void *s, size_t n)
{
	void *ret = d;

	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	return ret;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}
