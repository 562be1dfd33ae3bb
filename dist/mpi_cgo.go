package dist

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

// Open MPI is loaded at run time with dlopen, so that effv2vk builds and
// starts without it. Its handles (MPI_Comm, MPI_Datatype, MPI_Op, MPI_Info)
// are pointers to library globals (mpi.h: OMPI_PREDEFINED_GLOBAL); they are
// looked up by name with dlsym. The enum values below are Open MPI's
// (mpi.h, 4.x): MPI_THREAD_FUNNELED = 1, MPI_COMM_TYPE_SHARED = 0.
enum { effv2vk_thread_funneled = 1, effv2vk_comm_type_shared = 0 };

typedef void *handle;

static void *lib;
static handle comm_world, info_null, type_float, type_double, type_byte, op_sum, op_max;
static int (*p_init_thread)(int *, char ***, int, int *);
static int (*p_finalize)(void);
static int (*p_comm_rank)(handle, int *);
static int (*p_comm_size)(handle, int *);
static int (*p_comm_split_type)(handle, int, int, handle, handle *);
static int (*p_allreduce)(const void *, void *, int, handle, handle, handle);
static int (*p_bcast)(void *, int, handle, int, handle);
static int (*p_barrier)(handle);
static int (*p_ibarrier)(handle, handle *);
static int (*p_test)(handle *, int *, void *);
static int (*p_abort)(handle, int);

// effv2vk_mpi_load opens libmpi and resolves every symbol; on failure it
// returns a static message naming what is missing.
static const char *effv2vk_mpi_load(const char *path) {
	lib = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
	if (!lib) return dlerror();
#define SYM(var, name) if (!(*(void **)&var = dlsym(lib, name))) return "symbol " name " not found in libmpi";
	SYM(p_init_thread, "MPI_Init_thread")
	SYM(p_finalize, "MPI_Finalize")
	SYM(p_comm_rank, "MPI_Comm_rank")
	SYM(p_comm_size, "MPI_Comm_size")
	SYM(p_comm_split_type, "MPI_Comm_split_type")
	SYM(p_allreduce, "MPI_Allreduce")
	SYM(p_bcast, "MPI_Bcast")
	SYM(p_barrier, "MPI_Barrier")
	SYM(p_ibarrier, "MPI_Ibarrier")
	SYM(p_test, "MPI_Test")
	SYM(p_abort, "MPI_Abort")
	SYM(comm_world, "ompi_mpi_comm_world")
	SYM(info_null, "ompi_mpi_info_null")
	SYM(type_float, "ompi_mpi_float")
	SYM(type_double, "ompi_mpi_double")
	SYM(type_byte, "ompi_mpi_byte")
	SYM(op_sum, "ompi_mpi_op_sum")
	SYM(op_max, "ompi_mpi_op_max")
#undef SYM
	return 0;
}

static int effv2vk_mpi_init(int *provided) {
	return p_init_thread(0, 0, effv2vk_thread_funneled, provided);
}
static int effv2vk_mpi_finalize(void) { return p_finalize(); }
static int effv2vk_mpi_rank(handle comm, int *r) { return p_comm_rank(comm, r); }
static int effv2vk_mpi_size(handle comm, int *n) { return p_comm_size(comm, n); }
static handle effv2vk_mpi_world(void) { return comm_world; }

// effv2vk_mpi_node_comm splits the world into the ranks sharing this node.
static int effv2vk_mpi_node_comm(handle *node) {
	return p_comm_split_type(comm_world, effv2vk_comm_type_shared, 0, info_null, node);
}

// kinds: 0 float32, 1 float64, 2 bytes. ops: 0 sum, 1 max.
static handle effv2vk_type(int kind) {
	return kind == 0 ? type_float : kind == 1 ? type_double : type_byte;
}

// effv2vk_mpi_allreduce reduces buf in place (MPI_IN_PLACE is (void *)1).
static int effv2vk_mpi_allreduce(void *buf, int count, int kind, int op) {
	return p_allreduce((void *)1, buf, count, effv2vk_type(kind), op == 0 ? op_sum : op_max, comm_world);
}
static int effv2vk_mpi_bcast(void *buf, int count, int kind, int root) {
	return p_bcast(buf, count, effv2vk_type(kind), root, comm_world);
}
static int effv2vk_mpi_barrier(void) { return p_barrier(comm_world); }
static int effv2vk_mpi_ibarrier(handle *req) { return p_ibarrier(comm_world, req); }
// effv2vk_mpi_test sets *done when req completed (MPI_STATUS_IGNORE is 0).
static int effv2vk_mpi_test(handle *req, int *done) { return p_test(req, done, 0); }
static int effv2vk_mpi_abort(int code) { return p_abort(comm_world, code); }
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// libmpiNames are the sonames tried, in order: Open MPI 4.x and 5.x ship
// libmpi.so.40; the unversioned name comes with libopenmpi-dev.
var libmpiNames = []string{"libmpi.so.40", "libmpi.so"}

