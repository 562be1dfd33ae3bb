// Package dist runs effv2vk as one rank of a data-parallel job on Open MPI;
// it is the only package that talks to MPI.
//
// A Comm is a process's place in the job: Rank, Size, LocalRank (its rank on
// its machine, which picks the machine's device), and the collectives the
// training loop needs on host buffers: SumFloat32 and SumFloat64
// (MPI_Allreduce in place, split into calls of at most 2^31-1 elements),
// MaxFloat64, BroadcastFloat32, BroadcastBytes, Barrier, IdleBarrier (a
// barrier that sleeps between polls, for ranks waiting on a device another
// rank uses), AllStrings, Agree.
//
// Open MPI is not linked: when the process was launched by mpirun
// (OMPI_COMM_WORLD_SIZE is set), Join loads libmpi.so.40 with dlopen and
// initializes MPI; otherwise Join returns a single-process Comm whose
// collectives return at once and MPI is never loaded. So effv2vk builds
// and starts without Open MPI installed; only `mpirun -np N effv2vk ...`
// needs it (Debian: openmpi-bin). The MPI handles are Open MPI's predefined
// globals, looked up by name: another MPI implementation (MPICH) is not
// supported.
//
// MPI is initialized with MPI_THREAD_FUNNELED: every MPI call is made from
// one goroutine locked to its OS thread, and the Comm's methods hand their
// work to it, so they may be called from any goroutine (one at a time).
package dist
