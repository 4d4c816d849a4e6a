/*
 * hv.efi's command line and the guests it names.
 *
 * Command line: the image's LoadOptions (UEFI shell, boot entry) when they are
 * non-empty text, else the file \hv.cfg on the volume hv.efi came from (the
 * whole file). Any run of whitespace counts as one space. The shell passes the
 * command as typed, so a first word ending in ".efi" is taken for the image
 * name and dropped.
 *
 * Guests: each token guest=PATH loads the file PATH ('/'-separated, same
 * volume) as a module whose cmdline is "PATH". If the very next token is
 * args=A,B,C the guest's arguments are "A B C" (every ',' becomes a space;
 * there is no way to write a literal comma) and the module's cmdline is
 * "PATH A B C". Both tokens stay in bi->cmdline as well.
 */
#include "loader.h"

static int is_space(unsigned c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* One space between tokens and none at the ends, so the rest splits on ' ' alone. */
static void squeeze(char *s)
{
	char *d = s, *start = s;
	int after_space = 1;

	for (; *s; s++) {
		int sp = is_space((unsigned char)*s);

		if (!(sp && after_space))
			*d++ = sp ? ' ' : *s;
		after_space = sp;
	}
	if (d > start && d[-1] == ' ')
		d--;
	*d = 0;
}

/* Length of the next space-separated token, 0 at the end. */
static UINTN next_token(const char **p, const char **tok)
{
	const char *s = *p;
	UINTN n = 0;

	while (*s == ' ')
		s++;
	while (s[n] && s[n] != ' ')
		n++;
	*tok = s;
	*p = s + n;
	return n;
}

static int has_prefix(const char *tok, UINTN len, const char *prefix)
{
	for (UINTN i = 0; prefix[i]; i++)
		if (i >= len || tok[i] != prefix[i])
			return 0;
	return 1;
}

static void drop_image_name(char *s)
{
	const char *p = s, *tok;
	UINTN n = next_token(&p, &tok), i;

	if (n < 4)
		return;
	for (i = 0; i < 4; i++)
		if ((tok[n - 4 + i] | 0x20) != ".efi"[i])
			return;
	for (i = 0; (s[i] = p[i]); i++)
		;
	squeeze(s);
}

static EFI_STATUS cmdline_from_options(const EFI_LOADED_IMAGE *li, char *out)
{
	const CHAR16 *w = li->LoadOptions;
	UINTN n = w ? li->LoadOptionsSize / sizeof(CHAR16) : 0, i;

	for (i = 0; i < n && w[i]; i++) {
		/* Boot entries may carry binary data here: only ASCII text is a command line. */
		if (w[i] > 0x7e || (w[i] < 0x20 && !is_space(w[i])))
			return EFI_NOT_FOUND;
		if (i == BOOT_CMDLINE_MAX - 1) {
			Print(L"hv.efi: load options longer than %d bytes\n", BOOT_CMDLINE_MAX - 1);
			return EFI_BAD_BUFFER_SIZE;
		}
		out[i] = (char)w[i];
	}
	out[i] = 0;
	squeeze(out);
	drop_image_name(out);
	return out[0] ? EFI_SUCCESS : EFI_NOT_FOUND;
}

static EFI_STATUS open_path(EFI_FILE_HANDLE root, const char *path, EFI_FILE_HANDLE *f)
{
	CHAR16 name[BOOT_MOD_CMDLINE_MAX];
	UINTN i;

	if (!root)
		return EFI_NO_MEDIA;
	for (i = 0; path[i]; i++) {
		if (i == LOADER_ARRAY_SIZE(name) - 1)
			return EFI_INVALID_PARAMETER;
		name[i] = path[i] == '/' ? L'\\' : (CHAR16)(unsigned char)path[i];
	}
	name[i] = 0;
	return uefi_call_wrapper(root->Open, 5, root, f, name, EFI_FILE_MODE_READ, 0ull);
}

static EFI_STATUS file_size(EFI_FILE_HANDLE f, uint64_t *size)
{
	EFI_FILE_INFO *info = LibFileInfo(f);

	if (!info)
		return EFI_DEVICE_ERROR;
	*size = info->FileSize;
	FreePool(info);
	return EFI_SUCCESS;
}

static EFI_STATUS read_all(EFI_FILE_HANDLE f, void *buf, uint64_t size)
{
	uint8_t *p = buf;

	while (size) {
		UINTN n = size;
		EFI_STATUS st = uefi_call_wrapper(f->Read, 3, f, &n, p);

		if (EFI_ERROR(st))
			return st;
		if (!n)
			return EFI_END_OF_FILE;
		p += n;
		size -= n;
	}
	return EFI_SUCCESS;
}

static EFI_STATUS read_cfg(EFI_FILE_HANDLE root, char *out)
{
	EFI_FILE_HANDLE f;
	uint64_t size = 0;
	EFI_STATUS st = open_path(root, "/hv.cfg", &f);

	if (EFI_ERROR(st))
		return st;
	st = file_size(f, &size);
	if (!EFI_ERROR(st) && size >= BOOT_CMDLINE_MAX)
		st = EFI_BAD_BUFFER_SIZE;
	if (!EFI_ERROR(st))
		st = read_all(f, out, size);
	uefi_call_wrapper(f->Close, 1, f);
	out[EFI_ERROR(st) ? 0 : size] = 0;
	squeeze(out);
	return st;
}

static EFI_STATUS get_cmdline(const EFI_LOADED_IMAGE *li, EFI_FILE_HANDLE root, char *out)
{
	EFI_STATUS st = cmdline_from_options(li, out);

	if (st != EFI_NOT_FOUND)
		return st;
	st = read_cfg(root, out);
	if (st == EFI_NOT_FOUND || st == EFI_NO_MEDIA) {
		Print(L"hv.efi: no load options and no \\hv.cfg: empty command line\n");
		return EFI_SUCCESS;
	}
	if (st == EFI_BAD_BUFFER_SIZE)
		Print(L"hv.efi: \\hv.cfg is over %d bytes\n", BOOT_CMDLINE_MAX - 1);
	else if (EFI_ERROR(st))
		Print(L"hv.efi: cannot read \\hv.cfg: %r\n", st);
	return st;
}

/* m->cmdline holds the path on entry. */
static EFI_STATUS read_guest(EFI_FILE_HANDLE root, struct boot_module *m)
{
	EFI_FILE_HANDLE f;
	uint64_t size = 0, at = 0;
	EFI_STATUS st = open_path(root, m->cmdline, &f);

	if (EFI_ERROR(st))
		return st;
	st = file_size(f, &size);
	if (!EFI_ERROR(st))
		st = loader_alloc_low(size ? EFI_SIZE_TO_PAGES(size) : 1, &at);
	if (!EFI_ERROR(st))
		st = read_all(f, (void *)(uintptr_t)at, size);
	uefi_call_wrapper(f->Close, 1, f);
	m->base = at;
	m->len = size;
	return st;
}

static void append_args(char *dst, const char *args, UINTN len)
{
	if (!len)
		return;
	*dst++ = ' ';
	for (UINTN i = 0; i < len; i++)
		*dst++ = args[i] == ',' ? ' ' : args[i];
	*dst = 0;
}

static void add_guest(EFI_FILE_HANDLE root, struct boot_info *bi, const char *path, UINTN plen,
		      const char *args, UINTN alen)
{
	struct boot_module *m = &bi->modules[bi->nr_modules];
	EFI_STATUS st;

	if (bi->nr_modules == BOOT_MAX_MODULES) {
		Print(L"hv.efi: more than %d guests, ignoring the rest\n", BOOT_MAX_MODULES);
		return;
	}
	if (!plen || plen + (alen ? 1 + alen : 0) >= BOOT_MOD_CMDLINE_MAX) {
		Print(L"hv.efi: guest= path empty or path and args over %d bytes: ignored\n",
		      BOOT_MOD_CMDLINE_MAX - 1);
		return;
	}
	CopyMem(m->cmdline, path, plen);
	m->cmdline[plen] = 0;
	st = read_guest(root, m);
	if (EFI_ERROR(st)) {
		Print(L"hv.efi: cannot load guest %a: %r\n", m->cmdline, st);
		ZeroMem(m, sizeof(*m));
		return;
	}
	Print(L"hv.efi: guest %a: %ld bytes at 0x%lx\n", m->cmdline, m->len, m->base);
	append_args(m->cmdline + plen, args, alen);
	bi->nr_modules++;
}

static void load_guests(EFI_FILE_HANDLE root, struct boot_info *bi)
{
	const char *p = bi->cmdline, *tok, *next, *arg;
	UINTN len, alen;

	while ((len = next_token(&p, &tok))) {
		if (!has_prefix(tok, len, "guest="))
			continue;
		next = p;
		alen = next_token(&next, &arg);
		if (has_prefix(arg, alen, "args=")) {
			p = next;
			arg += 5;
			alen -= 5;
		} else {
			alen = 0;
		}
		add_guest(root, bi, tok + 6, len - 6, arg, alen);
	}
}

EFI_STATUS load_config(EFI_HANDLE image, struct boot_info *bi)
{
	EFI_LOADED_IMAGE *li;
	EFI_FILE_HANDLE root;
	EFI_STATUS st;

	st = uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol, (void **)&li);
	if (EFI_ERROR(st))
		return st;
	root = LibOpenRoot(li->DeviceHandle);
	st = get_cmdline(li, root, bi->cmdline);
	if (!EFI_ERROR(st)) {
		Print(L"hv.efi: command line \"%a\"\n", bi->cmdline);
		load_guests(root, bi);
	}
	if (root)
		uefi_call_wrapper(root->Close, 1, root);
	return st;
}