// kind is the element type of a buffer handed to MPI.
type kind C.int

const (
	kindFloat32 kind = 0
	kindFloat64 kind = 1
	kindBytes   kind = 2
)

// reduction is an MPI reduction operator.
type reduction C.int

const (
	opSum reduction = 0
	opMax reduction = 1
)

// mpiLoad opens libmpi. Call it on the MPI thread.
func mpiLoad() error {
	var msgs []string
	for _, name := range libmpiNames {
		cname := C.CString(name)
		msg := C.effv2vk_mpi_load(cname)
		C.free(unsafe.Pointer(cname))
		if msg == nil {
			return nil
		}
		msgs = append(msgs, C.GoString(msg))
	}
	return fmt.Errorf("dist: launched by mpirun but Open MPI's library cannot be loaded (%v): install it (Debian: apt-get install openmpi-bin) or run without mpirun", msgs)
}

// mpiInit initializes MPI with MPI_THREAD_FUNNELED and returns the world
// rank and size and the node-local rank and size.
func mpiInit() (rank, size, localRank, localSize int, err error) {
	var provided C.int
	if rc := C.effv2vk_mpi_init(&provided); rc != 0 {
		return 0, 0, 0, 0, fmt.Errorf("dist: MPI_Init_thread failed (code %d)", int(rc))
	}
	if provided < C.effv2vk_thread_funneled {
		return 0, 0, 0, 0, fmt.Errorf("dist: Open MPI gives thread level %d, effv2vk needs MPI_THREAD_FUNNELED", int(provided))
	}
	var r, n, lr, ln C.int
	world := C.effv2vk_mpi_world()
	if rc := C.effv2vk_mpi_rank(world, &r); rc != 0 {
		return 0, 0, 0, 0, fmt.Errorf("dist: MPI_Comm_rank failed (code %d)", int(rc))
	}
	if rc := C.effv2vk_mpi_size(world, &n); rc != 0 {
		return 0, 0, 0, 0, fmt.Errorf("dist: MPI_Comm_size failed (code %d)", int(rc))
	}
	var node C.handle
	if rc := C.effv2vk_mpi_node_comm(&node); rc != 0 {
		return 0, 0, 0, 0, fmt.Errorf("dist: MPI_Comm_split_type failed (code %d)", int(rc))
	}
	if rc := C.effv2vk_mpi_rank(node, &lr); rc != 0 {
		return 0, 0, 0, 0, fmt.Errorf("dist: MPI_Comm_rank of the node failed (code %d)", int(rc))
	}
	if rc := C.effv2vk_mpi_size(node, &ln); rc != 0 {
		return 0, 0, 0, 0, fmt.Errorf("dist: MPI_Comm_size of the node failed (code %d)", int(rc))
	}
	return int(r), int(n), int(lr), int(ln), nil
}

// mpiAllReduce reduces count elements at p in place across all ranks.
func mpiAllReduce(p unsafe.Pointer, count int, k kind, op reduction) error {
	if rc := C.effv2vk_mpi_allreduce(p, C.int(count), C.int(k), C.int(op)); rc != 0 {
		return fmt.Errorf("dist: MPI_Allreduce of %d elements failed (code %d)", count, int(rc))
	}
	return nil
}

// mpiBroadcast copies count elements at p from root to every rank.
func mpiBroadcast(p unsafe.Pointer, count int, k kind, root int) error {
	if rc := C.effv2vk_mpi_bcast(p, C.int(count), C.int(k), C.int(root)); rc != 0 {
		return fmt.Errorf("dist: MPI_Bcast of %d elements failed (code %d)", count, int(rc))
	}
	return nil
}

func mpiBarrier() error {
	if rc := C.effv2vk_mpi_barrier(); rc != 0 {
		return fmt.Errorf("dist: MPI_Barrier failed (code %d)", int(rc))
	}
	return nil
}

// barrierRequest is a barrier begun with mpiIbarrier, to be polled with
// mpiTest on the MPI thread.
type barrierRequest struct{ req C.handle }

func mpiIbarrier() (*barrierRequest, error) {
	b := &barrierRequest{}
	if rc := C.effv2vk_mpi_ibarrier(&b.req); rc != 0 {
		return nil, fmt.Errorf("dist: MPI_Ibarrier failed (code %d)", int(rc))
	}
	return b, nil
}

// mpiTest reports whether every rank has entered b's barrier.
func mpiTest(b *barrierRequest) (bool, error) {
	var done C.int
	if rc := C.effv2vk_mpi_test(&b.req, &done); rc != 0 {
		return false, fmt.Errorf("dist: MPI_Test of a barrier failed (code %d)", int(rc))
	}
	return done != 0, nil
}

func mpiFinalize() error {
	if rc := C.effv2vk_mpi_finalize(); rc != 0 {
		return fmt.Errorf("dist: MPI_Finalize failed (code %d)", int(rc))
	}
	return nil
}

func mpiAbort(code int) { C.effv2vk_mpi_abort(C.int(code)) }
