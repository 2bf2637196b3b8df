/* SPDX-License-Identifier: MIT */
/*
 * core/fault.h - the SIGSEGV handler that reports faults on kmem's guard
 * pages (fault.c).
 */
#ifndef KMEM_FAULT_H
#define KMEM_FAULT_H

#include "internal.h"

/* Install the handler if KMEM_FAULT_REPORT and SIGSEGV is not taken. */
void fault_init(void) __hidden;
/* Is it installed now (statistics, tests)? */
bool fault_handler_installed(void) __hidden;

#endif /* KMEM_FAULT_H */
