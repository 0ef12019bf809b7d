// Functions returning the Open MPI handles that mpi.h defines as macros over
// addresses of library globals (which Swift's importer cannot see).
#ifndef CMPI_SHIM_H
#define CMPI_SHIM_H
#include <mpi.h>

MPI_Comm cmpi_comm_world(void);
MPI_Datatype cmpi_float(void);
MPI_Datatype cmpi_double(void);
MPI_Datatype cmpi_int32(void);
MPI_Datatype cmpi_uint64(void);
MPI_Datatype cmpi_byte(void);
MPI_Op cmpi_sum(void);
MPI_Errhandler cmpi_errors_return(void);
/// MPI_IN_PLACE, the send buffer of an in-place collective.
void *cmpi_in_place(void);
#endif
