/* SPDX-License-Identifier: MIT */
/*
 * core/sampler.h - the allocation countdown's policy: contract of
 * sampler.c with percpu.c.
 *
 * Every CPU region (and every thread without one) has a struct
 * pcpu_sampler (percpu.h) whose `left` the malloc fast path decrements by
 * the size asked.  When it goes below zero the slow path calls
 * sampler_due(), which works out which of the three events counted in it
 * came due (a guard sample, KMEM_SAMPLE; a heap-profile sample, KMEM_PROF;
 * the allocation paths' maintenance tick) and arms the countdown with the
 * nearest next one.
 */
#ifndef KMEM_SAMPLER_H
#define KMEM_SAMPLER_H

#include "percpu.h"

/* Read KMEM_SAMPLE (off under memcheck unless it is set); once, from
 * percpu_setup, before any countdown is armed. */
void sampler_setup(void) __hidden;

/* Arm a countdown that has never run. */
void sampler_init(struct pcpu_sampler *sm) __hidden;

/* sm's countdown ran out (or was never armed): the PCPU_DUE_* events now
 * due, 0 if none; arms it again.  Racy between threads on one CPU by
 * design: a lost update only moves the next event a little. */
unsigned int sampler_due(struct pcpu_sampler *sm) __hidden;

#endif /* KMEM_SAMPLER_H */
