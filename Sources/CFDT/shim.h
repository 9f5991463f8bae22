// Thin shims for the parts of libfdt that Swift cannot import: macros that
// read header fields, and setprop helpers defined as macros. No logic here.
#ifndef CLEAVE_CFDT_SHIM_H
#define CLEAVE_CFDT_SHIM_H

#include <libfdt.h>

static inline uint32_t cleave_fdt_totalsize(const void *fdt) { return fdt_totalsize(fdt); }
static inline uint32_t cleave_fdt_magic(const void *fdt) { return fdt_magic(fdt); }
static inline uint32_t cleave_fdt_version(const void *fdt) { return fdt_version(fdt); }
static inline uint32_t cleave_fdt_size_dt_struct(const void *fdt) { return fdt_size_dt_struct(fdt); }
static inline uint32_t cleave_fdt_size_dt_strings(const void *fdt) { return fdt_size_dt_strings(fdt); }
static inline uint32_t cleave_fdt_boot_cpuid_phys(const void *fdt) { return fdt_boot_cpuid_phys(fdt); }
static inline void cleave_fdt_set_boot_cpuid_phys(void *fdt, uint32_t value) { fdt_set_boot_cpuid_phys(fdt, value); }
static inline int cleave_fdt_header_size(const void *fdt) { return (int)fdt_header_size(fdt); }

/// The first property of a node, as fdt_for_each_property_offset starts it.
static inline int cleave_fdt_first_property(const void *fdt, int node) { return fdt_first_property_offset(fdt, node); }
static inline int cleave_fdt_next_property(const void *fdt, int prop) { return fdt_next_property_offset(fdt, prop); }

static inline int cleave_fdt_property_u32(void *fdt, int node, const char *name, uint32_t value) {
    return fdt_setprop_u32(fdt, node, name, value);
}
static inline int cleave_fdt_property_string_sw(void *fdt, const char *name, const char *value) {
    return fdt_property_string(fdt, name, value);
}
static inline int cleave_fdt_property_u32_sw(void *fdt, const char *name, uint32_t value) {
    return fdt_property_u32(fdt, name, value);
}

#endif
