// /dev/cleave-forward (Kernel/cleave-forward, docs/kernel-facts.md §24): the
// module's own uapi header, and its ioctl request numbers as constants (the
// _IO* macros cannot be imported by Swift). No logic.
#ifndef CLEAVE_CLINUX_FORWARD_H
#define CLEAVE_CLINUX_FORWARD_H

#include "../../../Kernel/cleave-forward/cleave-forward.h"

static const unsigned long CLEAVE_FORWARD_IRQ_INFO_REQUEST = CLEAVE_FORWARD_IRQ_INFO;
static const unsigned long CLEAVE_FORWARD_SPI_REQUEST = CLEAVE_FORWARD_SPI;
static const unsigned long CLEAVE_FORWARD_STATUS_REQUEST = CLEAVE_FORWARD_STATUS;
static const unsigned long CLEAVE_FORWARD_RAISE_REQUEST = CLEAVE_FORWARD_RAISE;

#endif
