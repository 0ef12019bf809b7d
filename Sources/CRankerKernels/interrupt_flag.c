// The Ctrl-C flag of training (Sources/Ranker/Training/InterruptSignal.swift); see
// include/ranker_kernels.h. A C11 atomic: the signal handler writes it, the training threads read
// it, and two trainers in one process (data-parallel replicas on threads) clear it at the same
// time; a plain Swift global there is a data race (ThreadSanitizer reported it).
#include "ranker_kernels.h"

#include <signal.h>
#include <stdatomic.h>

static atomic_int interrupt_requested;

static void ranker_interrupt_handler(int signal_number) {
    atomic_store_explicit(&interrupt_requested, 1, memory_order_relaxed);
    signal(signal_number, SIG_DFL);  // a second Ctrl-C ends the process
}

void *ranker_interrupt_install(void) {
    atomic_store_explicit(&interrupt_requested, 0, memory_order_relaxed);
    return (void *)signal(SIGINT, ranker_interrupt_handler);
}

void ranker_interrupt_restore(void *previous) {
    signal(SIGINT, (void (*)(int))previous);
}

int ranker_interrupt_requested(void) {
    return atomic_load_explicit(&interrupt_requested, memory_order_relaxed);
}
