#include "cmpi_shim.h"

MPI_Comm cmpi_comm_world(void) { return MPI_COMM_WORLD; }
MPI_Datatype cmpi_float(void) { return MPI_FLOAT; }
MPI_Datatype cmpi_double(void) { return MPI_DOUBLE; }
MPI_Datatype cmpi_int32(void) { return MPI_INT32_T; }
MPI_Datatype cmpi_uint64(void) { return MPI_UINT64_T; }
MPI_Datatype cmpi_byte(void) { return MPI_BYTE; }
MPI_Op cmpi_sum(void) { return MPI_SUM; }
MPI_Errhandler cmpi_errors_return(void) { return MPI_ERRORS_RETURN; }
void *cmpi_in_place(void) { return MPI_IN_PLACE; }
