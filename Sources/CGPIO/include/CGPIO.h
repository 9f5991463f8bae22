#ifndef CLEAVE_CGPIO_H
#define CLEAVE_CGPIO_H
/* libgpiod 1.6 (Debian 12's libgpiod-dev) for Sources/GPIO: its API as is,
 * and one call that reads an event into plain values (the event struct
 * holds a struct timespec, which Embedded Swift should not have to lay out). */
#include <gpiod.h>

/* gpiod_chip_open: the chip, or NULL with *error = errno. */
struct gpiod_chip *cleave_gpiod_chip_open(const char *path, int *error);

/* Requests line `offset` of `chip` for `consumer`: an output driven to
 * `level`, or an input reporting both edges; the line, or NULL with
 * *error = errno. */
struct gpiod_line *cleave_gpiod_request(struct gpiod_chip *chip, unsigned int offset, const char *consumer,
                                        int output, int level, int *error);

/* Drives an output line: 0, or -errno. */
int cleave_gpiod_set_value(struct gpiod_line *line, int value);

/* Reads one pending event of `line`: 1 rising, 2 falling (GPIOD_LINE_EVENT_*),
 * or -errno. Blocks when none is pending: call it after poll(2) says so. */
int cleave_gpiod_read_event(struct gpiod_line *line);

#endif
