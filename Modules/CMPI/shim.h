// Open MPI's C API (mpi.h; include and library paths from `pkg-config ompi-c`).
// Its handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, …) are macros Swift cannot
// import; the CMPIShim target returns them from functions.
#include <mpi.h>
