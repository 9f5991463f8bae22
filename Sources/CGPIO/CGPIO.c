#define _GNU_SOURCE /* vasprintf under musl */
#include "CGPIO.h"
#include <errno.h>

struct gpiod_chip *cleave_gpiod_chip_open(const char *path, int *error) {
    struct gpiod_chip *chip = gpiod_chip_open(path);
    *error = chip ? 0 : errno;
    return chip;
}

struct gpiod_line *cleave_gpiod_request(struct gpiod_chip *chip, unsigned int offset, const char *consumer,
                                        int output, int level, int *error) {
    struct gpiod_line *line = gpiod_chip_get_line(chip, offset);
    if (!line) { *error = errno; return NULL; }
    int r = output ? gpiod_line_request_output(line, consumer, level) : gpiod_line_request_both_edges_events(line, consumer);
    if (r < 0) { *error = errno; return NULL; }
    *error = 0;
    return line;
}

int cleave_gpiod_set_value(struct gpiod_line *line, int value) {
    return gpiod_line_set_value(line, value) < 0 ? -errno : 0;
}

int cleave_gpiod_read_event(struct gpiod_line *line) {
    struct gpiod_line_event event;
    if (gpiod_line_event_read(line, &event) < 0) return -errno;
    return event.event_type;
}

#if !defined(__GLIBC__)
/* The static boot binary links Debian's arm64 libgpiod.a, built against glibc
 * with _FORTIFY_SOURCE, into a musl program (Scripts/build-static): these are
 * the three glibc-only symbols it calls (aarch64-linux-gnu-nm -u libgpiod.a),
 * each the plain libc function it fortifies or, for __ctype_b_loc, glibc's
 * classification table (bits as glibc's ctype.h _ISbit on little-endian)
 * built once from musl's own is*() functions. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>

int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *format, ...) {
    (void)flag; (void)slen;
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(s, maxlen, format, ap);
    va_end(ap);
    return n;
}

int __asprintf_chk(char **result, int flag, const char *format, ...) {
    (void)flag;
    va_list ap;
    va_start(ap, format);
    int n = vasprintf(result, format, ap);
    va_end(ap);
    return n;
}

static unsigned short ctype_table[384];
static const unsigned short *ctype_pointer = ctype_table + 128;

#define GLIBC_ISBIT(bit) ((bit) < 8 ? ((1 << (bit)) << 8) : ((1 << (bit)) >> 8))

__attribute__((constructor)) static void ctype_table_init(void) {
    for (int c = 0; c < 256; c++) {
        unsigned short bits = 0;
        if (isupper(c)) bits |= GLIBC_ISBIT(0);
        if (islower(c)) bits |= GLIBC_ISBIT(1);
        if (isalpha(c)) bits |= GLIBC_ISBIT(2);
        if (isdigit(c)) bits |= GLIBC_ISBIT(3);
        if (isxdigit(c)) bits |= GLIBC_ISBIT(4);
        if (isspace(c)) bits |= GLIBC_ISBIT(5);
        if (isprint(c)) bits |= GLIBC_ISBIT(6);
        if (isgraph(c)) bits |= GLIBC_ISBIT(7);
        if (isblank(c)) bits |= GLIBC_ISBIT(8);
        if (iscntrl(c)) bits |= GLIBC_ISBIT(9);
        if (ispunct(c)) bits |= GLIBC_ISBIT(10);
        if (isalnum(c)) bits |= GLIBC_ISBIT(11);
        ctype_table[128 + c] = bits;
        if (c >= 128) ctype_table[c - 128] = bits; /* signed char indices -128..-1 */
    }
}

const unsigned short **__ctype_b_loc(void) { return &ctype_pointer; }
#endif
