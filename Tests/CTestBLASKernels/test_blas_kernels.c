// The test process on the OpenBLAS kernels the package's executables run on.
//
// Every executable calls BLASKernelChoice.relaunchOnFittingKernels() first in
// main: on a CPU OpenBLAS does not know it runs again on fitting kernels
// instead of the generic Prescott ones. The test process has no main of ours,
// so this constructor (run when the test binary loads, after OpenBLAS chose)
// does the same. Without it the tests would run on other kernels than the
// programs they start, and a finite-difference check sized for the rounding of
// real kernels can miss on Prescott's.
#include "ranker_kernels.h"
#include "test_blas_kernels.h"

// glibc passes (argc, argv, envp) to the functions of .init_array.
__attribute__((constructor)) static void ranker_test_process_on_fitting_kernels(int argc, char **argv, char **envp) {
    (void)argc;
    (void)envp;
    ranker_openblas_relaunch_on_fitting_kernels(argv);
}
